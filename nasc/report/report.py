"""report.md and its pictures, for a search run (``write_run_report``, called when a search
finishes and after --retrain) or for a spec (``write_spec_report``); `nasc show` picks one."""
from __future__ import annotations

import json
from pathlib import Path

from nasc.compiler.program import BlocksDef, CellDef, InteractionsDef, MlpDef, Program
from nasc.compiler.space import choices
from nasc.errors import Diagnostic, UsageError
from nasc.fileio import write_atomic
from nasc.report.weights import weight_names

PICTURES = "pictures"


def draw_constructs(program: Program, out: Path, only: set[str] | None = None) -> list[tuple]:
    """A picture per cell, interactions, mlp and blocks statement (those named in ``only``, when
    given): [(title, path relative to ``out``)]."""
    from nasc.report.cells import cell_title, draw_cell
    from nasc.report.constructs import draw_blocks, draw_interactions, draw_mlp

    drawn = []
    for b in program.bindings:
        if only is not None and b.name not in only:
            continue
        kind = {CellDef: "cell", InteractionsDef: "interactions", MlpDef: "mlp",
                BlocksDef: "blocks"}.get(type(b))
        if kind is None:
            continue
        rel = f"{PICTURES}/{kind}-{b.name}.png"
        if kind == "cell":
            draw_cell(b, out / rel, cell_title(b))
        else:
            {"interactions": draw_interactions, "mlp": draw_mlp, "blocks": draw_blocks}[kind](
                b, out / rel)
        drawn.append((f"{kind} {b.name}", rel))
    return drawn


def _images(drawn: list[tuple]) -> list[str]:
    return [f"### {title}\n\n![{title}]({rel})\n" for title, rel in drawn]


def _choice_table(program: Program, chosen: dict | None) -> list[str]:
    """Every choice with its option count (and what the run kept): node-level choices have no
    picture of their own, so this table is theirs."""
    found = choices(program)
    if not found:
        return ["The spec has no open choices: it is a fixed architecture.\n"]
    head = "| choice | construct | options |" + (" kept |" if chosen is not None else "")
    lines = [head, "|---|---|---|" + ("---|" if chosen is not None else "")]
    for c in found:
        opts = f"{len(c.options)}: {', '.join(c.options)}" if c.options else c.detail
        row = f"| `{c.label}` | {c.construct} {c.owner} | {opts} |"
        if chosen is not None:
            row += f" {_kept_text(chosen.get(c.label, '-'))} |"
        lines.append(row)
    return lines + [""]


def _kept_text(value) -> str:
    if isinstance(value, list) and value and isinstance(value[0], list):
        if value[0] and isinstance(value[0][0], int):  # a cell node: [input, operator] pairs
            return ", ".join(f"{op} from {i}" for i, op in value)
        return ", ".join(" * ".join(map(str, t)) for t in value)  # interaction products
    return str(value)


def _kept_edges(program: Program) -> list[str]:
    lines = []
    for b in program.bindings:
        if isinstance(b, CellDef):
            edges = ", ".join(f"{i} -{c.options[0].text()}-> {j}" for i, j, c in b.edges
                              if c.fixed)
            lines.append(f"- cell `{b.name}` keeps: {edges}")
    return lines


def write_spec_report(spec_path: str, out: Path) -> Path:
    from nasc.compiler.frontend import load

    _, _, program = load(spec_path)
    drawn = draw_constructs(program, out)
    text = [f"# Spec {program.name} ({spec_path})\n",
            f"Strategy: {program.strategy.name if program.strategy else 'none (fixed)'}\n",
            "## Choices\n", *_choice_table(program, None), "## Constructs\n", *_images(drawn)]
    write_atomic(out / "report.md", "\n".join(text))
    return out / "report.md"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _draw_weights(history: list[dict], spec: Program, out: Path) -> tuple[list, dict]:
    from nasc.report.curves import draw_weights
    from nasc.report.weights import arch_history

    per_epoch = arch_history(history)
    if not per_epoch:
        return [], {}
    groups: dict[str, dict] = {}
    for label in per_epoch[-1]:
        construct, kind = label.split(".")[0], label.rsplit(".", 1)[-1].split("[")[0]
        groups.setdefault(f"{construct}-{kind}", {})[label] = [e[label] for e in per_epoch
                                                               if label in e]
    names = weight_names(spec)
    drawn = []
    for group, rows in sorted(groups.items()):
        rel = f"{PICTURES}/weights-{group}.png"
        construct, kind = group.rsplit("-", 1)
        draw_weights(rows, names, out / rel, f"{construct}: {kind} per epoch")
        drawn.append((f"{kind} of {construct} over the epochs", rel))
    return drawn, per_epoch[-1]


def _test_section(run: Path, data: str) -> list[str]:
    from nasc.report.baselines import LEADERBOARD, baselines_for, data_name

    summary = _read_json(run / "retrain" / "summary.json")
    test = summary.get("test") if isinstance(summary, dict) else None
    lines = ["## Test score\n"]
    if not isinstance(test, dict):
        return lines + ["Not retrained yet: `nasc search --resume RUN --retrain` trains the "
                        "found architecture and scores it on the test rows.\n"]
    lines += ["| model | kind | split | test AUC | test logloss |", "|---|---|---|---|---|",
              f"| **this run** | searched, retrained | | {_score(test.get('auc'))} | "
              f"{_score(test.get('logloss'))} |"]
    board = baselines_for(data)
    for r in board:
        lines.append(f"| {r.get('model')} | {r.get('kind', '')} | {r.get('split', '')} | "
                     f"{_score(r.get('test_auc_mean'))} | {_score(r.get('test_logloss_mean'))} |")
    if not board:
        lines.append(f"\nNo baseline scores for `{data_name(data)}` in {LEADERBOARD.name}.")
    return lines + [""]


