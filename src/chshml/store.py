"""Files of behaviours: reading points (HDF5, .npy, .csv) and atomic HDF5 writes.

A result file is written under a temporary name in the same folder and renamed into
place, so a job killed mid-write never leaves a half-written result behind.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.geometry import ns_violation

#: Suffixes of HDF5 outputs.
H5_SUFFIXES = (".h5", ".hdf5")

#: Slack allowed on NS positivity when validating input (points on a facet are valid).
NS_INPUT_TOL = 1e-9


#: Start of this process: temporary files of a target older than this are stale.
_PROCESS_START = time.time()


def _umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _kind(st: os.stat_result) -> str:
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(st.st_mode):
            return name
    return "not a regular file"


def check_output(path: str | os.PathLike, inputs: Iterable[str | os.PathLike | None] = (),
                 option: str = "-o", suffixes: tuple[str, ...] | None = None) -> Path:
    """Refuse an unusable output path before any work; return the path writes go to.

    Refused with one line naming ``option``: a path equal to one of ``inputs`` (same file
    after resolving symlinks), a directory or other non-regular file (device, FIFO: results
    are never written into special files), and a folder that cannot be created or written.
    A symlink is followed: the result replaces the file it points to, the link stays.
    With ``suffixes``, a name that says another format is refused too (last, so that an
    output naming an input is reported as such).
    """
    raw = Path(path)
    if str(path) == "" or raw.name in ("", ".", ".."):
        raise InputError(f"{option} {path}: not a file name")
    target = Path(os.path.realpath(raw))
    for src in inputs:
        if src is None:
            continue
        same = os.path.realpath(src) == str(target)
        if not same and target.exists() and Path(src).exists():
            try:
                same = os.path.samefile(src, target)
            except OSError:
                same = False
        if same:
            raise InputError(f"{option} {path} is the input {src}: refusing to overwrite an "
                             "input; choose another output file")
    if target.exists():
        st = os.stat(target)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{option} {path}: is {_kind(st)}, not a regular file; "
                             "give a file path")
    folder = target.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise InputError(f"{option} {path}: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path}: folder {folder} is not writable")
    if suffixes is not None:
        check_suffix(path, suffixes, option)
    return target


def check_suffix(path: str | os.PathLike, suffixes: tuple[str, ...], option: str = "-o",
                 what: str = "HDF5") -> None:
    """Refuse an output whose suffix says another format than the one written."""
    if Path(path).suffix.lower() not in suffixes:
        raise InputError(f"{option} {path}: writes {what}; use a name ending in "
                         f"{' or '.join(suffixes)}")


def clean_stale_temps(target: Path) -> int:
    """Remove temporary files of ``target`` left by killed earlier processes; return count."""
    removed = 0
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp*"):
        try:
            if tmp.is_file() and tmp.stat().st_mtime < _PROCESS_START:
                tmp.unlink()
                removed += 1
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, inputs: Iterable[str | os.PathLike | None] = (),
                option: str = "-o", keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``'s real target; rename it there on success.

    The one writer of result files: the output is checked (:func:`check_output`: never an
    input, never a special file, a symlink's target is written), the temporary file
    ``.NAME.XXXXXXXX.tmp`` gets the mode a new file would get under the umask, and stale
    temporary files of the same target left by killed runs are removed. With
    ``keep_suffix`` the temporary name ends in the target's suffix too (``.tmp.png``), for
    writers that choose the format by suffix (matplotlib, Keras).
    """
    target = check_output(path, inputs, option)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(target)
        suffix = ".tmp" + (target.suffix if keep_suffix else "")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError as err:
        raise InputError(f"{option} {path}: cannot write: {err.strerror or err}") from None
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str, inputs: Iterable[str | os.PathLike | None] = (),
               option: str = "-o") -> None:
    """Write ``text`` atomically through :func:`atomic_path`."""
    with atomic_path(path, inputs, option) as tmp:
        tmp.write_text(text)


def write_h5(path: str | os.PathLike, datasets: Mapping[str, Any],
             attrs: Mapping[str, Any] | None = None,
             inputs: Iterable[str | os.PathLike | None] = (), option: str = "-o") -> None:
    """Write ``datasets`` (name -> array; str arrays become UTF-8 strings) atomically;
    ``inputs`` are files the output must not replace (see :func:`check_output`)."""
    import h5py

    with atomic_path(path, inputs, option) as tmp, h5py.File(tmp, "w") as f:
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
    except (OSError, ValueError, EOFError) as err:
        raise InputError(f"{path}: cannot read: {err or type(err).__name__}") from None
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
