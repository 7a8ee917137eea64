"""AMEIR's one-shot random search: end to end on a reduced AMEIR space, fairness of the sampling,
deterministic ranking, the step-2 candidate sets, the stand-ins of later stages, resume."""
from __future__ import annotations

import collections
import itertools
import json
from pathlib import Path

import pytest
import torch

from nasc.compiler.frontend import compile_text, load
from nasc.compiler.space import choices
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.commands.search import search_spec
from nasc.runtime.commands.train import train_spec
from nasc.runtime.strategies import interaction_oneshot, oneshot, stages
from nasc.runtime.strategies.common import build_supernet, generator

from kit.ameirkit import MINI_AMEIR, make_context


def _dataset(n=2000, seed=3):
    return make_synthetic(seed=seed, n=n, with_sequence=True, max_len=20)


def test_end_to_end_search_then_train(tmp_path, one_thread):
    spec = tmp_path / "mini.nas"
    spec.write_text(MINI_AMEIR)
    message, run = search_spec(str(spec), out=str(tmp_path / "run"), quiet=True,
                               synthetic_rows=3000)
    arch = run.file("arch.nas")
    _, _, program = load(str(arch))
    assert choices(program) == []                       # nothing left to choose
    assert program.strategy is None
    text = arch.read_text()
    assert "# stages:" in text and "# cross_found:" in text
    assert run.file("inherited.pt").exists()             # finetune inherit
    summary = run.read_json("summary.json")
    labels = {c.label for c in choices(compile_text(MINI_AMEIR, "mini.nas")[1])}
    assert set(summary["choices"]) == labels
    # `nasc train` on the found architecture, and the --retrain path from the inherited weights
    out = train_spec(str(arch), out=str(tmp_path / "train"), epochs=1, quiet=True)
    assert "test AUC" in out
    out = train_spec(str(arch), out=str(tmp_path / "retrain"), epochs=1, quiet=True,
                     init=str(run.file("inherited.pt")))
    assert "test AUC" in out


def test_inherited_weights_match_the_supernet(tmp_path, one_thread):
    """The derived model starts from the one-shot weights: same predictions as the fixed path."""
    ctx = make_context(MINI_AMEIR, _dataset(), tmp_path)
    search = oneshot.OneShot(ctx)
    assignment = search.run()
    model = oneshot.inherited_model(ctx, search.net, assignment)
    batch = next(ctx.dataset.valid.batches(64))
    search.net.eval()
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(batch), search.net(batch), rtol=1e-4, atol=1e-5)


STEP2_ONLY = """
model step2_only {
  input fields: categorical
  emb = embed(fields, dim=4)
  interactions cross(emb) {
    cycles 1
    survivors 4
    keep 2
  }
  mlp agg(concat(flatten(emb), flatten(cross))) {
    layers 1
    width 16
  }
  head ctr(agg)
}
search oneshot_random {
  batch 512
  epochs 1
  valid_subset 300
  finetune inherit
  stage cross {
    fixed_mlp [16]
  }
}
train {
  optimizer adam(lr=0.01)
}
"""


def test_step_2_alone_has_no_weights_to_inherit(tmp_path, one_thread):
    """Step 2 trains its own one-shot model, so a search of Step 2 alone (AMEIR-B) leaves the
    supernet untrained: no inherited.pt (a stale one is removed), and the run says why."""
    ctx = make_context(STEP2_ONLY, make_synthetic(seed=3, n=2000, num_fields=4, vocab=6,
                                                    planted=((0, 1),)),
                       tmp_path)
    ctx.run.file("inherited.pt").write_bytes(b"an earlier run's weights")
    oneshot.search(ctx)
    assert not ctx.run.file("inherited.pt").exists()
    assert ctx.record["finetune"] == "scratch" and "interactions" in ctx.record["finetune_why"]
    # with a stage that trains the supernet the weights are inherited (MINI_AMEIR above)
    assert "inherited" not in ctx.record


