"""``nasc train``: train the fixed model of a spec on a dataset and write its run directory."""
from __future__ import annotations

from nasc.compiler.space import choices
from nasc.errors import UsageError
from nasc.runtime.commands.common import at_model, claim_new_run, open_labels, use_threads
from nasc.runtime.commands.dataset import (
    check_task, data_schema, log_options, open_dataset, resolved_split_seed,
)


def train_spec(spec_path: str, *, data: str = "synthetic", split: str = "auto",
               out: str | None = None, seed: int | None = None, epochs: int | None = None,
               batch: int | None = None, device: str = "cpu", quiet: bool = False,
               init: str | None = None, eval_negatives: int | str | None = None,
               train_positions: int | str | None = None, overwrite: bool = False,
               threads: int | None = None, split_seed: int | None = None,
               schema: str | dict | None = None, tensorboard: bool = False) -> str:
    """``nasc train``: build the fx model of a fixed spec, train it, write the run directory.

    ``init``: a state_dict file to start from (``RUN/inherited.pt`` of a one-shot search).
    ``overwrite``: start over in a run directory that holds an earlier run (else refused).
    ``threads``: CPU threads (None: the thread policy, nasc.runtime.threads). ``split_seed``:
    the seed of a random 8:1:1 split (None: SPLIT_SEED, the same rows for every seed).
    ``schema``: the field schema (a JSON/YAML file or its dict) of a CSV/TSV/Parquet ``data``
    (nasc.runtime.data.schemafile). ``tensorboard``: also write the metrics rows as
    TensorBoard scalars in RUN/tensorboard/.
    ``eval_negatives`` (an int or "full") and ``train_positions`` (an int or "all") are for
    ``head next_item`` models (``nasc.runtime.retrieval``)."""
    import json
    from pathlib import Path

    import torch

    from nasc.compiler.frontend import load
    from nasc.runtime.model import build_fixed
    from nasc.runtime.rundir import RunDir
    from nasc.runtime.runlock import exclusive
    from nasc.runtime.train import TrainConfig, train_model

    text, _, program = load(spec_path)
    if choices(program):
        raise UsageError([at_model(program, spec_path,
                                    f"model `{program.name}` still has choices "
                                    f"({open_labels(program)}), so it is a search space, not a "
                                    "model", f"search it first: nasc search {spec_path}")])
    next_item = program.head.task == "next_item"
    config = TrainConfig.from_settings(program.train, seed=seed, epochs=epochs, batch=batch,
                                       device=device, eval_negatives=eval_negatives,
                                       train_positions=train_positions)
    cpu = use_threads(threads, quiet, program.train.get("threads"))
    options = log_options(program, data, config.train_positions)
    schema = data_schema(schema)
    if schema is not None:
        options["schema"] = schema
    dataset = open_dataset(program, data, seed=config.seed, split=split, split_seed=split_seed,
                           **options)
    check_task(program, dataset, data)
    torch.manual_seed(config.seed)
    model = build_fixed(program, dataset.schema)
    if init is not None:
        model.load_state_dict(torch.load(init, map_location="cpu", weights_only=True))
    run = RunDir(out or Path("runs") / f"train-{Path(spec_path).stem}-{config.seed}")
    with exclusive(run.path):
        claim_new_run(run.path, overwrite, "train", text)
        parameters = sum(p.numel() for p in model.parameters())
        protocol = {}
        if next_item:
            from nasc.runtime.retrieval import (
                MONITOR_NAMES, eval_protocol, evaluation_protocol, train_protocol,
            )

            num_items = dataset.meta["num_items"]
            protocol = {"protocol": eval_protocol(config.eval_negatives, config.seed, num_items,
                                                  config.eval_sampling),
                        "evaluation": evaluation_protocol(config.eval_negatives, config.seed,
                                                          num_items, config.eval_sampling),
                        "train_protocol": train_protocol(config),
                        "monitor": f"valid {MONITOR_NAMES[config.monitor]}"}
        run.write_text("spec.nas", text)
        run.write_json("config.json", {"spec": spec_path, "data": data, "split": split,
                                       "split_seed": resolved_split_seed(split_seed),
                                       "cpu": cpu.to_json(), "train": config.to_json(),
                                       "schema": dataset.schema.to_json(),
                                       "parameters": parameters, **protocol,
                                       **({"data_schema": schema} if schema else {})})
        if dataset.features is not None:  # how `nasc predict` reads raw rows as training did
            run.write_text("features.json", json.dumps(dataset.features) + "\n")
        if tensorboard:
            from nasc.runtime.scalars import attach

            attach(run)
        try:
            result = train_model(model, dataset, config, run, show_progress=not quiet,
                                 score_initial=init is not None)
        finally:
            if run.scalars is not None:
                run.scalars.close()
        summary = {"best_epoch": result.best_epoch, "valid": result.valid, "test": result.test,
                   "epochs_run": result.epochs_run, "train_seconds": result.train_seconds,
                   "samples_per_second": result.samples_per_second, "device": device,
                   "parameters": parameters, "compile": result.compile, **protocol}
        run.write_json("summary.json", summary)
        done = (f"best epoch {result.best_epoch} of {result.epochs_run}; "
                f"{result.samples_per_second:,.0f} samples/s on {device}")
        if next_item:
            scores = ", ".join(f"{k} {result.test[k]:.4f}"
                               for k in ("HR@1", "HR@5", "NDCG@5", "HR@10", "NDCG@10"))
            return (f"{Path(spec_path).name} on {data}: test {scores} ({done}; "
                    f"{protocol['protocol']}); run in {run.path}")
        return (f"{Path(spec_path).name} on {data}: test AUC {result.test['auc']:.5f}, "
                f"logloss {result.test['logloss']:.5f} ({done}); run in {run.path}")
