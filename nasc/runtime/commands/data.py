"""``nasc data infer`` (a schema to edit, guessed from a file) and ``nasc data inspect`` (what a
dataset becomes: rows per split, fields and vocabulary sizes, label rate)."""
from __future__ import annotations

import json
from pathlib import Path


def infer_command(data: str, out: str | None, separator: str = "|") -> str:
    """The guessed schema as text; written to ``out`` (YAML for .yaml/.yml, else JSON) when given."""
    from nasc.fileio import write_atomic
    from nasc.runtime.data.infer import infer_schema

    schema = infer_schema(data, separator)
    if out is not None and Path(out).suffix.lower() in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(schema, sort_keys=False, default_flow_style=None)
    else:
        text = json.dumps(schema, indent=2) + "\n"
    if out is None:
        return text.rstrip("\n")
    write_atomic(Path(out), text)
    kinds = ", ".join(f"{f['name']} {f['type']}" for f in schema["fields"])
    return (f"wrote {out}: label {schema['label']}; {kinds}\n"
            f"edit it, then: nasc search SPEC --data {data} --schema {out}")


def inspect_command(data: str, schema: str | None, split: str = "auto",
                    split_seed: int | None = None) -> str:
    """What training on ``data`` reads: the split's rows and label rates, each field's kind and
    vocabulary size (padding and out-of-vocabulary ids included)."""
    from nasc.runtime.commands.dataset import SYNTHETIC_DEFAULT, data_schema, resolved_split_seed
    from nasc.runtime.data import load_dataset

    options = dict(SYNTHETIC_DEFAULT) if data == "synthetic" else {}
    if schema is not None:
        options["schema"] = data_schema(schema)
    dataset = load_dataset(data, split=split, split_seed=resolved_split_seed(split_seed), **options)
    return describe_dataset(dataset)


def describe_dataset(dataset) -> str:
    meta = dataset.meta
    splits = dataset.splits()
    total = sum(len(t) for t in splits.values())
    lines = [f"{dataset.name}: {total:,} rows, split {meta.get('split', 'files')} "
             + "(" + ", ".join(f"{name} {len(t):,}" for name, t in splits.items()) + ")"]
    if dataset.schema.task == "ctr":
        rates = ", ".join(f"{name} {float(t.columns['label'].mean()) if len(t) else 0.0:.4f}"
                          for name, t in splits.items())
        lines.append(f"label rate: {rates}")
    else:
        lines.append(f"task: {dataset.schema.task}")
    schema = dataset.schema
    rows = [(f.name, f.kind + (f" ({schema.pooling.get(f.name, 'sum')}, {schema.multi_hot_len} "
                              f"ids a row at most)" if f.kind == "multi_hot" else ""),
             f.vocab_size, f.group)
            for f in [*schema.fields, *schema.sequence, *schema.target]]
    width = max(len(r[0]) for r in rows)
    lines.append(f"{len(rows)} fields (vocabulary: kept values + padding + out-of-vocabulary):")
    for name, kind, vocab, group in rows:
        shared = f", shared as {group}" if group != name else ""
        lines.append(f"  {name:<{width}}  {kind}, vocabulary {vocab:,}{shared}")
    if schema.max_len:
        lines.append(f"sequence length: {schema.max_len}")
    return "\n".join(lines)