def test_sampling_is_fair(tmp_path):
    """Over many steps every option of a choice is drawn about equally often."""
    ctx = make_context(MINI_AMEIR, _dataset(400), tmp_path)
    net = build_supernet(ctx)
    labels = ["behavior.block1.layer", "behavior.block1.norm", "behavior.block2.act"]
    gen = generator(1, 2, 3)
    counts = {label: collections.Counter() for label in labels}
    draws = 4000
    for _ in range(draws):
        path = net.sample(gen, labels)
        for label in labels:
            counts[label][path[label]] += 1
    modules = net.choice_modules()
    for label in labels:
        options = modules[label].options
        assert set(counts[label]) == set(options)
        expected = draws / len(options)
        for option in options:  # binomial sd <= sqrt(draws / 4) = 32; allow ~4.5 sd
            assert abs(counts[label][option] - expected) < 150, (label, counts[label])


def test_monotone_widths_never_increase(tmp_path):
    ctx = make_context(MINI_AMEIR, _dataset(400), tmp_path)
    net = build_supernet(ctx)
    labels = ["aggregate.layer1.width", "aggregate.layer2.width"]
    gen = generator(5)
    seen = set()
    for _ in range(300):
        path = net.sample(gen, labels)
        w1, w2 = path[labels[0]], path[labels[1]]
        assert w2 <= w1
        seen.add((w1, w2))
    assert len(seen) == 6  # every non-increasing pair of {0.25, 0.5, 1.0}


def test_ranking_is_deterministic(tmp_path, one_thread):
    """Same seed, same trained weights -> the same ranking of children and of interactions."""
    ctx = make_context(MINI_AMEIR, _dataset(), tmp_path)
    search = oneshot.OneShot(ctx)
    stage = search.stages[0]
    swaps = search.hold(0)
    try:
        search.train_supernet(0, stage)
        first = search.rank_children(0, stage)
        second = search.rank_children(0, stage)
    finally:
        swaps.restore()
    assert first == second
    model = interaction_oneshot.InteractionOneShot([f.vocab_size for f in ctx.dataset.schema.fields], 4,
                                       (16, 8))
    model.set_candidates(interaction_oneshot.expand([(f,) for f in range(8)], 8, 3), generator(0))
    assert search.rank_interactions(model) == search.rank_interactions(model)


def test_expand_candidates():
    fields = [(f,) for f in range(4)]
    pairs = interaction_oneshot.expand(fields, 4, 3)
    assert pairs == list(itertools.combinations(range(4), 2))
    nxt = interaction_oneshot.expand([(0, 1), (2, 3)], 4, 3)
    # the survivors stay; each grows by every field not in it; duplicates merged
    assert nxt == [(0, 1), (2, 3), (0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)]
    assert interaction_oneshot.expand([(0, 1, 2)], 4, 3) == [(0, 1, 2)]  # order capped


def test_stage_plan_and_stand_ins(tmp_path):
    ctx = make_context(MINI_AMEIR, _dataset(400), tmp_path)
    search = oneshot.OneShot(ctx)
    assert [(s.name, s.fixed_mlp) for s in search.stages] == [
        ("behavior", (32, 16)), ("cross", (32, 16)), ("aggregate", None)]
    assert search.stages[2].epochs == 1 and search.stages[2].children == 12
    swaps = search.hold(0)
    try:
        # the later MLP is the stage's fixed MLP, the later interactions contribute zeros
        assert isinstance(search.net.aggregate_layer1, stages.FixedMLP)
        assert [m.out_features for m in search.net.aggregate_layer1.hidden
                if isinstance(m, torch.nn.Linear)] == [32, 16]
        assert isinstance(search.net.cross, stages.AbsentInteractions)
        batch = next(ctx.dataset.train.batches(8))
        assert search.net(batch).shape == (8,)
    finally:
        swaps.restore()
    assert not isinstance(search.net.aggregate_layer1, stages.FixedMLP)


def test_resume_ends_like_an_uninterrupted_run(tmp_path, one_thread):
    data = _dataset()
    full = oneshot.OneShot(make_context(MINI_AMEIR, data, tmp_path / "a")).run()
    # interrupt after stage 1: keep the checkpoint of that point, then resume
    ctx = make_context(MINI_AMEIR, data, tmp_path / "b")
    first = oneshot.OneShot(ctx)

    def interrupt(*args):
        raise KeyboardInterrupt

    first.interactions_stage = interrupt  # stop when stage 2 starts
    with pytest.raises(KeyboardInterrupt):
        first.run()
    resumed = oneshot.OneShot(make_context(MINI_AMEIR, data, tmp_path / "b", resume=True)).run()
    assert resumed == full


