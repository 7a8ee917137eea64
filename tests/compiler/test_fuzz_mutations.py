"""20,000 mutated specs through the whole front end: nothing escapes but a located SpecError.

The mutations (tests/kit/mutations.py, shared with benchmarks/fuzz.py) are seeded from the
real specs in specs/: truncations, character and token edits, token swaps, duplicated, deleted
and spliced lines, brackets nested past the limit, numbers past the float range, unicode,
comments and long files. Where a spec compiles, it is printed and parsed back. A failure names
its case index; ``mutations.case(i, SEED)`` replays it. test_fuzz.py covers the same property
with hypothesis on smaller budgets; this one is the large seeded sweep.

NASC_FUZZ_CASES overrides the count for a quick local run.
"""
from __future__ import annotations

import os
import traceback
from collections import Counter

from kit import mutations

SEED = 15
CASES = int(os.environ.get("NASC_FUZZ_CASES", 20_000))


def test_cases_are_reproducible_from_their_index():
    assert [mutations.case(i, SEED) for i in (0, 7, 19_999)] == \
        [mutations.case(i, SEED) for i in (0, 7, 19_999)]
    assert mutations.case(1, SEED) != mutations.case(1, SEED + 1)


def test_mutated_specs_raise_only_located_spec_errors():
    outcomes, kinds, failures = Counter(), Counter(), []
    for i, kind, text in mutations.cases(CASES, SEED):
        kinds.update(kind.split("+"))
        try:
            outcomes[mutations.check(text)] += 1
        except Exception:  # noqa: BLE001 - anything but SpecError is the bug this test finds
            failures.append(f"case {i} ({kind}):\n{traceback.format_exc(limit=-3)}")
            if len(failures) == 5:
                break
    assert not failures, "\n".join(failures)
    # the sweep is only worth something if it reaches both sides and every mutation
    assert set(kinds) == set(mutations.MUTATORS), kinds
    assert outcomes["compiled"] > CASES // 10 and outcomes["error"] > CASES // 3, outcomes
