"""Datasets for nasc: loading, preprocessing, caching. Entry point: ``load_dataset``."""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

from ...errors import DataError, Diagnostic, UsageError, data_error
from . import alimama, avazu, cache, criteo, libfm, sequences, synthetic, tabular
from .table import Dataset, FieldInfo, Schema, TensorTable
from .textio import head_lines
from .vocab import MIN_COUNT_HINT, is_count

__all__ = ["load_dataset", "detect_format", "data_format", "resolve_path", "Dataset", "FieldInfo",
           "Schema", "TensorTable", "FORMATS"]

FORMATS = ("synthetic", "libfm", "criteo", "avazu", "alimama", "tabular", "sequence")
SPLITS = ("auto", "files", "random811")
ACCEPTED = ("'synthetic'; a directory of *.libfm(.gz) train/validation/test files (Frappe_x1); "
            "a Criteo TSV/CSV(.gz); an Avazu CSV(.gz); an Alimama CSV(.gz) in DMR's layout; "
            "a CSV/TSV/Parquet file with --schema FILE (schema= in Python); "
            "a 'user item item …' sequence log (Beauty); a directory holding one such file and "
            "a README; or pass format= one of " + ", ".join(FORMATS))


def detect_format(path: Path) -> str:
    """Format of an existing path, from its name and first line."""
    if path.is_dir():
        if any(p.name.endswith((".libfm", ".libfm.gz")) for p in path.iterdir()):
            return "libfm"
        raise data_error(str(path), 1, "the directory holds no *.libfm or *.libfm.gz files",
                         f"accepted: {ACCEPTED}")
    if path.name.endswith(".parquet"):
        return "tabular"
    first = next(iter(head_lines(path, 1)), "")
    tokens = first.split()
    if criteo.is_criteo_header(first) or first.count("\t") == len(criteo.COLUMNS) - 1:
        return "criteo"
    if avazu.is_avazu_header(first):
        return "avazu"
    if alimama.is_alimama_header(first) or alimama.is_alimama_row(first):
        return "alimama"
    if len(tokens) >= 2 and all(":" in t for t in tokens[1:]):
        return "libfm"
    if len(tokens) >= 2 and all(t.isdigit() for t in tokens):
        return "sequence"
    raise data_error(str(path), 1, "cannot tell the format of this file",
                     f"accepted: {ACCEPTED}; a CSV/TSV with a header needs a schema: "
                     "--schema FILE (`nasc data infer FILE --out schema.json` writes one), "
                     "or schema= in Python",
                     first if len(first) <= 160 else first[:160] + " …")


def resolve_path(path: Path) -> Path:
    """A directory with no *.libfm files and one data file beside its README stands for that
    file (``beauty_s3rec/`` -> ``beauty_s3rec/Beauty.txt.gz``); any other path is itself."""
    if not path.is_dir() or any(p.name.endswith((".libfm", ".libfm.gz")) for p in path.iterdir()):
        return path
    files = [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
             and not p.name.lower().startswith("readme")]
    return files[0] if len(files) == 1 else path


def data_format(name_or_path: str) -> str | None:
    """The format ``load_dataset`` would read ``name_or_path`` as; None when it cannot tell
    (a missing path, an unknown format: loading it reports why)."""
    if name_or_path == "synthetic":
        return "synthetic"
    path = resolve_path(Path(name_or_path).expanduser())
    if not path.exists():
        return None
    try:
        return detect_format(path)
    except DataError:
        return None


def _usage(where: str, message: str, hint: str) -> UsageError:
    return UsageError([Diagnostic(where, 0, 0, message, hint)])


def _call(loader: Callable, where: str, *args, **kwargs) -> Dataset:
    """Call a loader, turning an unknown option into a UsageError that lists the known ones."""
    params = inspect.signature(loader).parameters
    unknown = [k for k in kwargs if k not in params]
    if unknown:
        known = ", ".join(k for k in params if k not in ("path", "seed"))
        raise _usage(where, f"unknown option {unknown[0]!r} for this dataset", f"options: {known}")
    if kwargs.get("min_count") is not None and not is_count(kwargs["min_count"]):
        raise _usage(where, f"min_count is {kwargs['min_count']!r}", MIN_COUNT_HINT)
    return loader(*args, **kwargs)


