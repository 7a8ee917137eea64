"""A finished training run read back: its fixed model with the best weights, and its feature map.

A run directory of ``nasc train`` qualifies, and so does one of ``nasc search --retrain`` (its
``retrain/``). Everything is read as data: the spec is compiled again from ``spec.nas``, the
weights load with ``weights_only=True``, the feature map is validated JSON. A directory that is
not a finished training run is a user error that names it and says what is missing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from nasc.errors import Diagnostic, UsageError
from nasc.runtime.data.featuremap import FeatureMap, read_feature_map

FEATURES = "features.json"
WEIGHTS = "best.pt"


@dataclass
class TrainedRun:
    path: Path
    model_name: str        # the spec's model name
    spec_text: str
    model: nn.Module       # the fixed model, best weights, in eval mode
    features: FeatureMap
    config: dict           # config.json
    summary: dict          # summary.json


def _refuse(path, message: str, hint: str) -> UsageError:
    return UsageError([Diagnostic(str(path), 0, 0, message, hint)])


def training_directory(path: str | Path) -> Path:
    """The directory that holds the trained model: RUN itself, or RUN/retrain of a search."""
    path = Path(path)
    if not path.is_dir():
        raise _refuse(path, "no such run directory" if not path.exists() else "not a directory",
                      "give the directory a `nasc train` or `nasc search --retrain` wrote")
    if (path / "run.json").is_file() and not (path / "config.json").is_file():
        if (path / "retrain" / "config.json").is_file():
            return path / "retrain"
        raise _refuse(path, "this search run has no trained model",
                      f"train what it found: nasc train {path / 'arch.nas'} (or search with "
                      "--retrain)")
    if not (path / "config.json").is_file():
        raise _refuse(path, "not a nasc training run (no config.json)",
                      "give the directory a `nasc train` or `nasc search --retrain` wrote")
    if not (path / "summary.json").is_file() or not (path / WEIGHTS).is_file():
        raise _refuse(path, "this training run did not finish (no summary.json or best.pt)",
                      "train it again: nasc train SPEC --out DIR --overwrite")
    return path


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _refuse(path, f"cannot read it: {exc}", "train the model again") from None
    if not isinstance(data, dict):
        raise _refuse(path, "not a JSON object", "train the model again")
    return data


def open_trained_run(path: str | Path) -> TrainedRun:
    from nasc.compiler.frontend import compile_text
    from nasc.runtime.data.table import Schema
    from nasc.runtime.model import build_fixed

    directory = training_directory(path)
    config, summary = _read_json(directory / "config.json"), _read_json(directory / "summary.json")
    spec_path = directory / "spec.nas"
    try:
        spec_text = spec_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _refuse(spec_path, f"cannot read it: {exc.strerror or exc}",
                      "train the model again") from None
    _, program = compile_text(spec_text, str(spec_path))
    if program.head.task != "ctr":
        raise _refuse(directory, f"model `{program.name}` has `head {program.head.task}`",
                      "export and predict score CTR models (one probability per row)")
    if not (directory / FEATURES).is_file():
        raise _refuse(directory / FEATURES,
                      f"the run has no feature map (its data, {config.get('data')!r}, has no "
                      "reader for raw rows, or an older nasc trained it)",
                      "feature maps exist for CSV/TSV/Parquet with a schema, libfm, Criteo, "
                      "Avazu and the synthetic default; train the model again")
    features = read_feature_map(directory / FEATURES)
    try:
        schema = Schema.from_json(config["schema"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _refuse(directory / "config.json", f"no readable schema ({exc})",
                      "train the model again") from None
    model = build_fixed(program, schema)
    _load_weights(model, directory / WEIGHTS)
    model.eval()
    return TrainedRun(directory, program.name, spec_text, model, features, config, summary)


def _load_weights(model: nn.Module, path: Path) -> None:
    # torch.load raises whatever a damaged file leads its unpickler to, load_state_dict a
    # RuntimeError for another model's weights: all mean "not this run's weights".
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True)["model"])
    except Exception:
        raise _refuse(path, "is truncated or not this run's weights",
                      "train the model again") from None
