"""Reuse, between one-shot children, the outputs of the modules their choices do not reach.

Ranking draws hundreds of paths over one stage's choices and scores each on the same validation
rows. Every module whose subtree holds none of those choices (the embeddings, the decided
interactions, a shortcut over them) computes the same thing for every child; only the chosen
part and what follows it differ. Inside ``FixedOutputs(net, labels)`` each such module returns
its previous output when it is called again with the very same argument objects, which happens
exactly when its inputs come from the same batch through other reused modules. A call with any
new argument runs the module as before, so the result is the one a plain forward gives, bit for
bit, as long as the forward is deterministic (scoring: eval mode, no dropout, no noise).
"""
from __future__ import annotations

from torch import nn

from nasc.runtime.choices import ChoiceModule


def reached_by(module: nn.Module, labels: set[str]) -> bool:
    """Whether ``module``'s subtree holds a choice labelled in ``labels``."""
    return any(isinstance(m, ChoiceModule) and m.label in labels for m in module.modules())


def fixed_modules(net: nn.Module, labels) -> list[nn.Module]:
    """The largest submodules of ``net`` that no choice in ``labels`` reaches and that are called
    (containers such as ModuleList are looked into), breadth first."""
    labels = set(labels)
    found, todo = [], [net]
    while todo:
        module = todo.pop(0)
        for child in module.children():
            called = type(child).forward is not nn.Module.forward
            (found if called and not reached_by(child, labels) else todo).append(child)
    return found


class _Memo:
    """The last call of one module: its argument objects (held, so ids stay unique) and result."""

    def __init__(self, module: nn.Module):
        self.forward = module.forward
        self.args: tuple | None = None
        self.result = None
        self.calls = self.runs = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if not self.repeats(args, kwargs):
            self.runs += 1
            self.result = self.forward(*args, **kwargs)
            self.args = (args, kwargs)
        return self.result

    def repeats(self, args: tuple, kwargs: dict) -> bool:
        if self.args is None:
            return False
        last_args, last_kwargs = self.args
        return (_same(args, last_args) and kwargs.keys() == last_kwargs.keys()
                and _same(kwargs.values(), last_kwargs.values()))


def _same(these, those) -> bool:
    """The same objects, one for one (identity: a tensor equal in value may still differ)."""
    these, those = list(these), list(those)
    return len(these) == len(those) and all(a is b for a, b in zip(these, those))


class FixedOutputs:
    """Within the block, the modules of ``net`` that no choice in ``labels`` reaches reuse their
    output for repeated argument objects. Use it only around deterministic forwards (scoring)
    of a net whose other choices are held, under ``torch.no_grad``."""

    def __init__(self, net: nn.Module, labels):
        self.modules = fixed_modules(net, labels)
        self.memos: list[_Memo] = []

    def __enter__(self) -> FixedOutputs:
        for module in self.modules:
            if "forward" in vars(module):
                raise RuntimeError(f"{type(module).__name__} already has its forward replaced")
            memo = _Memo(module)
            module.forward = memo
            self.memos.append(memo)
        return self

    def __exit__(self, *exc) -> None:
        for module in self.modules:
            vars(module).pop("forward", None)
        self.memos.clear()

    def runs(self) -> int:
        """How many times a reused module actually ran (the rest were reused)."""
        return sum(m.runs for m in self.memos)

    def calls(self) -> int:
        return sum(m.calls for m in self.memos)
