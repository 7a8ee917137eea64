"""What every strategy shares: the supernet of the run, seeded generators, and the export of the
architecture it found as ``arch.nas`` (the spec with its choices fixed, in the nasc language).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from nasc.compiler import ir
from nasc.compiler.fix import fix_spec, from_json  # noqa: F401  (strategies import it here)
from nasc.compiler.frontend import compile_text
from nasc.compiler.printer import print_spec
from nasc.compiler.program import Program
from nasc.compiler.lower import lower
from nasc.errors import Diagnostic, UsageError
from nasc.runtime.base_rate import start_at_base_rate
from nasc.runtime.model import build_fixed, building, compile_supernet
from nasc.runtime.partial_channels import PartialChannelsError, narrowed_edges
from nasc.runtime.sizing import check_model_fits
from nasc.runtime.rundir import RunDir
from nasc.runtime.train import train_model


@dataclass
class SearchContext:
    """Everything a strategy needs; strategies receive it and return an assignment."""

    program: Program
    spec: ir.Spec
    spec_text: str
    spec_path: str
    dataset: object
    data_name: str
    run: RunDir
    device: torch.device
    seed: int
    settings: dict
    resume: bool = False
    show_progress: bool = True
    record: dict = field(default_factory=dict)  # what arch.nas's header reports
    # `--start` architectures (nasc.compiler.starts): the first children of a strategy whose
    # table row names `starts`, before any drawn one
    starts: tuple[dict, ...] = ()


def generator(seed: int, *salt: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator for one random source; ``salt`` keeps sources (and epochs) apart, so a
    resumed run draws exactly what an uninterrupted one would. ``device``: where it draws (a
    CUDA generator draws noise on the GPU with no host copy; its stream differs from the CPU's,
    so a run resumes exactly on the device kind it started on)."""
    value = seed
    for s in salt:
        value = value * 1_000_003 + s
    return torch.Generator(device=device).manual_seed(value % (2 ** 63))


def build_supernet(ctx: SearchContext) -> torch.nn.Module:
    """Generate the supernet module into the run directory, import it from there, build it."""
    cls = compile_supernet(ctx.program, ctx.spec_text, ctx.spec_path, ctx.run.file("supernet.py"))
    torch.manual_seed(ctx.seed)
    groups = ctx.settings.get("partial_channels", 1)
    try:
        with building(ctx.program, ctx.dataset.schema), narrowed_edges(groups):
            check_model_fits(ctx.program, lower(ctx.program, "supernet"), ctx.dataset.schema)
            net = cls(ctx.dataset.schema)
    except PartialChannelsError as err:
        where = ctx.program.strategy.span
        raise UsageError([Diagnostic(ctx.spec_path, where.line, where.column, str(err),
                                     "set `partial_channels` in the search block to a divisor "
                                     "of the width")]) from None
    if ctx.dataset.schema.task == "ctr":
        start_at_base_rate(net, ctx.dataset.train.columns["label"], ctx.program.train.get("init_bias"))
    return net.to(ctx.device)


def split_half(table, share: float, seed: int):
    """A seeded split of the training rows: (weights part, architecture part)."""
    perm = torch.randperm(len(table), generator=generator(seed, 1))
    cut = int(round(len(table) * (1 - share)))
    device = table.columns["label"].device
    return table.subset(perm[:cut].to(device)), table.subset(perm[cut:].to(device))


def validation_rows(ctx: SearchContext, valid, size: int) -> torch.Tensor:
    """The seeded subset of ``size`` validation rows (sorted) that one-shot searches rank
    paths on."""
    n = min(size, len(valid))
    perm = torch.randperm(len(valid), generator=generator(ctx.seed, 7))[:n]
    return perm.sort().values.to(ctx.device)


def export_arch(ctx: SearchContext, assignment: dict) -> Path:
    """Write arch.nas: the spec with ``assignment`` fixed, and a header recording the search."""
    header = [
        f"# Architecture found by `nasc search {ctx.spec_path}` ({ctx.program.strategy.name}).",
        f"# seed {ctx.seed}; data {ctx.data_name}; "
        + "; ".join(f"{k} {v}" for k, v in ctx.record.items() if not isinstance(v, (dict, list))),
    ]
    for key, value in ctx.record.items():
        if isinstance(value, (dict, list)):
            text = json.dumps(value, sort_keys=True, separators=(",", ":"))
            header.append(f"# {key}: {text}")
    ctx.run.write_text("arch.nas", _arch_text(ctx, assignment, header))
    ctx.run.write_json("choices.json", jsonable(assignment))
    return ctx.run.file("arch.nas")


def export_best_so_far(ctx: SearchContext, assignment: dict, after: str) -> None:
    """arch.nas of the best architecture so far (``after``: "epoch 3 of 10", "child 4 of 8"),
    so a long search can be looked at, or trained, before it ends; the search's own end
    replaces it with export_arch's."""
    header = [f"# Best so far after {after} of `nasc search {ctx.spec_path}` "
              f"({ctx.program.strategy.name}); seed {ctx.seed}; data {ctx.data_name}.",
              "# The search has not finished: it rewrites this file when it does."]
    ctx.run.write_text("arch.nas", _arch_text(ctx, assignment, header))


def _arch_text(ctx: SearchContext, assignment: dict, header: list[str]) -> str:
    fixed = fix_spec(ctx.spec, ctx.program, assignment, drop_search=True)
    header = [*header, f"# choices: {json.dumps(jsonable(assignment), sort_keys=True)}"]
    model = fixed.model.model_copy(update={"comments": tuple(header) + fixed.model.comments})
    return print_spec(fixed.model_copy(update={"model": model}))


def assignment_key(assignment: dict) -> str:
    """A canonical text of an assignment, to tell architectures apart (tuples or JSON lists)."""
    return json.dumps(jsonable(assignment), sort_keys=True)


def jsonable(value):
    """An assignment (or any nest of dicts and tuples) with lists for tuples, for JSON."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def sort_key(monitor: str):
    """Scores -> a key where smaller is better (logloss down; AUC and ranking metrics up)."""
    return (lambda sc: sc["logloss"]) if monitor == "logloss" else (lambda sc: -sc[monitor])


def train_child(ctx: SearchContext, assignment: dict, config, n: int) -> dict:
    """Train the child ``assignment`` from scratch with ``config``: its validation scores,
    epochs, seconds and choices (a row of children.json)."""
    fixed = fix_spec(ctx.spec, ctx.program, assignment, drop_search=True)
    _, program = compile_text(print_spec(fixed), f"{ctx.spec_path}#child{n}")
    # Seeded as `nasc train` seeds: a child's init must not depend on what the children before
    # it left in the global RNG, or a resumed search differs from an uninterrupted one.
    torch.manual_seed(ctx.seed)
    model = build_fixed(program, ctx.dataset.schema)
    result = train_model(model, ctx.dataset, config, show_progress=False)
    return {"valid": result.valid, "epochs": result.epochs_run, "seconds": result.train_seconds,
            "choices": jsonable(assignment),
            **({"start": True} if n < len(ctx.starts) else {})}
