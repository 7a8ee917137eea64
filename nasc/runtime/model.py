"""From a checked program to runnable models: the generated supernet, and fixed fx models.

A fixed model is its Plan's init steps evaluated with the runtime factories (``materialize``):
arguments are structured data (names, literals, factory calls), never source text, so nothing is
``eval``ed; the graph is built from the plan (``nasc.compiler.fx``) and wrapped in an fx
GraphModule. The same materialisation checks generated supernets against their plan.
"""
from __future__ import annotations

import re
import sys
import types
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.fx
from torch import nn

from nasc.compiler.codegen import render
from nasc.compiler.fx import build_graph
from nasc.compiler.lower import Build, CallArg, Const, DictArg, Let, ListArg, Plan, Section, Var, lower
from nasc.compiler.program import Program
from nasc.errors import Diagnostic, UsageError
from nasc.fileio import write_atomic
from nasc.quoting import class_name
from nasc.runtime import factory
from nasc.runtime.choices import ChoiceModule, OneOf


def generate(program: Program, spec_text: str, spec_path: str, out: Path) -> Path:
    """Write the supernet module of a spec; unchanged files are not rewritten."""
    return _write_source(_render(program, spec_text, spec_path), out)


def compile_supernet(program: Program, spec_text: str, spec_path: str,
                     out: Path) -> type[nn.Module]:
    """Write the supernet module to ``out`` for a reader, and run the source just rendered: never
    the file read back, which anyone who can write into a run directory could have changed."""
    source = _render(program, spec_text, spec_path)
    return _model_class(source, _write_source(source, out))


def load_generated(path: Path) -> type[nn.Module]:
    """Import a generated module by path (a file of the repo's generated/) and return its class."""
    path = Path(path).resolve()
    return _model_class(path.read_text(), path)


def _render(program: Program, spec_text: str, spec_path: str) -> str:
    return render(lower(program, "supernet"), program, spec_text, spec_path)


def _write_source(source: str, out: Path) -> Path:
    out = Path(out)
    if not out.exists() or out.read_text() != source:
        write_atomic(out, source)
    return out


def _model_class(source: str, path: Path) -> type[nn.Module]:
    """Run a generated module's source as a module named after its file; its model class."""
    path = Path(path).resolve()
    name = "nasc_generated_" + re.sub(r"\W", "_", str(path))
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 -- nasc's own codegen
    classes = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == name]
    return classes[-1]


@contextmanager
def building(program: Program, schema):
    """Turn a model that cannot be built for a dataset (its widths or fields do not fit) into a
    user error at the construct that failed (the model, when that is not known), instead of a
    traceback from inside a module's constructor."""
    from nasc.runtime.sizing import span_of

    try:
        yield
    except (ConstructError, ValueError, KeyError, IndexError, RuntimeError) as err:
        fields = ", ".join(f.name for f in schema.fields) or "none"
        line, col = span_of(program, getattr(err, "section", None))
        where = f" ({err.section})" if getattr(err, "section", None) else ""
        raise UsageError([Diagnostic(program.path, line, col,
                                     f"model `{program.name}` cannot be built for this "
                                     f"dataset{where}: {err}",
                                     f"the dataset's fields: {fields}")]) from None


def build_fixed(program: Program, schema) -> torch.fx.GraphModule:
    """The fx GraphModule of a program with every choice made; one too large to train on this
    machine is refused first, before anything is allocated."""
    from nasc.runtime.sizing import check_model_fits

    plan = lower(program, "fixed")
    with building(program, schema):
        check_model_fits(program, plan, schema)
        return build_fx_model(plan, schema)


def load_from_supernet(fixed: nn.Module, supernet: nn.Module) -> None:
    """Copy a supernet's weights (with a path fixed) into the fixed model of that path.

    Paths match except at choices: a one-of at P maps P.candidates.<i> -> P for its fixed i;
    a max-size weight shared by slicing maps to the fixed tensor's leading block.
    """
    source = supernet.state_dict()
    # A one-of with a single candidate (a node written with one operator) is not a choice the
    # path fixes: it may stay relaxed (index None, softmax of one alpha = 1), yet maps to 0.
    chosen = {name: (m.index if m.index is not None else 0)
              for name, m in supernet.named_modules()
              if isinstance(m, OneOf) and (m.index is not None or len(m.candidates) == 1)}
    target = fixed.state_dict()
    params = {name for name, _ in fixed.named_parameters()}
    for key in target:
        src_key = _supernet_key(key, chosen)
        if src_key not in source and key not in params and not target[key].is_floating_point():
            continue  # a structural index buffer of the fixed path (e.g. Hadamard tuples)
        if src_key not in source:
            raise KeyError(f"the supernet has no weight for `{key}` (looked for `{src_key}`)")
        value = source[src_key]
        want = target[key].shape
        if value.shape != want:
            value = value[tuple(slice(0, n) for n in want)]
        target[key] = value
    fixed.load_state_dict(target)


def _supernet_key(key: str, chosen: dict[str, int]) -> str:
    parts = key.split(".")
    out: list[str] = []
    for part in parts:
        out.append(part)
        prefix = ".".join(out)
        if prefix in chosen:
            out += ["candidates", str(chosen[prefix])]
    return ".".join(out)


def choice_modules(model: nn.Module) -> dict[str, ChoiceModule]:
    return {m.label: m for m in model.modules() if isinstance(m, ChoiceModule) and m.exposed}


# ---------------------------------------------------------------------------- materialising
class ModelRoot(factory.Supernet):
    """Holds the modules of a materialised plan (the fx GraphModule's root)."""


def _evaluate(arg, env: dict):
    if isinstance(arg, Const):
        return arg.value
    if isinstance(arg, Var):
        head, *rest = arg.name.split(".")
        value = env[head]
        for part in rest:
            value = getattr(value, part)
        return value
    if isinstance(arg, ListArg):
        return [_evaluate(a, env) for a in arg.items]
    if isinstance(arg, DictArg):
        return {k: _evaluate(v, env) for k, v in arg.items}
    if isinstance(arg, CallArg):
        fn = getattr(factory, arg.factory)
        return fn(*[_evaluate(a, env) for a in arg.args],
                  **{k: _evaluate(v, env) for k, v in arg.kwargs})
    raise TypeError(arg)


class ConstructError(Exception):
    """A module of one construct (a plan section, e.g. ``"mlp dnn"``) could not be built."""

    def __init__(self, section: str | None, cause: Exception):
        super().__init__(str(cause))
        self.section = section


def materialize(plan: Plan, schema, root: nn.Module | None = None) -> nn.Module:
    root = root if root is not None else ModelRoot()
    env = {"schema": schema, "self": root, **plan.constants}
    section = None
    for item in plan.init:
        try:
            if isinstance(item, Section):
                section = item.title
            elif isinstance(item, Let):
                env[item.name] = _evaluate(item.value, env)
            elif isinstance(item, Build):
                setattr(root, item.attr, _evaluate(item.value, env))
        except (ValueError, KeyError, IndexError, RuntimeError) as err:
            raise ConstructError(section, err) from err
    return root


class FixedModel(torch.fx.GraphModule):
    """A fixed architecture: an fx GraphModule whose graph was built from the plan."""


def build_fx_model(plan: Plan, schema) -> torch.fx.GraphModule:
    root = materialize(plan, schema)
    model = FixedModel(root, build_graph(plan), class_name=class_name(plan.name))
    model.task = plan.task
    model.items = plan.items
    return model
