"""One-shot ranking scores every child on the device and syncs once: its ranking and scores equal
the per-child path it replaced (evaluate + sklearn per child) to 1e-9, for the children of a
supernet stage and for the interaction candidates of Step 2."""
from __future__ import annotations

import json

import pytest
import torch

from nasc.runtime import metrics
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.strategies import interaction_oneshot, oneshot
from nasc.runtime.strategies.common import generator, jsonable
from nasc.runtime.train import evaluate

from kit.ameirkit import MINI_AMEIR, make_context


def per_child_ranking(search: oneshot.OneShot, si: int, stage) -> list[tuple]:
    """The ranking as it was: one evaluate() (a host copy and two sklearn calls) per child, each
    a whole forward."""
    gen = generator(search.ctx.seed, 200 + si)
    seen, ranked = set(), []
    for n in range(stage.children):
        path = search.net.sample(gen, stage.labels)
        key = json.dumps(jsonable(path), sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        scores = evaluate(search.net, search.subset, bn_batch_stats=True)
        ranked.append((search.key(scores), n, path, scores))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return ranked


def tie_groups(ranked: list[tuple], tol: float = 1e-12) -> list[set]:
    """The child numbers of each run of equal keys (to ``tol``), in ranking order."""
    groups, last = [], None
    for key, n, _, _ in ranked:
        if last is None or abs(key - last) > tol:
            groups.append(set())
        groups[-1].add(n)
        last = key
    return groups


def assert_same_ranking(new: list[tuple], old: list[tuple]) -> None:
    """Same children, scores to 1e-9, same order, except that children whose scores are equal
    (the same AUC, which sklearn's trapezoid may round 1 ulp apart) are ordered by their child
    number, the tie rule ranking always meant, rather than by that rounding."""
    by_child = {n: (path, scores) for _, n, path, scores in old}
    assert sorted(by_child) == sorted(n for _, n, _, _ in new)
    for _, n, path, got in new:
        assert path == by_child[n][0]
        for name, want in by_child[n][1].items():
            assert got[name] == pytest.approx(want, abs=1e-9)
    assert tie_groups(new) == tie_groups(old)  # the same order up to exact ties


@pytest.mark.parametrize("monitor", ["logloss", "auc"])
@pytest.mark.parametrize("stage_name", ["behavior", "aggregate"])
def test_children_rank_as_with_one_sklearn_call_each(tmp_path, one_thread, monitor, stage_name):
    """The behaviour blocks' stage and the MLP's (where the embeddings, the interactions, the
    interest pooling and the SE shortcut are computed once for all children: FixedOutputs)."""
    dataset = make_synthetic(seed=3, n=2000, with_sequence=True, max_len=20)
    text = MINI_AMEIR.replace("children 12", "children 30").replace(
        "valid_subset 300", f"valid_subset 300\n  monitor {monitor}")
    ctx = make_context(text, dataset, tmp_path)
    search = oneshot.OneShot(ctx)
    si = next(i for i, st in enumerate(search.stages) if st.name == stage_name)
    stage = search.stages[si]
    swaps = search.hold(si)
    try:
        search.train_supernet(si, stage)
        new = search.ranked_children(si, stage)
        old = per_child_ranking(search, si, stage)
    finally:
        swaps.restore()
    assert len(new) > 10
    assert_same_ranking(new, old)


def test_interaction_candidates_rank_as_with_one_sklearn_call_each(tmp_path):
    dataset = make_synthetic(seed=3, n=2000, with_sequence=True, max_len=20)
    search = oneshot.OneShot(make_context(MINI_AMEIR, dataset, tmp_path))
    vocab = [f.vocab_size for f in dataset.schema.fields]
    model = interaction_oneshot.InteractionOneShot(vocab, 4, (16, 8))
    model.set_candidates(interaction_oneshot.expand([(f,) for f in range(len(vocab))],
                                                    len(vocab), 3), generator(0))
    new = search.rank_interactions(model)
    ids, label = search.subset.columns["fields"], search.subset.columns["label"]
    model.eval()
    old = []
    for i, c in enumerate(model.candidates):
        prob = model(ids, i).sigmoid().detach()
        old.append((c, {"auc": metrics.auc(label, prob), "logloss": metrics.logloss(label, prob)}))
    old.sort(key=lambda r: (search.key(r[1]), len(r[0]), r[0]))
    assert [c for c, _ in new] == [c for c, _ in old]
    for (_, got), (_, want) in zip(new, old):
        for name in want:
            assert got[name] == pytest.approx(want[name], abs=1e-9)


def test_a_subset_longer_than_a_scoring_batch_ranks_with_its_whole_statistics(tmp_path, one_thread,
                                                                            monkeypatch):
    """Scored in chunks, each child's batch-norms still take the whole subset's statistics
    (nasc.runtime.split_norms): the scores of one whole-subset batch, to float32 rounding."""
    dataset = make_synthetic(seed=3, n=2000, with_sequence=True, max_len=20)
    text = MINI_AMEIR.replace("    monotone\n", "    monotone\n    batch_norm\n").replace(
        "width { 0.25, 0.5, 1.0 }", "width 0.5")  # a fixed width: its batch-norm module runs
    search = oneshot.OneShot(make_context(text, dataset, tmp_path))
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in search.net.modules())
    si = next(i for i, st in enumerate(search.stages) if st.name == "aggregate")
    stage = search.stages[si]
    swaps = search.hold(si)
    try:
        search.train_supernet(si, stage)
        old = per_child_ranking(search, si, stage)  # one batch of the 300 subset rows
        monkeypatch.setattr(oneshot, "SCORING_BATCH", 128)
        new = search.ranked_children(si, stage)
    finally:
        swaps.restore()
    by_child = {n: scores for _, n, _, scores in old}
    assert sorted(by_child) == sorted(n for _, n, _, _ in new)
    for _, n, _, got in new:
        for name, want in by_child[n].items():
            assert got[name] == pytest.approx(want, abs=1e-5)