def load_dataset(name_or_path: str, *, seed: int = 2021, split: str = "auto",
                 split_seed: int | None = None, cache_dir: str | None = None,
                 **options) -> Dataset:
    """Load a dataset by name or path (see ACCEPTED); preprocessing is cached on disk.

    split="files" uses the data's own train/validation/test (Frappe_x1 files, leave-one-out for
    sequence logs) and is refused for data that has none (one CSV, Parquet or libfm file);
    "random811" pools all rows and splits them 8:1:1 with ``split_seed`` (AutoPI); "auto" is
    "files" where the data has its own split, else "random811". ``split_seed`` defaults to
    ``seed``; ``seed`` also draws the synthetic data and a log's sampled negatives. Options go to
    the format's loader, e.g. min_count=, schema= (tabular), task="next_item"|"ctr" and max_len=
    (sequence logs); format= forces a format and cache=False skips the cache.
    """
    where = str(name_or_path)
    if split not in SPLITS:
        raise _usage(where, f"unknown split {split!r}", "split is 'files' or 'random811'")
    split_seed = seed if split_seed is None else split_seed
    fmt = options.pop("format", None)
    use_cache = options.pop("cache", True)
    if fmt is not None and fmt not in FORMATS:
        raise _usage(where, f"unknown format {fmt!r}", f"formats: {', '.join(FORMATS)}")
    if fmt == "synthetic" or (fmt is None and name_or_path == "synthetic"):
        # The synthetic data is drawn with its seed: its rows follow the seed by definition.
        return _call(synthetic.make_synthetic, where, seed=seed, **options)

    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise data_error(where, 1, "no such file or directory", f"accepted: {ACCEPTED}")
    path = resolve_path(path)
    if fmt is None:
        fmt = "tabular" if "schema" in options else detect_format(path)

    if fmt == "libfm":
        sources = list(libfm.find_split_files(path).values()) if path.is_dir() else [path]
        loader = libfm.load_libfm
    elif fmt in ("criteo", "avazu", "alimama"):
        sources = [path]
        loader = {"criteo": criteo.load_criteo, "avazu": avazu.load_avazu,
                  "alimama": alimama.load_alimama}[fmt]
    elif fmt == "tabular":
        if "schema" not in options:
            raise data_error(where, 1, "a CSV/Parquet file needs a schema",
                             'pass --schema FILE (`nasc data infer DATA --out schema.json` writes '
                             'one), or schema= in Python')
        schema = options["schema"]
        sources = [path] + ([Path(schema)] if isinstance(schema, (str, Path)) else [])
        loader = tabular.load_tabular
    else:  # sequence log
        if split == "random811":
            raise _usage(where, "sequence logs are split leave-one-out", "use split='files'")
        sources = [path]
        options.setdefault("task", "next_item")  # stays in options: part of the cache key
        task = options["task"]
        if task not in ("next_item", "ctr"):
            raise _usage(where, f"unknown task {task!r} for a sequence log",
                         "task is 'next_item' or 'ctr'")
        loader = sequences.load_next_item if task == "next_item" else sequences.load_din_ctr

    own_split = fmt == "sequence" or (fmt == "libfm" and path.is_dir())
    if split == "files" and not own_split:
        raise _usage(where, "this data is one file, with no train/validation/test split of its "
                            "own", "use --split random811 (a seeded 8:1:1, --split-seed), or "
                                   "leave --split out")
    split = "files" if split == "auto" and own_split else \
        "random811" if split == "auto" else split
    # Sequence loaders split leave-one-out and take no split= or task= argument; their seed
    # draws sampled negatives. The others' seed draws the split only.
    if fmt == "sequence":
        loader_options = {k: v for k, v in options.items() if k != "task"}
    else:
        loader_options, seed = {**options, "split": split}, split_seed
    build = lambda: _call(loader, where, path, seed=seed, **loader_options)  # noqa: E731
    if not use_cache:
        return build()
    key_options = {"seed": seed, "split": split, **options}
    return cache.cached(fmt, sources, key_options, build, cache_dir)