def test_candidate_projection_is_the_first_layer_over_the_concatenation():
    """AMEIR §2.3 Step 2: W [e, p_c] = W_e e + W_c p_c. The one-shot model adds the sampled
    candidate's projection to the first hidden layer; the result must equal one linear layer over
    [flatten(E), p_c] whose weight is [W_e, W_c^T], p_c the Hadamard product of the candidate's
    (per-field RMS-normalised) embeddings, computed here by hand."""
    torch.manual_seed(0)
    model = interaction_oneshot.InteractionOneShot([5, 6, 7], 4, (3,))
    model.set_candidates([(0, 2), (0, 1, 2)], generator(1))
    ids = torch.tensor([[0, 1, 2], [4, 5, 6], [1, 0, 3]])
    e = model.emb(ids).detach()                                    # (B, 3, 4)
    rms = e.pow(2).mean(dim=(0, 2), keepdim=True).sqrt()           # (1, 3, 1)
    n = e / rms
    for c, fields in enumerate(model.candidates):
        p = n[:, fields[0]]
        for f in fields[1:]:
            p = p * n[:, f]                                        # (B, 4)
        weight = torch.cat([model.first.weight, model.bank[c].T], dim=1)  # (h1, 3*4 + 4)
        z = torch.cat([e.flatten(1), p], dim=1) @ weight.T + model.first.bias
        expected = model.out(model.rest(z)).squeeze(-1)
        torch.testing.assert_close(model(ids, c), expected)
        # per-row candidates pick the same rows
        rows = torch.full((3,), c)
        torch.testing.assert_close(model(ids, rows), expected)
    # no candidate: the first layer sees the embeddings alone
    plain = model.out(model.rest(model.first(e.flatten(1)))).squeeze(-1)
    torch.testing.assert_close(model(ids, None), plain)


def successor_log(path: Path, users: int, items: int, seed: int = 0) -> Path:
    """A behaviour log ('user item item ...') whose next item is a fixed permutation of the last."""
    gen = torch.Generator().manual_seed(seed)
    succ = torch.randperm(items, generator=gen) + 1
    lines = []
    for u in range(1, users + 1):
        seq = [int(torch.randint(1, items + 1, (1,), generator=gen))]
        for _ in range(int(torch.randint(5, 10, (1,), generator=gen))):
            seq.append(int(succ[seq[-1] - 1]))
        lines.append(" ".join(map(str, [u, *seq])))
    path.write_text("\n".join(lines) + "\n")
    return path


NEXT_ITEM_SPACE = """
model seq_space {
  input history: sequence(max_len=8)
  seq = embed(history, dim=16)
  blocks behavior(seq) {
    depth 2
    norm { layer_norm, none }
    layer { conv(kernel=3), avg_pool(kernel=3), zero }
    act { relu, identity }
  }
  user = last(behavior)
  head next_item(user) {
    items seq
  }
}

search oneshot_random {
  batch 64
  epochs 3
  children 12
  top 3
  valid_subset 100
}

train {
  optimizer adam(lr=0.01)
  batch 64
  epochs 3
}
"""


def test_next_item_search_ranks_by_ndcg_and_its_derived_model_trains(tmp_path, one_thread):
    """AMEIR-A on a behaviour log: the one-shot stage trains with sampled BCE, ranks children by
    validation NDCG@5, and `nasc search --retrain`'s path fine-tunes the derived model."""
    log = successor_log(tmp_path / "log.txt", users=200, items=60)
    spec = tmp_path / "seq_space.nas"
    spec.write_text(NEXT_ITEM_SPACE)
    message, run = search_spec(str(spec), data=str(log), out=str(tmp_path / "run"), quiet=True)
    summary = run.read_json("summary.json")
    stage = summary["stages"][0]
    assert summary["monitor"] == "NDCG@5"
    assert all("valid_NDCG@5" in r and "valid_HR@5" in r for r in stage["top"])
    best = min(stage["top"], key=lambda r: -r["valid_NDCG@5"])
    assert stage["best_child"] == best["child"]
    assert summary["inherited_valid_NDCG@5"] > 5 / 101  # above chance on the successor rule
    out = train_spec(str(run.file("arch.nas")), data=str(log), out=str(tmp_path / "ft"),
                     quiet=True, init=str(run.file("inherited.pt")))
    assert "HR@5" in out or "hr@5" in out.lower()


