"""AMEIR Step 2 recovers planted Hadamard interactions of a synthetic click log (seeded, CPU).

Three data seeds, each planting f0*f1, f2*f3*f4 and f5*f6 among 7 fields (with heredity: each
sub-pair of the triple carries part of its effect, the hierarchy SMBO climbs; a pure order-3
effect leaves no trace in any pair and no progressive search can reach it). Step 2 runs 2 cycles
with 8 survivors and keeps M = 8 of the ~37 candidates of the last cycle. AMEIR's criterion,
over the 9 planted tuples: at least 80% in the found top-M. The planted tuples, the found top-M
and each planted tuple's rank are printed in the test log.

Measured over data seeds 1-10 with these settings: 27 of 30 planted tuples in the top-M; every
miss ranked 12th-17th.
"""
from __future__ import annotations

import pytest

from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.strategies import oneshot

from kit.ameirkit import make_context

PLANTED = ((0, 1), (2, 3, 4), (5, 6))
DATA_SEEDS = (1, 2, 3)
SPEC = """
model recovery {
  input fields: categorical
  emb = embed(fields, dim=8)
  interactions cross(emb) {
    cycles 2
    survivors 8
    keep 8
  }
  mlp agg(concat(flatten(emb), flatten(cross))) {
    layers 1
    width 32
  }
  head ctr(agg)
}

search oneshot_random {
  batch 1024
  epochs 5
  valid_subset 4000
  monitor logloss
  finetune scratch
  stage cross {
    fixed_mlp [16]
  }
}

train {
  optimizer adam(lr=0.01)
}
"""


def search_once(data_seed: int, run_path) -> tuple[list, list, str]:
    data = make_synthetic(seed=data_seed, n=80000, num_fields=7, vocab=8, dim_signal=2,
                          planted=PLANTED, heredity=0.7)
    ctx = make_context(SPEC, data, run_path, seed=2021)
    assignment = oneshot.search(ctx)
    ranking = ctx.run.read_json("interactions.json")["cross.cycle2"]
    top = [tuple(t) for t in assignment["cross.tuples"]]
    planted = [tuple(f"f{i}" for i in t) for t in PLANTED]
    rank = {tuple(r["tuple"]): n + 1 for n, r in enumerate(ranking)}
    report = (f"data seed {data_seed}: planted {planted}\n"
              f"  found top-{len(top)}: {top}\n"
              "  rank of each planted tuple in the last cycle: "
              + ", ".join(f"{'*'.join(t)} {rank.get(t, 'eliminated')}" for t in planted)
              + f" (of {len(ranking)} candidates)")
    return planted, top, report


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {s: search_once(s, tmp_path_factory.mktemp(f"recovery{s}")) for s in DATA_SEEDS}
    finally:
        torch.set_num_threads(before)


def test_at_least_80_percent_of_planted_tuples_in_the_top_m(found, capsys):
    hits = [t for planted, top, _ in found.values() for t in planted if t in top]
    total = sum(len(planted) for planted, _, _ in found.values())
    with capsys.disabled():  # shown in CI's log, pass or fail
        print("\n" + "\n".join(report for _, _, report in found.values())
              + f"\nplanted tuples in the top-M: {len(hits)} of {total}")
    assert len(hits) >= 0.8 * total, [report for _, _, report in found.values()]


def test_the_top_m_keeps_the_size_asked_and_mixes_orders(found):
    for planted, top, _ in found.values():
        assert len(top) == 8 and len(set(top)) == 8
        assert {len(t) for t in top} == {2, 3}
