"""``memory recompute`` and ``lowest`` (DARTS, SNAS): the same step as ``keep`` -- the same
gradients, the same noisy-skip draws and batch-norm running statistics after it -- while far
fewer bytes are saved for backward; ``lowest`` also returns freed memory to the system at once."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from nasc.runtime.progress import Progress
from nasc.runtime.strategies import darts
from nasc.runtime.strategies.darts import Darts
from nasc.runtime.strategies.snas import Snas

from kit.searchkit import BN_CELL, make_ctx

SPACE = BN_CELL + """
search %s {
  epochs 2
  batch 256
  memory %s
%s}
"""


def one_epoch(tmp_path, tiny_data, strategy: str, memory: str, noise: float):
    """The supernet and its epoch row after one epoch from the same seed (DARTS: architecture
    and weight steps with the noisy skip; SNAS: joint steps on Gumbel samples)."""
    ctx = make_ctx(tmp_path / memory, SPACE % (strategy, memory, noise), tiny_data)
    search = (Darts if strategy == "darts" else Snas)(ctx)
    row = search.run_epoch(1, Progress(2, 1, enabled=False))
    return search.net, row


@pytest.fixture
def released(monkeypatch) -> list:
    """Calls of return_freed_memory, which is not let run: it would slow this test process."""
    calls = []
    monkeypatch.setattr(darts, "return_freed_memory", lambda: calls.append(1) or True)
    return calls


@pytest.mark.parametrize("strategy,memory", [("darts", "recompute"), ("snas", "recompute"),
                                             ("darts", "lowest")])
def test_recompute_trains_exactly_as_keep_does(tmp_path, tiny_data, released, strategy, memory):
    noise = "  noisy_skip 0.5\n" if strategy == "darts" else ""
    kept, kept_row = one_epoch(tmp_path, tiny_data, strategy, "keep", noise)
    assert not released
    redone, redone_row = one_epoch(tmp_path, tiny_data, strategy, memory, noise)
    assert len(released) == (memory == "lowest")
    assert any(m.recompute for m in redone.modules() if hasattr(m, "recompute"))
    assert not any(getattr(m, "recompute", False) for m in kept.modules())
    a, b = kept.state_dict(), redone.state_dict()
    assert a.keys() == b.keys()
    for name in a:  # weights, alpha/beta after their optimizers, BN running statistics
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6, msg=name)
    assert kept_row == pytest.approx(redone_row, abs=1e-6)  # losses and validation scores


def saved_bytes(net, batch) -> int:
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = net(batch).sum()
    loss.backward()
    return total


def test_recompute_saves_a_fraction_of_the_activations(tmp_path, tiny_data):
    ctx = make_ctx(tmp_path, SPACE % ("darts", "keep", ""), tiny_data)
    net = Darts(ctx).net.train()
    batch = next(iter(ctx.dataset.train.batches(256, False)))
    keep = saved_bytes(net, batch)
    net.set_recompute(True)
    recompute = saved_bytes(net, batch)
    assert recompute < keep / 3, (keep, recompute)


RELEASE = textwrap.dedent("""
    import sys, torch
    from nasc.runtime.memory import return_freed_memory

    def rss_mb():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

    if sys.argv[1] == "lowest":
        assert return_freed_memory()
    big = torch.ones(4 * 2 ** 20)  # 16 MB, mapped; freeing it raises glibc's thresholds
    del big
    base = rss_mb()
    blocks = [torch.ones(2 ** 17) for _ in range(100)]  # 100 blocks of 512 KB
    held = rss_mb() - base
    del blocks
    print(held, rss_mb() - base)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; glibc's allocator")
def test_lowest_gives_freed_memory_back_to_the_system():
    """glibc keeps freed blocks below its (adaptive) thresholds for reuse; after
    return_freed_memory the resident size falls back when tensors are freed."""
    def held_and_kept(memory: str) -> tuple[float, float]:
        out = subprocess.run([sys.executable, "-c", RELEASE, memory], check=True,
                             capture_output=True, text=True).stdout.split()
        return float(out[0]), float(out[1])

    held, kept = held_and_kept("keep")
    assert held > 40 and kept > held / 4, (held, kept)  # what the default allocator keeps
    held, kept = held_and_kept("lowest")
    assert held > 40 and kept < held / 10, (held, kept)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_noisy_skip_draws_on_the_device(tmp_path, tiny_data, monkeypatch):
    """Issue 17: a CPU generator made every skip of every step copy its noise to the GPU."""
    from nasc.runtime.ops import Skip

    ctx = make_ctx(tmp_path, SPACE % ("darts", "recompute", "  noisy_skip 0.5\n"), tiny_data)
    ctx.device = torch.device("cuda")
    search = Darts(ctx)
    copies = []
    real = torch.Tensor.to

    def counting(self, *args, **kwargs):
        if self.device.type == "cpu" and any("cuda" in str(a) for a in args):
            copies.append(self.shape)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", counting)
    search.run_epoch(1, Progress(2, 1, enabled=False))
    assert any(isinstance(m, Skip) for m in search.net.modules())
    assert not [s for s in copies if len(s) == 3], copies  # no (B, m, k) noise from the host