def _finalists_section(run: Path) -> list[str]:
    """The further evaluation of random, evolution and RL with `top` above 1: each finalist's
    short-budget and full validation scores, the kept one in bold."""
    rows = _read_json(run / "finalists.json")
    if not isinstance(rows, list) or not rows:
        return []
    scores = [r for r in rows if isinstance(r, dict) and isinstance(r.get("valid"), dict)]
    summary = _read_json(run / "summary.json") or {}
    kept = summary.get("best_child") if isinstance(summary, dict) else None
    lines = ["## Finalists\n",
             "The best children by their short budget, each trained again with the train "
             "block's recipe; the best of them on validation is the answer.\n",
             "| rank | child | epochs | short-budget valid AUC | full valid AUC | "
             "full valid logloss |", "|---|---|---|---|---|---|"]
    for r in scores:
        child = f"**{r.get('child')}**" if r.get("child") == kept else f"{r.get('child')}"
        short = r.get("short_valid") if isinstance(r.get("short_valid"), dict) else {}
        lines.append(f"| {r.get('rank')} | {child} | {r.get('epochs')} | "
                     f"{_score(short.get('auc'))} | {_score(r['valid'].get('auc'))} | "
                     f"{_score(r['valid'].get('logloss'))} |")
    return lines + [""]


def _score(v) -> str:
    return f"{v:.4f}" if isinstance(v, (int, float)) else "-"


def write_run_report(run: Path, out: Path | None = None) -> list[str]:
    """Draw a search run's pictures and write report.md into ``out`` (default the run
    directory); return its warnings."""
    from nasc.compiler.frontend import compile_text
    from nasc.report.curves import draw_validation, validation_series
    from nasc.report.weights import uniform_warning

    run = Path(run)
    out = Path(out) if out is not None else run
    spec_text = (run / "spec.nas").read_text(encoding="utf-8")
    _, spec = compile_text(spec_text, str(run / "spec.nas"))
    record = _read_json(run / "run.json") or {}
    arch_file = run / "arch.nas"
    found = arch_file.read_text(encoding="utf-8") if arch_file.is_file() else None
    searched = {c.owner for c in choices(spec)}
    chosen = _read_json(run / "choices.json")
    _, fixed = compile_text(found, str(arch_file)) if found else (None, None)
    drawn = draw_constructs(fixed or spec, out, searched)
    weights, last = _draw_weights(_read_json(run / "history.json") or [], spec, out)
    warnings = [w for w in [uniform_warning(last)] if w]
    series, xlabel, xs = validation_series(_read_json(run / "metrics.json"),
                                           _read_json(run / "children.json"))
    curves = []
    if series:
        draw_validation(series, xlabel, out / PICTURES / "validation.png",
                        f"validation per {xlabel}", xs)
        curves = [(f"validation per {xlabel}", f"{PICTURES}/validation.png")]
    data = str(record.get("data", "synthetic"))
    text = [f"# Search of {spec.name} ({record.get('strategy', spec.strategy.name)})\n",
            f"Data `{data}`, seed {record.get('seed')}, spec `{record.get('spec_path')}`.\n",
            *[f"> **{w}**\n" for w in warnings],
            "## Found architecture\n",
            *(_kept_edges(fixed) + [""] if fixed else []),
            "```\n" + (found or "(no arch.nas yet: the search has not finished)\n") + "```\n",
            "## Choices\n", *_choice_table(spec, chosen if isinstance(chosen, dict) else {}),
            "## Pictures\n", *_images(drawn), *_images(weights),
            "## Validation\n", *(_images(curves) or ["No validation curve recorded.\n"]),
            *_finalists_section(run), *_test_section(run, data)]
    write_atomic(out / "report.md", "\n".join(text))
    return warnings


def show(target: str, out: str | None) -> str:
    """`nasc show`: a run directory's report and pictures, or a spec's structure."""
    path = Path(target)
    if path.is_dir() and (path / "spec.nas").is_file():
        dest = Path(out) if out else path
        warnings = write_run_report(path, dest)
        return "\n".join([*warnings, f"wrote {dest / 'report.md'} and {dest / PICTURES}/"])
    if path.is_file():
        dest = Path(out) if out else Path(f"show-{path.stem}")
        write_spec_report(str(path), dest)
        return f"wrote {dest / 'report.md'} and {dest / PICTURES}/"
    what = "is a directory without spec.nas (not a run directory)" if path.is_dir() \
        else "does not exist"
    raise UsageError([Diagnostic(target, 0, 0, f"{what}",
                                 "give a .nas spec or a run directory of `nasc search`")])



def report_note(run: Path) -> str:
    """What a finished search adds to its message: the report's warnings and where it is. A
    failed drawing is reported, not raised: the search's result is already saved."""
    try:
        warnings = write_run_report(Path(run))
    except Exception as err:  # noqa: BLE001 -- the search itself has succeeded
        return f"\nwarning: report.md not written ({type(err).__name__}: {err}); retry with " \
               f"`nasc show {run}`"
    return "".join(f"\n{w}" for w in warnings) + f"\nreport: {Path(run) / 'report.md'}"
