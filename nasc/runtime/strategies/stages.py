"""The progressive stages of a one-shot search (AMEIR §2.3), and how a stage holds the later ones:
their labels at a default value, a later interactions construct absent, a later MLP replaced by
the stage's fixed MLP (``nasc.runtime.strategies.oneshot`` says why)."""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from nasc.compiler.space import choices
from nasc.runtime.choices import CellNode, OneOf, TupleChoice, WidthChoice
from nasc.runtime.factory import DenseLayer
from nasc.runtime.strategies.common import SearchContext


# ------------------------------------------------------------------------------------- stages
@dataclass
class Stage:
    name: str            # the construct
    construct: str       # blocks | interactions | mlp | cell | node
    labels: list[str]    # its open labels, in source order
    epochs: int
    children: int
    top: int
    fixed_mlp: tuple[int, ...] | None


def plan_stages(ctx: SearchContext) -> list[Stage]:
    """The spec's stages in the order written, then the other constructs with choices in source
    order (with the strategy's top-level settings). With ``steps together`` (AMEIR Table 4's
    "one-shot random search" row) one stage holds every label: one supernet trained on paths
    over all choices at once (an interaction set drawn as any choice), its children ranked."""
    s = ctx.settings
    if s.get("steps") == "together":
        return [Stage("all", "all", [c.label for c in choices(ctx.program)], s["epochs"],
                      s["children"], s["top"], None)]
    written = s.get("stages") or (ctx.program.strategy.stages if ctx.program.strategy else {})
    owners: dict[str, list] = {}
    for c in choices(ctx.program):
        owners.setdefault(c.owner, []).append(c)
    order = [n for n in written if n in owners] + [n for n in owners if n not in written]
    out = []
    for name in order:
        cfg = written.get(name, {})
        pick = lambda key: cfg.get(key) if cfg.get(key) is not None else s[key]  # noqa: E731
        fixed = cfg.get("fixed_mlp")
        out.append(Stage(name, owners[name][0].construct, [c.label for c in owners[name]],
                         pick("epochs"), pick("children"), pick("top"),
                         tuple(fixed) if fixed else None))
    return out


def default_value(module):
    """The value a label of a later stage is held at."""
    if isinstance(module, OneOf):
        return module.options[0]
    if isinstance(module, WidthChoice):
        return module.options[module.widths.index(max(module.widths))]
    if isinstance(module, CellNode):
        first = module.sources[: module.keep]
        return tuple((i, module.edges[str(i)].options[0]) for i in first)
    if isinstance(module, TupleChoice):
        return module.value
    raise TypeError(f"no default for {type(module).__name__}")


# ------------------------------------------------------------------------------ stand-ins
class AbsentInteractions(nn.Module):
    """A later-stage interactions construct: (B, m, k) -> zeros (B, keep, k) (AMEIR Step 1 combines
    only h^a and e^b)."""

    def __init__(self, original: nn.Module):
        super().__init__()
        self.keep = original.keep
        self.out_shape = original.out_shape

    def forward(self, x):
        return x.new_zeros(x.shape[0], self.keep, x.shape[-1])


class FixedMLP(nn.Module):
    """A stage's pre-defined MLP in place of a later searched one: (B, in) -> widths (ReLU) ->
    (B, out), the last map linear so that the modules after the MLP see the width they expect."""

    def __init__(self, in_dim: int, widths: tuple[int, ...], out_dim: int):
        super().__init__()
        layers, prev = [], in_dim
        for w in widths:
            layers += [nn.Linear(prev, w), nn.ReLU()]
            prev = w
        self.hidden = nn.Sequential(*layers)
        self.adapter = nn.Linear(prev, out_dim, bias=False)

    def forward(self, x):
        return self.adapter(self.hidden(x))


class Passthrough(nn.Module):
    def forward(self, x):
        return x


def mlp_layers(net: nn.Module) -> dict[str, list[tuple[str, DenseLayer]]]:
    """Per searched MLP, its (module path, DenseLayer) in layer order (from the width labels)."""
    found: dict[str, list] = {}
    for path, m in net.named_modules():
        if isinstance(m, DenseLayer) and m.choice is not None:
            mlp, layer, _ = m.choice.label.rsplit(".", 2)
            found.setdefault(mlp, []).append((int(layer[len("layer"):]), path, m))
    return {k: [(p, m) for _, p, m in sorted(v)] for k, v in found.items()}
