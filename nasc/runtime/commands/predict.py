"""``nasc predict``: score raw rows with a trained run (PyTorch) or an export (TorchScript/ONNX),
one probability per row, in row order, to CSV or Parquet."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from nasc.errors import Diagnostic, UsageError

OUTPUTS = (".csv", ".parquet")


def predict_rows(source: str, data: str, schema: str | None = None,
                 out: str | None = None) -> str:
    from nasc.fileio import write_atomic
    from nasc.runtime.data.rawrows import read_rows
    from nasc.runtime.data.textio import strip_suffixes
    from nasc.runtime.export import score

    target = Path(out) if out else Path(f"{strip_suffixes(data)}.predictions.csv")
    if target.suffix not in OUTPUTS:
        raise UsageError([Diagnostic(str(target), 0, 0, "unknown output format",
                                     "--out names a .csv or a .parquet file")])
    features, scorer, what = _open_scorer(Path(source))
    if schema is not None:
        _check_schema(schema, features)
    rows = read_rows(features, data)
    probabilities = score(scorer, rows.columns)
    write_atomic(target, _csv(probabilities) if target.suffix == ".csv"
                 else _parquet(probabilities))
    return f"scored {len(probabilities):,} rows of {data} with {what}; wrote {target}"


def _open_scorer(source: Path):
    """The feature map, a columns -> probabilities function, and what it is (for the message)."""
    from nasc.runtime.data.featuremap import read_feature_map
    from nasc.runtime.export import input_names, load_scorer, torch_scorer
    from nasc.runtime.exportdir import is_export, read_manifest
    from nasc.runtime.trainedrun import FEATURES, open_trained_run

    if is_export(source):
        manifest = read_manifest(source)
        features = read_feature_map(source / FEATURES)
        model = source / manifest.model_file
        if not model.is_file():
            raise UsageError([Diagnostic(str(model), 0, 0, "the export has no model file",
                                         "export the run again: nasc export RUN")])
        scorer = load_scorer(manifest.model_format, model, list(manifest.inputs))
        return features, scorer, f"the {manifest.model_format} export {source}"
    run = open_trained_run(source)
    return run.features, torch_scorer(run.model, input_names(run.model)), f"the run {run.path}"


def _check_schema(schema: str, features) -> None:
    """A schema given with the rows must declare the fields the model was trained on."""
    from nasc.runtime.data.tabular import load_schema

    declared, where = load_schema(schema)
    names = [f.get("name") for f in declared.get("fields", []) if isinstance(f, dict)]
    trained = [r.name for r in features.fields if r.kind in ("categorical", "multi_hot")]
    if sorted(map(str, names)) != sorted(trained):
        raise UsageError([Diagnostic(where, 0, 0, f"the schema's fields ({', '.join(map(str, names))}) "
                                                  "are not the model's",
                                     f"the model was trained on: {', '.join(trained)}")])


def _csv(probabilities: np.ndarray) -> str:
    # 9 significant digits give back the float32 the model computed, exactly.
    return "probability\n" + "".join(f"{p:.9g}\n" for p in probabilities)


def _parquet(probabilities: np.ndarray) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"probability": probabilities.astype(np.float32)}), buffer)
    return buffer.getvalue()