CAUSAL_SPACE = NEXT_ITEM_SPACE.replace(
    "layer { conv(kernel=3), avg_pool(kernel=3), zero }",
    "layer { conv(kernel=3, causal=true), gru, causal_attention(heads=2), zero }").replace(
    "  epochs 3\n}\n", "  epochs 3\n  objective seq2seq\n}\n")


def test_a_causal_space_searches_and_its_derived_model_retrains_sequence_to_sequence(
        tmp_path, one_thread):
    """AMEIR-A trained as SASRec (issue 18): the causal layer set is ranked by the last-state
    supernet and the derived arch.nas, which keeps `objective seq2seq`, fine-tunes with it."""
    log = successor_log(tmp_path / "log.txt", users=200, items=60)
    spec = tmp_path / "causal_space.nas"
    spec.write_text(CAUSAL_SPACE)
    assert "objective seq2seq" in spec.read_text()
    _, run = search_spec(str(spec), data=str(log), out=str(tmp_path / "run"), quiet=True)
    summary = run.read_json("summary.json")
    assert (summary["supernet_objective"], summary["retrain_objective"]) == ("last_state",
                                                                            "seq2seq")
    assert "objective seq2seq" in run.file("arch.nas").read_text()
    train_spec(str(run.file("arch.nas")), data=str(log), out=str(tmp_path / "ft"), quiet=True,
               init=str(run.file("inherited.pt")))
    config = json.loads((tmp_path / "ft" / "config.json").read_text())
    assert config["train"]["objective"] == "seq2seq"
    assert "seq2seq sampled BCE" in config["train_protocol"]
    metrics = (tmp_path / "ft" / "metrics.csv").read_text().splitlines()
    assert metrics[0].split(",")[1] == "train_seq2seq_bce" and len(metrics) >= 2


def test_a_supernet_trained_sequence_to_sequence_learns_and_is_seeded(tmp_path, one_thread):
    """`supernet_objective seq2seq`: the supernet trains every position (the per-position loss,
    with its one `last` swapped out for the call), ranks children with the last state, learns
    the successor rule, and two runs from one seed find the same child with the same scores."""
    log = successor_log(tmp_path / "log.txt", users=200, items=60)
    spec = tmp_path / "causal_space.nas"
    spec.write_text(CAUSAL_SPACE.replace("  valid_subset 100\n",
                                         "  valid_subset 100\n  supernet_objective seq2seq\n"))
    runs = [search_spec(str(spec), data=str(log), out=str(tmp_path / f"run{i}"), quiet=True)[1]
            for i in range(2)]
    first, second = (r.read_json("summary.json") for r in runs)
    assert first["supernet_objective"] == "seq2seq"
    # one row per user (200 users, batch 64, 3 epochs), not one per position (last_state: 42)
    assert first["stages"][0]["steps"] == 3 * 4
    assert first["inherited_valid_NDCG@5"] > 2 * 5 / 101  # chance is 5 of 101 candidates
    assert first["choices"] == second["choices"]
    assert first["inherited_valid_NDCG@5"] == second["inherited_valid_NDCG@5"]
    assert first["stages"][0]["train_logloss"] == second["stages"][0]["train_logloss"]


