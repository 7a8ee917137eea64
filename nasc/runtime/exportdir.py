"""An export directory (``nasc export``): the model file, its feature map and a manifest.

    model.pt | model.onnx   the scorer (nasc.runtime.export): input tensors -> probability
    features.json           the feature map: raw rows -> input ids (nasc.runtime.data.featuremap)
    export.json             the manifest: the format, the model file, its inputs in order with
                            their shapes, the output, the run it came from and its test scores
    spec.nas                the model's spec, for a reader

The directory is written under a temporary name beside the target and renamed into place, so it
is whole or absent; an earlier export at the target is replaced, any other directory refused.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, ValidationError

from nasc.errors import Diagnostic, UsageError
from nasc.fileio import make_dirs, write_atomic

MANIFEST = "export.json"
FORMAT = "nasc export 1"


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["nasc export 1"]
    model_format: Literal["torchscript", "onnx"]
    model_file: Literal["model.pt", "model.onnx"]
    inputs: dict[str, list[Union[StrictStr, StrictInt]]]  # in the scorer's argument order
    output: Literal["probability"]
    model_name: StrictStr
    run: StrictStr
    test: dict[str, float]


def is_export(path: Path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def read_manifest(directory: Path) -> Manifest:
    path = Path(directory) / MANIFEST
    try:
        return Manifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise UsageError([Diagnostic(str(path), 0, 0, f"not a nasc export manifest: {reason}",
                                     "export the run again: nasc export RUN")]) from None


def write_export(target: Path, files: dict[str, str | bytes], write_model) -> None:
    """Write ``files`` (name -> content) and the model (``write_model(directory)``) into a
    temporary directory, then rename it to ``target``: a failure leaves nothing behind."""
    target = Path(target)
    if target.exists() and not is_export(target) and (not target.is_dir() or any(target.iterdir())):
        raise UsageError([Diagnostic(str(target), 0, 0, "exists and is not a nasc export",
                                     "choose a new or empty directory with --out")])
    make_dirs(target.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_model(staging)
        for name, content in files.items():
            write_atomic(staging / name, content)
        _replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _replace(staging: Path, target: Path) -> None:
    """Put ``staging`` where ``target`` is: the old export moves aside first and is deleted
    only after the new one is in place."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
