"""Files of behaviours: reading points (HDF5, .npy, .csv) and atomic HDF5 writes.

A result file is written under a temporary name in the same folder and renamed into
place, so a job killed mid-write never leaves a half-written result behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.geometry import ns_violation

#: Slack allowed on NS positivity when validating input (points on a facet are valid).
NS_INPUT_TOL = 1e-9


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_h5(path: str | os.PathLike, datasets: Mapping[str, Any],
             attrs: Mapping[str, Any] | None = None) -> None:
    """Write ``datasets`` (name -> array; str arrays become UTF-8 strings) atomically."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for name, data in datasets.items():
            arr = np.asarray(data)
            if arr.dtype.kind in ("U", "O"):
                f.create_dataset(name, data=arr.astype(object),
                                 dtype=h5py.string_dtype(encoding="utf-8"))
            else:
                f.create_dataset(name, data=arr)
        for key, value in (attrs or {}).items():
            f.attrs[key] = value


def read_h5(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """All top-level datasets (strings decoded) and file attributes of an HDF5 file."""
    import h5py

    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        for name, ds in f.items():
            if not isinstance(ds, h5py.Dataset):
                continue
            if h5py.check_string_dtype(ds.dtype) is not None:
                out[name] = ds.asstr()[()]
            else:
                out[name] = ds[()]
        attrs = dict(f.attrs)
    return out, attrs


def read_input_h5(path: str | os.PathLike, what: str = "file"
                  ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """:func:`read_h5` for user input: a missing or unreadable file is an InputError
    (one line, exit code 2) that names the path; ``what`` names the file's role."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} not found: {path}")
    try:
        return read_h5(path)
    except OSError as err:
        raise InputError(f"{path}: cannot read HDF5 ({err})") from None


def load_points(path: str | os.PathLike, check_ns: bool = True,
                allow_empty: bool = False) -> np.ndarray:
    """Behaviours (n x 4 or n x 8, float64) from HDF5 (dataset ``points``), .npy or .csv.

    Raises :class:`InputError` naming the file, row or column for anything unusable.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                if "points" not in f:
                    raise InputError(f"{path}: no dataset 'points' (found: {sorted(f.keys())})")
                points = np.asarray(f["points"][()], dtype=float)
        elif suffix == ".npy":
            points = np.asarray(np.load(path, allow_pickle=False), dtype=float)
        elif suffix in (".csv", ".txt"):
            points = _load_csv(path)
        else:
            raise InputError(f"{path}: unknown input format {suffix!r} (use .h5, .npy or .csv)")
    except InputError:
        raise
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read: {err}") from err
    return validate_points(points, str(path), check_ns=check_ns, allow_empty=allow_empty)


def _load_csv(path: Path) -> np.ndarray:
    rows = []
    with open(path) as f:
        for lineno, line in enumerate(f, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            fields = [x.strip() for x in text.split(",")]
            try:
                rows.append([float(x) for x in fields])
            except ValueError:
                if not rows and lineno == 1:
                    continue  # a header line
                raise InputError(f"{path}: line {lineno}: not a row of numbers: {text!r}") from None
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        bad = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
        raise InputError(f"{path}: row {bad}: {len(rows[bad])} values, row 0 has {len(rows[0])}")
    return np.array(rows, dtype=float).reshape(len(rows), -1 if rows else 0)


def validate_points(points: np.ndarray, source: str = "input", check_ns: bool = True,
                    allow_empty: bool = False) -> np.ndarray:
    """Check shape, finiteness and NS membership; raise :class:`InputError` naming the row."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] not in (4, 8):
        raise InputError(f"{source}: points must be an n x 4 or n x 8 array, got shape "
                         f"{points.shape}")
    if len(points) == 0 and not allow_empty:
        raise InputError(f"{source}: no points")
    finite = np.isfinite(points).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise InputError(f"{source}: row {row} is not finite: {points[row].tolist()}")
    if check_ns:
        viol = ns_violation(points)
        if (viol > NS_INPUT_TOL).any():
            row = int(np.flatnonzero(viol > NS_INPUT_TOL)[0])
            raise InputError(f"{source}: row {row} is outside the non-signalling polytope "
                             f"(a probability is {-viol[row] / 4:.3g})")
    return points


def attr_to_json(value: Any) -> Any:
    """An HDF5 attribute as a JSON value: arrays as lists, numpy scalars as numbers, bytes
    as text, anything else unknown as its string."""
    if isinstance(value, np.ndarray) and value.ndim > 0:
        return [attr_to_json(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [attr_to_json(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "item"):
        return attr_to_json(value.item())
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)
