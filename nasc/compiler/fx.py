"""The fx builder: a fixed Plan's forward steps become a ``torch.fx.Graph`` directly (no tracing).

Each step is one node: ``batch["key"]`` an ``operator.getitem``, ``self.m(x, ...)`` a
``call_module``; the graph's code therefore reads like the generated module, one operation a
line. The modules themselves are built by ``nasc.runtime.model.materialize`` from the same Plan.
"""
from __future__ import annotations

import operator

import torch.fx

from nasc.compiler.lower import Plan, Section, Step


def build_graph(plan: Plan) -> torch.fx.Graph:
    graph = torch.fx.Graph()
    batch = graph.placeholder("batch")
    values: dict[str, torch.fx.Node] = {}
    for step in plan.forward:
        if isinstance(step, Section):
            continue
        values[step.out] = _node(graph, batch, values, step)
    graph.output(values[plan.output])
    graph.lint()
    return graph


def _node(graph: torch.fx.Graph, batch, values, step: Step) -> torch.fx.Node:
    # create_node takes the step's name as a candidate; fx's namespace keeps it unique.
    if step.key is not None:
        return graph.create_node("call_function", operator.getitem, (batch, step.key),
                                 name=step.out)
    if step.module is None:
        return values[step.args[0]]
    return graph.create_node("call_module", step.module, tuple(values[a] for a in step.args),
                             name=step.out)
