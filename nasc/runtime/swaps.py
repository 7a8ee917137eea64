"""Replace submodules of a model by path, and put the originals back: how a one-shot stage holds
later stages (nasc.runtime.strategies.stages) and how a supernet's ``last`` keeps every position
for one call (nasc.runtime.per_position)."""
from __future__ import annotations

from torch import nn


class Swaps:
    """Replace submodules by path and put the originals back."""

    def __init__(self, net: nn.Module):
        self.net = net
        self.saved: list[tuple[nn.Module, str, nn.Module]] = []

    def put(self, path: str, module: nn.Module) -> None:
        parent_path, _, name = path.rpartition(".")
        parent = self.net.get_submodule(parent_path) if parent_path else self.net
        self.saved.append((parent, name, getattr(parent, name)))
        setattr(parent, name, module)

    def restore(self) -> None:
        for parent, name, original in reversed(self.saved):
            setattr(parent, name, original)
        self.saved.clear()