def test_the_supernet_per_position_twin_is_its_last_state_at_the_last_position(tmp_path):
    """The supernet's per-position output (every position through the head) ends, for a
    left-padded row, in the vector the supernet's own forward gives, for any path drawn; and the
    swapped `last` is back in place after the call."""
    from nasc.runtime.ops.pooling import LastPool
    from nasc.runtime.per_position import per_position_model

    from nasc.runtime.data.sequences import load_next_item

    dataset = load_next_item(successor_log(tmp_path / "log.txt", users=30, items=20), max_len=8)
    ctx = make_context(CAUSAL_SPACE, dataset, tmp_path / "run")
    net = build_supernet(ctx).eval()
    twin = per_position_model(net)
    batch = ctx.dataset.valid.columns
    gen = generator(0, 1)
    for _ in range(4):
        net.sample(gen)
        outputs = twin(batch)
        assert outputs.dim() == 3 and outputs.shape[1] == batch["sequence"].shape[1]
        assert torch.allclose(outputs[:, -1], net(batch), atol=1e-5)
    assert sum(isinstance(m, LastPool) for m in net.modules()) == 1


@pytest.mark.parametrize("edit, message", [
    (("gru,", "conv(kernel=3),"), "`supernet_objective seq2seq` needs a causal sequence"),
    (("user = last(behavior)", "user = mean_pool(behavior)"), "is not `last(S)`"),
])
def test_supernet_seq2seq_on_a_space_that_can_look_ahead_is_refused_at_the_setting(
        tmp_path, edit, message):
    from nasc.errors import SpecError

    text = CAUSAL_SPACE.replace("  objective seq2seq\n", "").replace(
        "  valid_subset 100\n", "  valid_subset 100\n  supernet_objective seq2seq\n")
    assert edit[0] in text
    spec = tmp_path / "space.nas"
    spec.write_text(text.replace(*edit, 1))
    with pytest.raises(SpecError) as info:
        load(str(spec))
    line = text.splitlines().index("  supernet_objective seq2seq") + 1
    rendered = str(info.value)
    assert message in rendered and f":{line}:3" in rendered, rendered


def test_next_item_space_rejects_a_click_trained_strategy(tmp_path):
    """The strategy table says which heads each strategy trains: random search on a next-item
    space is an error at the search block, found by the checks before any data is read."""
    from nasc.errors import SpecError

    text = (NEXT_ITEM_SPACE.replace("search oneshot_random {", "search random {")
            .replace("  children 12\n  top 3\n  valid_subset 100\n", "  children 2\n"))
    spec = tmp_path / "seq_space.nas"
    spec.write_text(text)
    line = text.splitlines().index("search random {") + 1
    with pytest.raises(SpecError) as err:
        search_spec(str(spec), data=str(tmp_path / "absent.txt"), out=str(tmp_path / "run"),
                    quiet=True)
    (d,) = err.value.diagnostics
    assert (d.line, d.col) == (line, 1)
    assert "a `head next_item` space is searched by oneshot_random" in d.message
    assert not (tmp_path / "run").exists()


def test_every_sampler_draws_only_children_that_can_be_written_out(tmp_path):
    """Widths 0.1 and 0.15 of a ~100-wide input round to 10 and 15, or to one width for smaller
    inputs: a `monotone` MLP must compare them as the spec writes them. Paths drawn for a stage's
    labels (one-shot), for every label (the supernet) and by random search are all assignments
    fix_spec accepts (at 5700da7, 46 of 200 one-shot draws were refused)."""
    import random

    from nasc.compiler.fix import fix_spec
    from nasc.compiler.sampling import sample_assignment

    text = MINI_AMEIR.replace("width { 0.25, 0.5, 1.0 }", "width { 0.1, 0.15 }")
    ctx = make_context(text, _dataset(400), tmp_path)
    net = build_supernet(ctx)
    widths = ["aggregate.layer1.width", "aggregate.layer2.width"]
    gen, rng = generator(7), random.Random(7)
    names = [f.name for f in ctx.dataset.schema.fields]
    seen = collections.Counter()
    for _ in range(200):
        for path in (net.sample(gen, widths), net.sample(gen),
                     sample_assignment(ctx.program, rng, names)):
            full = {**net_values(net), **path}
            fix_spec(ctx.spec, ctx.program, full, drop_search=True)  # raises when refused
            seen[(full[widths[0]], full[widths[1]])] += 1
    assert set(seen) == {(0.1, 0.1), (0.15, 0.1), (0.15, 0.15)}


def net_values(net) -> dict:
    return {label: m.value for label, m in net.choice_modules().items()}


