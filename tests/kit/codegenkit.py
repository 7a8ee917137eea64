"""Shared helpers of the codegen tests: specs, synthetic schemas, generated supernets."""
from __future__ import annotations

import functools
import random
from pathlib import Path

import torch

from nasc.compiler.fix import fix_spec
from nasc.compiler.sampling import sample_assignment
from nasc.compiler.frontend import compile_text, load
from nasc.compiler.printer import print_spec
from nasc.compiler.space import choices
from nasc.runtime.data.synthetic import make_synthetic
from nasc.runtime.model import build_fixed, generate, load_from_supernet, load_generated
from nasc.runtime.commands.dataset import needs_sequences

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "specs"
GENERATED = REPO / "generated"
SPEC_NAMES = sorted(p.stem for p in SPECS.glob("*.nas"))
# Search spaces: the specs with a choice left (the others are fixed models).
SPACES = tuple(n for n in SPEC_NAMES if choices(load(SPECS / f"{n}.nas")[2]))
FIXED_NAMES = [n for n in SPEC_NAMES if n not in SPACES]
ROWS = 512  # synthetic rows: enough for a batch, cheap to build


def spec_rel(name: str) -> str:
    """The spec path as `nasc compile` stamps it when run from the repository root."""
    return f"specs/{name}.nas"


@functools.lru_cache(maxsize=None)
def load_spec(name: str):
    """(text, spec IR, program) of specs/<name>.nas."""
    return load(SPECS / f"{name}.nas")


@functools.lru_cache(maxsize=None)
def dataset(with_sequence: bool, items_only: bool = False):
    return make_synthetic(0, ROWS, with_sequence=with_sequence, items_only=items_only)


def dataset_for(name: str):
    """The synthetic data a spec is sized on, as `nasc compile` opens it (open_dataset): a
    `head next_item` model sees item ids alone, as in a behaviour log."""
    program = load_spec(name)[2]
    return dataset(needs_sequences(program), items_only=program.head.task == "next_item")


def first_batch(ds, size: int = 16, split: str = "train") -> dict:
    return next(iter(getattr(ds, split).batches(size, False, None)))


def field_names(schema) -> list[str]:
    return [f.name for f in schema.fields]


def generated_class(name: str, out_dir: Path):
    """Generate the supernet module of a spec into ``out_dir`` and import its class."""
    text, _, program = load_spec(name)
    return load_generated(generate(program, text, spec_rel(name), out_dir / f"{name}.py"))


def randomize(model: torch.nn.Module, seed: int, std: float = 0.3) -> None:
    """Non-trivial weights (the default embedding init is 1e-4) and batch-norm statistics."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * std)
        for name, b in model.named_buffers():
            if not b.is_floating_point():
                continue
            if name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=gen, dtype=b.dtype))
            elif name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=gen, dtype=b.dtype) * 0.1)


def double_batch(batch: dict) -> dict:
    return {k: (v.double() if v.is_floating_point() else v) for k, v in batch.items()}


def sampled_assignment(name: str, seed: int, schema) -> dict:
    _, _, program = load_spec(name)
    return sample_assignment(program, random.Random(seed), field_names=field_names(schema))


def fixed_program(name: str, assignment: dict):
    """The fully fixed program of a path: fix_spec -> print -> parse and check again."""
    _, spec, program = load_spec(name)
    text = print_spec(fix_spec(spec, program, assignment, drop_search=True))
    return compile_text(text, f"<{name} fixed>")[1]


def fixed_model_of(supernet, name: str, assignment: dict, schema):
    """Fix ``assignment`` on the supernet, build that path's fx model and load its weights."""
    labels = set(supernet.choice_modules())
    supernet.fix({k: v for k, v in assignment.items() if k in labels})
    fixed = build_fixed(fixed_program(name, assignment), schema).double()
    load_from_supernet(fixed, supernet)
    return fixed
