"""Random search draws distinct children, numbered from 0 in the console and in children.json."""
from __future__ import annotations

import json
import random

from nasc.compiler.sampling import sample_assignment
from nasc.runtime.strategies import random_search

from kit.searchkit import make_ctx

SPACE = """model m {{
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = {{ {options} }}
  x = pair(emb)
  head ctr(flatten(x))
}}

search random {{
  children {children}
  epochs 1
  batch 512
}}
"""


def keys(assignments):
    return [json.dumps(a, sort_keys=True) for a in assignments]


def test_children_are_distinct_and_start_as_plain_sampling(tmp_path, tiny_data):
    """Three options, three children: plain sampling repeats one (seed 1 draws fm twice among its
    first three); the search redraws it, keeping the draws that were new."""
    ctx = make_ctx(tmp_path, SPACE.format(options="fm, senet, skip", children=3), tiny_data,
                   seed=1)
    rng = random.Random(1)
    plain = [sample_assignment(ctx.program, rng, None) for _ in range(3)]
    assert len(set(keys(plain))) < 3, "seed 1 no longer repeats: pick a seed that does"
    drawn = random_search.children(ctx)
    assert len(set(keys(drawn))) == 3
    assert keys(drawn)[:2] == keys(plain)[:2] or keys(drawn)[0] == keys(plain)[0]


def test_a_space_smaller_than_children_gives_each_architecture_once(tmp_path, tiny_data, capsys):
    ctx = make_ctx(tmp_path, SPACE.format(options="fm, skip", children=5), tiny_data, seed=3)
    drawn = random_search.children(ctx)
    assert sorted(keys(drawn)) == sorted(keys([{"x": "fm"}, {"x": "skip"}]))
    ctx.show_progress = True
    random_search.search(ctx)
    out = capsys.readouterr().out
    assert "the space holds 2 distinct architectures" in out
    assert "child 0 (1 of 2)" in out and "child 1 (2 of 2)" in out
    rows = json.loads(ctx.run.file("children.json").read_text())
    assert [r["child"] for r in rows] == [0, 1]
