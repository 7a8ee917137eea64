"""Build a Plan's modules: evaluate its init steps with the runtime factories.

Arguments are structured data (names, literals, factory calls), never source text, so nothing is
``eval``ed. Used for the fixed models of ``nasc train`` (wrapped in an fx GraphModule) and to
check generated supernets against their plan.
"""
from __future__ import annotations

import torch.fx
from torch import nn

from nasc.compiler.fx import build_graph
from nasc.compiler.lower import Build, CallArg, Const, DictArg, Let, ListArg, Plan, Section, Var
from nasc.quoting import class_name
from nasc.runtime import factory


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
