"""Every declared setting is read: a short run of each implemented strategy reads every key of
its row in the strategy table, and training reads every key of the train block. A key nobody
reads (as `train { dropout }` and darts' `monitor` were) fails here.

Read outside the strategy module, by `nasc search` itself, and tested where they act: `seed`
(the search's seed, tests/search/test_darts_method.py and test_search_end_to_end.py) and
`threads` (tests/training/test_threads.py); `stage` arrives as the parsed `stages`."""
from __future__ import annotations

import pytest

from nasc.compiler.settings import TRAIN
from nasc.compiler.strategies import ROWS
from nasc.runtime.strategies import strategy_module
from nasc.runtime.train import TrainConfig, train_model

from kit.searchkit import cell3_spec, make_ctx

READ_BY_THE_COMMAND = {"seed", "threads"}
# read by next-item objectives only (below); mask_prob by the cloze objective only
NEXT_ITEM_ONLY = {"objective", "eval_negatives", "eval_sampling", "mask_prob"}

SPACE = """model space {
  input fields: categorical
  emb = embed(fields, dim=4)
  opset pair = { fm, slp }
  x = pair(emb)
  interactions cross(emb) {
    cycles 1
    survivors 4
    keep 2
  }
  mlp d(concat(flatten(x), flatten(cross))) {
    layers 2
    width { 8, 4 }
    monotone
  }
  head ctr(d)
}
"""
# Small values for the settings that size a run, where a strategy has them.
QUICK = {"epochs": "1", "batch": "512", "children": "3", "top": "2", "valid_subset": "200",
         "population": "2", "cycles": "1", "controller_steps": "1", "controller_batch": "2"}


def spec_for(row) -> str:
    """A short search of ``row``'s strategy: over a cell when it searches no mlp, else over a node
    choice, interactions and an mlp; with a stage per construct when it has stages."""
    if "mlp" not in row.searches:
        head, _, _ = cell3_spec(epochs=1).partition("search darts {")
    else:
        head = SPACE
    lines = [f"  {k} {v}" for k, v in QUICK.items() if k in row.settings]
    if "stage" in row.settings:
        lines += ["  stage x {", "    epochs 1", "  }", "  stage cross {", "    epochs 1", "  }"]
    return head + f"search {row.name} {{\n" + "\n".join(lines) + "\n}\n"


class Reads(dict):
    """A dict that remembers which keys were looked up."""

    def __init__(self, *args):
        super().__init__(*args)
        self.read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("row", [r for r in ROWS if r.implemented], ids=lambda r: r.name)
def test_a_strategy_reads_every_setting_of_its_row(tmp_path, tiny_data, row):
    ctx = make_ctx(tmp_path, spec_for(row), tiny_data)
    ctx.settings = Reads(ctx.settings)
    strategy_module(row.name).search(ctx)
    read = ctx.settings.read | ({"stage"} if "stages" in ctx.settings.read else set())
    assert set(row.settings) - READ_BY_THE_COMMAND - read == set()


class ReadConfig(TrainConfig):
    """A TrainConfig that remembers which of its fields training looked at."""

    def __getattribute__(self, name):
        if name in TRAIN:
            object.__getattribute__(self, "read").add(name)
        return object.__getattribute__(self, name)


@pytest.mark.parametrize("schedule", ["plateau", "cosine"])
def test_training_reads_every_train_setting(tmp_path, tiny_data, schedule):
    from nasc.compiler.frontend import compile_text
    from nasc.runtime.model import build_fixed

    fixed = (SPACE.replace("{ fm, slp }", "{ fm }").replace("{ 8, 4 }", "8")
             .replace("  monotone\n", "").replace("    keep 2\n", "    tuples { f0 * f1, f2 * f3 }\n"))
    _, program = compile_text(fixed, "fixed.nas")
    model = build_fixed(program, tiny_data.schema)
    # min_delta 0.5: every epoch after the first is a bad one, so the plateau decay happens
    config = ReadConfig.from_settings(program.train, epochs=3, batch=512, schedule=schedule,
                                      min_delta=0.5, patience=5)
    object.__setattr__(config, "read", set())
    train_model(model, tiny_data, config, run=None, show_progress=False)
    unread = set(TRAIN) - READ_BY_THE_COMMAND - NEXT_ITEM_ONLY - config.read
    # lr_decay belongs to the plateau schedule, warmup to the cosine one (the checks refuse
    # either beside the other schedule)
    assert unread == ({"warmup"} if schedule == "plateau" else {"lr_decay"})


@pytest.mark.parametrize("objective", ["last_state", "seq2seq", "cloze"])
def test_next_item_training_reads_its_settings(tmp_path, objective):
    from nasc.compiler.frontend import compile_text
    from nasc.runtime.data.sequences import load_next_item
    from nasc.runtime.model import build_fixed
    from kit.retrievalkit import SASREC_LIKE, successor_log

    _, program = compile_text(SASREC_LIKE.replace("objective seq2seq", f"objective {objective}"),
                              "rec.nas")
    dataset = load_next_item(successor_log(tmp_path / "log.txt", users=30, items=40), max_len=8)
    config = ReadConfig.from_settings(program.train, epochs=1)
    object.__setattr__(config, "read", set())
    train_model(build_fixed(program, dataset.schema), dataset, config, show_progress=False)
    assert NEXT_ITEM_ONLY - {"mask_prob"} <= config.read
    assert ("mask_prob" in config.read) == (objective == "cloze")
