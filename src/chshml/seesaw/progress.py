"""Per-point progress of a see-saw job, so a job killed at its wall-time limit resumes.

Progress lives in a folder next to the output (:func:`chshml.progress.progress_dir`):
``meta.json`` (a fingerprint of points and options) and one append-only binary file per MPI
rank with one fixed-size, CRC-checked record per finished point (best restart: certified
flag, seed, restarts tried, iterations, distance and the realisation). A job killed
mid-write loses at most the record being written; a rerun skips every point with a record.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from chshml.seesaw.records import SeesawConfig

_MAGIC = 0x53535731  # "SSW1"
#: Option names as they entered the fingerprint before the rename (progress folders of
#: earlier runs stay valid).
_FINGERPRINT_NAMES = {"local_dim": "dim", "restarts": "seeds"}


def record_dtype(local_dim: int) -> np.dtype:
    """The fixed-size record of one point for local dimension ``local_dim``."""
    n = local_dim**4 + 4 * local_dim * local_dim
    return np.dtype([("magic", "<u4"), ("certified", "<u4"), ("index", "<i8"), ("seed", "<i8"),
                     ("tried", "<i8"), ("iterations", "<i8"), ("distance", "<f8"),
                     ("payload", "<f8", (n,)), ("crc", "<u4"), ("pad", "<u4")])


def encode(index: int, best: dict[str, Any], local_dim: int) -> bytes:
    """The record of point ``index`` with its best restart ``best``, CRC included."""
    rec = np.zeros(1, dtype=record_dtype(local_dim))
    rec["magic"] = _MAGIC
    rec["certified"] = int(best["certified"])
    for k in ("seed", "tried", "iterations", "distance"):
        rec[k] = best[k]
    rec["index"] = index
    rec["payload"][0] = np.concatenate([np.ravel(best["state"]), np.ravel(best["a"]),
                                        np.ravel(best["b"])])
    raw = rec.tobytes()
    rec["crc"] = zlib.crc32(raw[:-8])
    return rec.tobytes()


def read_records(folder: Path, local_dim: int) -> dict[int, dict[str, Any]]:
    """All intact records in ``folder/rank*.bin`` (a torn or corrupt record is dropped)."""
    dt = record_dtype(local_dim)
    out: dict[int, dict[str, Any]] = {}
    d2 = local_dim * local_dim
    for path in sorted(folder.glob("rank*.bin")):
        raw = path.read_bytes()
        n = len(raw) // dt.itemsize
        recs = np.frombuffer(raw[:n * dt.itemsize], dtype=dt)
        for k, rec in enumerate(recs):
            chunk = raw[k * dt.itemsize:(k + 1) * dt.itemsize]
            if rec["magic"] != _MAGIC or zlib.crc32(chunk[:-8]) != rec["crc"]:
                continue
            pay = rec["payload"]
            out[int(rec["index"])] = {
                "certified": bool(rec["certified"]), "seed": int(rec["seed"]),
                "tried": int(rec["tried"]), "iterations": int(rec["iterations"]),
                "distance": float(rec["distance"]),
                "state": pay[:d2 * d2].reshape(d2, d2),
                "a": pay[d2 * d2:d2 * d2 + 2 * d2].reshape(2, local_dim, local_dim),
                "b": pay[d2 * d2 + 2 * d2:].reshape(2, local_dim, local_dim)}
    return out


def open_append(path: Path, local_dim: int) -> IO[bytes]:
    """Open a rank file for appending after trimming a torn last record."""
    size = record_dtype(local_dim).itemsize
    if path.exists():
        whole = (path.stat().st_size // size) * size
        if whole != path.stat().st_size:
            with open(path, "r+b") as f:
                f.truncate(whole)
    return open(path, "ab")


def fingerprint(points: np.ndarray, config: SeesawConfig) -> str:
    """Hash of the points and every option that changes results (not batching or ranks)."""
    h = hashlib.sha256(np.ascontiguousarray(points, dtype="<f8").tobytes())
    keys = {_FINGERPRINT_NAMES.get(k, k): v for k, v in asdict(config).items()
            if k not in ("seed_batch", "chunk")}
    h.update(json.dumps(keys, sort_keys=True).encode())
    return h.hexdigest()
