"""Model metadata: the JSON beside every model file, saved and checked as one unit with it.

``MODEL.joblib`` / ``.keras`` / ``.npz`` has ``MODEL.json`` beside it (space, dataset,
choice, timings, versions and the model file's SHA-256), so a model is never loaded with
the wrong space or after an interrupted save.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chshml.errors import InputError


def model_meta_path(path: str | Path) -> Path:
    """The metadata JSON of a model file: ``MODEL.joblib`` -> ``MODEL.json``."""
    return Path(path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_with_meta(path: str | Path, meta: dict, dump: Callable[[Path], None],
                   inputs: tuple = ()) -> None:
    """Save a model and its metadata JSON as one unit.

    The model goes to a temporary file first; the JSON (with the model's SHA-256 as
    ``model_sha256``) is renamed into place next, the model last. A kill at any point leaves
    either the old pair or a JSON whose hash does not match the model, which
    :func:`load_model` refuses; it never leaves a pair that looks valid and is not.
    """
    from chshml.store import atomic_path, check_output

    meta_path = model_meta_path(path)
    check_output(meta_path, inputs, "-o (metadata JSON)")
    with atomic_path(path, inputs, keep_suffix=True) as tmp:
        dump(tmp)
        meta = dict(meta, model_sha256=file_sha256(tmp), model_file=Path(path).name)
        text = json.dumps(meta, indent=2, sort_keys=False,
                          default=lambda o: o.item() if hasattr(o, "item") else str(o))
        with atomic_path(meta_path, inputs, "-o (metadata JSON)") as tmp_meta:
            tmp_meta.write_text(text + "\n")


def save_npz_with_meta(path: str | Path, meta: dict, arrays: dict[str, Any],
                       inputs: tuple = ()) -> None:
    """:func:`save_with_meta` for a model stored as plain ``.npz`` arrays (no pickles)."""
    import numpy as np

    def dump(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    save_with_meta(path, meta, dump, inputs)


def read_meta(path: str | Path) -> dict:
    """The metadata of model ``path``; a missing, unreadable or stale JSON is an InputError."""
    p = model_meta_path(path)
    if not p.is_file():
        raise InputError(f"{path}: its metadata {p} is missing (chshml train writes both; "
                         "retrain or restore the JSON)")
    try:
        meta = json.loads(p.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{p}: cannot read the model metadata ({err})") from None
    if not isinstance(meta, dict) or meta.get("space") not in ("corr4", "full8"):
        raise InputError(f"{p}: not the metadata of a chshml model (no space corr4/full8)")
    want = meta.get("model_sha256")
    if want is not None and file_sha256(path) != want:
        raise InputError(f"{path} does not match its metadata {p} (interrupted save?); "
                         "retrain the model")
    return meta
