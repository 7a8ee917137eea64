"""Helpers of the AMEIR one-shot tests: a small AMEIR space and a SearchContext on a dataset."""
from __future__ import annotations

import torch

from nasc.compiler.frontend import compile_text
from nasc.runtime.rundir import RunDir
from nasc.runtime.strategies.common import SearchContext

MINI_AMEIR = """
model mini_ameir {
  input fields: categorical
  input history: sequence(max_len=20)
  input item: target
  emb = embed(fields, dim=4)
  seq = embed(history, dim=4)
  target = embed(item, dim=4)
  blocks behavior(seq, target=target) {
    depth 2
    norm { layer_norm, none }
    layer { conv(kernel=3), avg_pool(kernel=3), target_attention, zero }
    act { relu, identity }
  }
  interest = concat(sum_pool(behavior), target_attention_pool(behavior, target))
  interactions cross(emb) {
    cycles 2
    survivors 6
    keep 3
  }
  mlp aggregate(concat(interest, flatten(emb), flatten(cross))) {
    layers 2
    width { 0.25, 0.5, 1.0 }
    monotone
    act { relu, dice }
    shortcut se(emb, cross, expansion=1.0)
  }
  head ctr(aggregate)
}

search oneshot_random {
  batch 256
  epochs 1
  children 12
  top 2
  valid_subset 300
  stage behavior {
    fixed_mlp [32, 16]
  }
  stage cross {
    fixed_mlp [32, 16]
  }
}

train {
  optimizer adam(lr=0.003)
  batch 256
  epochs 1
}
"""


def make_context(text: str, dataset, run_path, seed: int = 2021, show_progress: bool = False,
                 resume: bool = False) -> SearchContext:
    spec, program = compile_text(text, "test.nas")
    settings = dict(program.strategy.settings)
    settings["stages"] = program.strategy.stages
    return SearchContext(program, spec, text, "test.nas", dataset, "synthetic", RunDir(run_path),
                         torch.device("cpu"), seed, settings, resume=resume,
                         show_progress=show_progress)
