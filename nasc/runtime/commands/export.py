"""``nasc export``: a trained run's model as TorchScript or ONNX, with its feature map."""
from __future__ import annotations

import json
from pathlib import Path

from nasc.errors import Diagnostic, UsageError


def export_run(run_path: str, fmt: str, out: str | None = None) -> str:
    from nasc.runtime.export import (
        FORMATS, OUTPUT, Scorer, example_inputs, input_names, input_shapes, write_onnx,
        write_torchscript,
    )
    from nasc.runtime.exportdir import FORMAT, MANIFEST, write_export
    from nasc.runtime.trainedrun import FEATURES, open_trained_run

    run = open_trained_run(run_path)
    names = input_names(run.model)
    shapes = input_shapes(run.features, names)
    model_file = FORMATS[fmt]
    writer = write_onnx if fmt == "onnx" else write_torchscript
    scorer = Scorer(run.model, names)

    def write_model(directory: Path) -> None:
        try:
            writer(scorer, example_inputs(shapes), directory / model_file)
        except Exception as exc:  # an operator the format cannot express: not a crash of nasc
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError([Diagnostic(str(run.path), 0, 0, f"this model cannot be exported "
                                                              f"to {fmt}: {first}",
                                         "try the other --format"
                                         )]) from None

    manifest = {"format": FORMAT, "model_format": fmt, "model_file": model_file,
                "inputs": shapes, "output": OUTPUT, "model_name": run.model_name,
                "run": str(run.path), "test": run.summary.get("test", {})}
    target = Path(out) if out else run.path / f"export-{fmt}"
    write_export(target, {FEATURES: json.dumps(run.features.model_dump(mode="json")) + "\n",
                          "spec.nas": run.spec_text,
                          MANIFEST: json.dumps(manifest, indent=2) + "\n"}, write_model)
    return f"exported {run.path} as {fmt} to {target} ({model_file}, {FEATURES}, {MANIFEST})"
