"""Test helper: whether two merged dataset files hold the same data (timings and versions aside)."""

from __future__ import annotations

import os
from typing import Any

from chshml.shards import _same, attr_value
from chshml.store import read_h5


def is_volatile_attr(name: str) -> bool:
    """True for attributes that describe the run (timings, versions, host), not the data."""
    return ("cpu_seconds" in name or "wall_seconds" in name or name.startswith("versions.")
            or name.endswith("chshml_version") or name in ("merged_at", "host"))


def data_fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """Datasets and non-volatile attributes of a merged file: equal for equal seed and config."""
    data, attrs = read_h5(path)
    keep = {k: attr_value(v) for k, v in attrs.items()
            if not is_volatile_attr(k) and k not in ("shard_files",)}
    return {"data": data, "attrs": keep}


def same_data(a: str | os.PathLike, b: str | os.PathLike) -> list[str]:
    """Names of datasets/attributes that differ between two merged files (empty: identical)."""
    fa, fb = data_fingerprint(a), data_fingerprint(b)
    diffs = []
    for part in ("data", "attrs"):
        for key in sorted(set(fa[part]) | set(fb[part])):
            if key not in fa[part] or key not in fb[part]:
                diffs.append(f"{part}:{key} (missing)")
            elif not _same(fa[part][key], fb[part][key]):
                diffs.append(f"{part}:{key}")
    return diffs
