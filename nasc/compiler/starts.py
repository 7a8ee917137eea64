"""Start architectures of a search (``nasc search --start FILE``): points of the space the user
already knows, trained before any drawn child by the strategies that train children one by one.

As Optuna's ``enqueue_trial`` or a seeded initial population: a hand-crafted model written as
the space's choices, or an earlier search's answer, enters the search as its first children, so
the search keeps it unless a drawn child beats it on validation, and its answer is never worse on
validation than the best point the user brought.

A start file is either a fixed spec (``.nas``: an ``arch.nas`` of an earlier search of the same
space, or any fixed model whose labels are the space's) or JSON in the form of a run's
``choices.json``: one object ``{label: value}`` or a list of them. Every open choice of the
space must be given; each value must be one of its options (``fix_spec`` is the judge, and the
fixed spec's round trip gives each value the canonical text a drawn child has).

No torch here: this is front-end code.
"""
from __future__ import annotations

import json

from nasc.compiler.fix import assignment_of_fixed, fix_spec, from_json
from nasc.compiler.frontend import compile_text, read_source
from nasc.compiler.ir import Spec
from nasc.compiler.printer import print_spec
from nasc.compiler.program import InteractionsDef, Program
from nasc.compiler.space import choices
from nasc.errors import Diagnostic, SpecError

HINT = ("give every open choice of the space one of its options, in the form of a run's "
        "choices.json (`nasc search` writes one), or pass a fixed spec of the same space")


def read_starts(paths: list[str], spec: Spec, program: Program,
                field_names: list[str]) -> list[dict]:
    """The architectures of the start files, in order, each a complete assignment of the
    space's open choices in canonical form. Any problem is a located SpecError."""
    out: list[tuple[Diagnostic, dict]] = []
    for path in paths:
        for where, assignment, whole_spec in _read(str(path)):
            start = _checked(where, assignment, whole_spec, spec, program, field_names)
            for earlier_where, earlier in out:
                if earlier == start:
                    raise SpecError([Diagnostic(where.path, where.line, where.col,
                                                "this architecture repeats the one at "
                                                f"{earlier_where.path}:{earlier_where.line}",
                                                "give each start architecture once")])
            out.append((where, start))
    return [start for _, start in out]


def _read(path: str) -> list[tuple[Diagnostic, dict, bool]]:
    """(where, raw assignment, from a whole fixed spec) of each architecture in one file."""
    try:
        text = read_source(path)
    except OSError as err:
        raise SpecError([Diagnostic(path, 0, 0, f"cannot read the start file: {err.strerror}",
                                    "pass an existing .nas or .json file")]) from None
    if path.endswith(".nas"):
        _, fixed = compile_text(text, path)
        where = fixed.spec.model.span
        open_labels = [c.label for c in choices(fixed)]
        if open_labels:
            raise SpecError([Diagnostic(path, where.line, where.column,
                                        "a start spec must be a fixed model, but it still "
                                        "chooses " + ", ".join(f"`{x}`" for x in open_labels),
                                        "pass a run's arch.nas, or its choices.json")])
        return [(Diagnostic(path, where.line, where.column, ""), assignment_of_fixed(fixed), True)]
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise SpecError([Diagnostic(path, err.lineno, err.colno, f"not JSON: {err.msg}",
                                    HINT)]) from None
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, dict) for item in items):
        raise SpecError([Diagnostic(path, 1, 1, "a start file holds one JSON object "
                                    "{label: value} or a non-empty list of them", HINT)])
    return [(Diagnostic(path, *_line_col(text, at), ""), from_json(item), False)
            for item, at in zip(items, _object_offsets(text, isinstance(raw, list)))]


def _object_offsets(text: str, in_list: bool) -> list[int]:
    """Where each top-level object of a (valid) JSON text starts: the document, or the
    elements of its top-level list."""
    skip = lambda at: len(text) - len(text[at:].lstrip())  # noqa: E731
    if not in_list:
        return [skip(0)]
    decoder, at, offsets = json.JSONDecoder(), skip(0) + 1, []
    while True:
        at = skip(at)
        if text[at] == "]":
            return offsets
        offsets.append(at)
        _, at = decoder.raw_decode(text, at)
        at = skip(at)
        at += text[at] == ","


def _line_col(text: str, at: int) -> tuple[int, int]:
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def _checked(where: Diagnostic, assignment: dict, whole_spec: bool, spec: Spec,
             program: Program, field_names: list[str]) -> dict:
    def error(message: str, hint: str = HINT) -> SpecError:
        return SpecError([Diagnostic(where.path, where.line, where.col, message, hint)])

    labels = [c.label for c in choices(program)]
    # A fixed spec names every choice it makes; keep those of this space.
    if whole_spec:
        assignment = {k: v for k, v in assignment.items() if k in labels}
    unknown = [k for k in assignment if k not in labels]
    if unknown:
        raise error(f"`{unknown[0]}` is not an open choice of model `{program.name}`; its "
                    "choices are " + ", ".join(f"`{label}`" for label in labels))
    missing = [label for label in labels if label not in assignment]
    if missing:
        raise error(f"model `{program.name}` also chooses "
                    + ", ".join(f"`{label}`" for label in missing)
                    + ": a start architecture gives every choice")
    products = {b.label for b in program.bindings if isinstance(b, InteractionsDef)}
    for label in products & set(assignment):
        for product in assignment[label] if isinstance(assignment[label], tuple) else ():
            strange = [f for f in (product if isinstance(product, tuple) else ())
                       if f not in field_names]
            if strange:
                raise error(f"`{label}`: `{strange[0]}` is not a field of the data",
                            "the data's fields are " + ", ".join(field_names))
    try:
        fixed = fix_spec(spec, program, assignment, drop_search=True)
    except ValueError as err:
        raise error(str(err)) from None
    _, child = compile_text(print_spec(fixed), where.path)
    canonical = assignment_of_fixed(child)
    return {label: canonical[label] for label in labels}