TWO_STAGE_NEXT_ITEM_SPACE = NEXT_ITEM_SPACE.replace(
    "  user = last(behavior)\n",
    "  blocks refine(behavior) {\n    depth 1\n    norm { layer_norm, none }\n"
    "    layer { conv(kernel=3), zero }\n    act { relu, identity }\n  }\n"
    "  user = last(refine)\n")


def test_a_next_item_search_resumed_between_stages_ends_like_an_uninterrupted_one(
        tmp_path, one_thread):
    """The last-state supernet's negatives are salted by (stage, epoch) like every other random
    source: a two-stage next-item search stopped after stage 1 and resumed trains stage 2 on the
    same negatives, so its losses, rankings and answer are those of an uninterrupted run."""
    from nasc.runtime.data.sequences import load_next_item

    assert "blocks refine" in TWO_STAGE_NEXT_ITEM_SPACE
    data = load_next_item(successor_log(tmp_path / "log.txt", users=120, items=40), max_len=8)
    full_ctx = make_context(TWO_STAGE_NEXT_ITEM_SPACE, data, tmp_path / "a")
    full = oneshot.OneShot(full_ctx).run()
    ctx = make_context(TWO_STAGE_NEXT_ITEM_SPACE, data, tmp_path / "b")
    first = oneshot.OneShot(ctx)
    run_stage = first.supernet_stage

    def stop_at_stage_2(si, stage):
        if si == 1:
            raise KeyboardInterrupt
        return run_stage(si, stage)

    first.supernet_stage = stop_at_stage_2
    with pytest.raises(KeyboardInterrupt):
        first.run()
    resumed_ctx = make_context(TWO_STAGE_NEXT_ITEM_SPACE, data, tmp_path / "b", resume=True)
    resumed = oneshot.OneShot(resumed_ctx).run()
    assert [row["stage"] for row in full_ctx.record["stages"]] == ["behavior", "refine"]
    assert resumed == full

    def without_seconds(rows):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    assert without_seconds(resumed_ctx.record["stages"]) == without_seconds(
        full_ctx.record["stages"])
    assert resumed_ctx.record["inherited_valid_NDCG@5"] == full_ctx.record[
        "inherited_valid_NDCG@5"]


@pytest.mark.parametrize("space", ["next_item", "ctr"])
def test_finalist_epochs_fine_tunes_the_last_stages_top_children_and_keeps_the_best(
        tmp_path, one_thread, space):
    """`finalist_epochs N`: the last stage's `top` children are each fine-tuned from the
    one-shot weights (at most N epochs, the train block's recipe) and the best on validation
    after it is the answer, whatever their one-shot order; the supernet is left as trained, so
    the answer's inherited weights score what its one-shot row says."""
    if space == "next_item":
        from nasc.runtime.data.sequences import load_next_item

        text = NEXT_ITEM_SPACE
        data = load_next_item(successor_log(tmp_path / "log.txt", users=200, items=60),
                              max_len=8)
        monitor = "NDCG@5"
    else:
        text, data, monitor = MINI_AMEIR, _dataset(), "auc"
    assert "  valid_subset " in text
    text = text.replace("  valid_subset ", "  finalist_epochs 2\n  valid_subset ", 1)
    ctx = make_context(text, data, tmp_path / "run")
    assignment = oneshot.OneShot(ctx).run()
    last = ctx.record["stages"][-1]
    assert len(last["top"]) >= 2
    for row in last["top"]:
        assert 1 <= row["tuned_epochs"] <= 2
        assert f"tuned_valid_{monitor}" in row and f"valid_{monitor}" in row
    best = max(last["top"], key=lambda r: (r[f"tuned_valid_{monitor}"], -r["child"]))
    assert last["best_child"] == best["child"]
    assert all("tuned_epochs" not in row
               for st in ctx.record["stages"][:-1] for row in st.get("top", []))
    assert ctx.record[f"inherited_valid_{monitor}"] == pytest.approx(
        best[f"valid_{monitor}"], abs=2e-6)
    assert set(assignment) == {c.label for c in choices(compile_text(text, "t.nas")[1])}
