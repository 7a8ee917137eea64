"""The base class of every generated model: the choice interface strategies drive."""
from __future__ import annotations

import torch
from torch import nn

from nasc.runtime import ops
from nasc.runtime.choices import ChoiceModule, OneOf, sample_path


# --------------------------------------------------------------------------------------- supernet
class Supernet(nn.Module):
    """Base of every generated model: the choice interface strategies drive.

    ``arch_parameters()`` (alpha of relaxable one-ofs, beta of searched cell nodes) are kept apart
    from ``weight_parameters()``; ``fix``/``sample`` set a discrete path by label.
    """

    def choice_modules(self) -> dict[str, ChoiceModule]:
        found = {}
        for module in self.modules():
            if isinstance(module, ChoiceModule) and module.exposed:
                found[module.label] = module
        return found

    def arch_parameters(self) -> list[nn.Parameter]:
        """The architecture weights of every choice (alpha of relaxable one-ofs, beta of
        searched cell nodes, the slot logits of interaction sets), in module order."""
        return [p for m in self.modules() if isinstance(m, ChoiceModule)
                for p in m.arch_logits().values()]

    def weight_parameters(self) -> list[nn.Parameter]:
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def fix(self, assignment: dict) -> None:
        modules = self.choice_modules()
        unknown = sorted(set(assignment) - set(modules))
        if unknown:
            raise KeyError(f"no choice labelled {unknown}; labels: {sorted(modules)}")
        for label, value in assignment.items():
            modules[label].fix(value)

    def sample(self, generator: torch.Generator, labels=None) -> dict:
        """Fix a uniformly drawn path over ``labels`` (all choices when None) and return it
        (nasc.runtime.choices.sample_path)."""
        return sample_path(self, generator, labels)

    def relax(self) -> None:
        for m in self.choice_modules().values():
            m.relax()

    def set_weighting(self, weighting) -> None:
        """How relaxed choices weight their options: ``weighting(logits, tau) -> weights``
        (nasc.runtime.choices.softmax_weights unless a strategy hands in another)."""
        for m in self.modules():
            if isinstance(m, ChoiceModule):
                m.weighting = weighting

    def set_recompute(self, on: bool) -> None:
        """``memory recompute``: every relaxed one-of keeps only its inputs for backward
        (nasc.runtime.recompute)."""
        for m in self.modules():
            if isinstance(m, OneOf):
                m.recompute = on

    def set_temperature(self, tau: float) -> None:
        """Each choice's tau becomes a 0-d tensor, then is updated in place: a compiled step
        (nasc.runtime.compiling) reads a tensor's new value, where a new float would make it
        compile again every epoch."""
        for m in self.modules():
            if isinstance(m, ChoiceModule):
                if isinstance(m.tau, torch.Tensor):
                    m.tau.fill_(tau)
                else:
                    m.tau = torch.tensor(float(tau))

    def set_skip_noise(self, lam: float, generator: torch.Generator | None = None) -> None:
        for m in self.modules():
            if isinstance(m, ops.Skip):
                m.noise = lam
                m.generator = generator
