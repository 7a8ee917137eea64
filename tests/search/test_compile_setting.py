"""`compile` (nasc.runtime.compiling): DARTS' and SNAS' training steps through torch.compile
train as the eager steps do, compile once for the whole search (tau and the per-epoch
generators change nothing the compiled graph is guarded on), and report their compile seconds;
`auto` compiles on an accelerator only.

The tests compile with the "aot_eager" backend: the same tracing, graph and autograd as
inductor without its C++ build, which on a 2-core machine takes minutes."""
from __future__ import annotations

import pytest
import torch

from nasc.runtime import compiling
from nasc.runtime.progress import Progress
from nasc.runtime.strategies.darts import Darts
from nasc.runtime.strategies.snas import Snas

from kit.searchkit import make_ctx

SPACE = """model m {
  input fields: categorical
  emb = embed(fields, dim=8)
  opset ops = { skip, slp, fm }
  cell c(emb) {
    nodes 2
    edges ops
    keep 1
    merge sum
    norm batchnorm(affine=false)
  }
  head ctr(flatten(c))
}
search %s {
  epochs 2
  batch 512
  compile %s
%s}
"""


def two_epochs(tmp_path, data, strategy: str, compile_setting: str, extra: str = "",
               device: str = "cpu"):
    ctx = make_ctx(tmp_path / compile_setting, SPACE % (strategy, compile_setting, extra), data)
    ctx.device = torch.device(device)
    search = (Darts if strategy == "darts" else Snas)(ctx)
    rows, seconds = [], []
    for epoch in (1, 2):
        rows.append(search.run_epoch(epoch, Progress(2, 1, enabled=False)))
        seconds.append(search.clock.record()["compile_seconds"])
    return search, rows, seconds


def test_auto_compiles_on_an_accelerator_only():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert not compiling.wants_compile("auto", cpu) and compiling.wants_compile("auto", cuda)
    assert compiling.wants_compile("on", cpu) and not compiling.wants_compile("off", cuda)
    # CUDA graphs only when asked for, and where there are some
    assert not compiling.wants_graphs("auto", cuda) and compiling.wants_compile("graphs", cpu)
    loss = lambda batch: batch  # noqa: E731
    assert compiling.training_loss(loss, "auto", cpu) is loss
    assert compiling.training_loss(loss, "on", cpu) is not loss
    with pytest.raises(ValueError, match="unknown setting 'fast'"):
        compiling.wants_compile("fast", cpu)


def test_compiled_darts_trains_as_eager_and_compiles_once(tmp_path, tiny_data, traced_only):
    # noisy_skip 0: a compiled step draws the skip noise from another generator than eager
    eager, eager_rows, eager_seconds = two_epochs(tmp_path, tiny_data, "darts", "off",
                                                  "  noisy_skip 0\n")
    compiled, rows, seconds = two_epochs(tmp_path, tiny_data, "darts", "on", "  noisy_skip 0\n")
    assert eager_seconds == [0.0, 0.0] and not eager.clock.record()["compiled"]
    # the first epoch compiled (the full batch and the ragged last one); the second, with a new
    # tau and new generators, compiled nothing more
    assert seconds[0] > 0 and seconds[1] == seconds[0]
    a, b = eager.net.state_dict(), compiled.net.state_dict()
    assert a.keys() == b.keys()
    for name in a:  # weights, alpha/beta, running statistics after two epochs
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5, msg=name)
    for row, eager_row in zip(rows, eager_rows):
        assert row == pytest.approx(eager_row, abs=1e-5)


def test_compiled_snas_and_noisy_darts_compile_once(tmp_path, tiny_data, traced_only):
    """With draws inside the step (Gumbel samples, the noisy skip) a compiled step takes them
    from the global generator, seeded per epoch: no graph breaks, no compile after epoch 1."""
    for strategy, extra in (("snas", ""), ("darts", "  noisy_skip 0.5\n")):
        torch._dynamo.reset()
        torch._dynamo.utils.counters.clear()
        search, rows, seconds = two_epochs(tmp_path / strategy, tiny_data, strategy, "on", extra)
        assert seconds[0] > 0 and seconds[1] == seconds[0], strategy
        assert all(0 < r["train_logloss"] < 1 for r in rows), rows
        assert not torch._dynamo.utils.counters["graph_break"], strategy


def test_inductor_draws_random_numbers_through_aten(monkeypatch):
    """With inductor the step's random draws fall back to ATen's generators: inductor's own
    made the noisy AutoPI step 2x slower than eager on the CPU (search_speed.json)."""
    calls = []
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: calls.append(kw) or fn)
    compiling.training_loss(lambda batch: batch, "on", torch.device("cpu"))
    compiling.training_loss(lambda batch: batch, "graphs", torch.device("cpu"))
    compiling.training_loss(lambda batch: batch, "graphs", torch.device("cuda"))
    off, on = ({"backend": "inductor", "options": {"fallback_random": True,
                                                  "triton.cudagraphs": graphs}}
               for graphs in (False, True))
    assert calls == [off, off, on]  # graphs: what torch.compile's "reduce-overhead" sets


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_darts_steps_replay_as_cuda_graphs_and_train_as_eager(tmp_path, tiny_data):
    """`compile graphs` on CUDA with inductor itself: both levels' steps of both batch shapes
    replayed as CUDA graphs (none skipped), two epochs ending where eager steps end."""
    torch._dynamo.reset()
    eager, eager_rows, _ = two_epochs(tmp_path, tiny_data, "darts", "off", "  noisy_skip 0\n",
                                      device="cuda")
    graphed, rows, seconds = two_epochs(tmp_path, tiny_data, "darts", "graphs",
                                        "  noisy_skip 0\n", device="cuda")
    record = graphed.clock.record()
    torch._dynamo.reset()
    assert record["cuda_graphs"] and record["cuda_graph_skips"] == 0, record
    assert seconds[1] == seconds[0] > 0  # nothing compiled again in epoch 2
    a, b = eager.net.state_dict(), graphed.net.state_dict()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-3, atol=1e-4, msg=name)
    for row, eager_row in zip(rows, eager_rows):
        assert row == pytest.approx(eager_row, abs=1e-4)
