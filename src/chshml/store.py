"""The result-file layout and its I/O: every HDF5/JSON file chshml reads or writes.

This module is the one owner of the file layout. :class:`SampleFile`, :class:`LabelFile`,
:class:`DatasetFile`, :class:`CertifyFile` and :class:`SeesawFile` name the datasets and
attributes of each result file; their readers (:func:`load_points`, :func:`load_dataset`,
:func:`load_seesaw_input`) sit next to the writers (:func:`write_h5`, :func:`write_json`).
A behaviour is a row of 4 correlators or of 8 expectation values (marginals first), and a
label is 1 (in Q_n), 0 (not) or -1 (undecided).

A result file is written under a temporary name in the same folder and renamed into
place, so a job killed mid-write never leaves a half-written result behind. ``h5py`` is
imported here and nowhere else.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import platform
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.geometry import ns_violation, space_of_dim

#: Suffixes of HDF5 outputs.
H5_SUFFIXES = (".h5", ".hdf5")

#: Slack allowed on NS positivity when validating input (points on a facet are valid).
NS_INPUT_TOL = 1e-9

#: Packages that shape the data files (``versions.*`` attributes of a merged dataset).
DATA_PACKAGES = ("chshml", "numpy", "h5py", "cvxpy", "clarabel", "scs", "mosek", "snakemake")
#: Packages a trained model depends on (``package_versions`` of a model's JSON).
MODEL_PACKAGES = ("chshml", "numpy", "scipy", "scikit-learn", "joblib", "h5py", "keras",
                  "tensorflow", "tensorflow-cpu")


class SampleFile:
    """``chshml sample`` / ``chshml slice`` output: behaviours before labelling.

    Attributes: ``space``, ``method``, ``seed``, ``dataset``, ``shard``, ``chshml_version``,
    ``n_points``, ``cpu_seconds``. Labelled methods (balanced, boundary, spread) add the
    :class:`LabelFile` columns and ``level``, ``epsilon``, ``sigma`` (and ``recipe``).
    """

    POINTS = "points"          #: (n, 4) or (n, 8) behaviours
    DIRECTIONS = "directions"  #: (n, dim) unit rays (method directions)
    BOUNDARY = "boundary"      #: (n_b, dim) boundary points p_b (boundary, spread)
    XY = "xy"                  #: (n, 2) slice coordinates (chshml slice)


class LabelFile:
    """``chshml label`` output: NPA gauge, certified bracket, label, status, witness.

    Attributes: ``level``, ``solver``, ``tol``, ``space``, ``chshml_version``,
    ``cpu_seconds``, ``n_points``, :func:`label_counts` and the ``certificate_*`` map of
    :func:`chshml.npa.labelling.certificate_attrs`.
    """

    POINTS = "points"
    LAM = "lam"                      #: gauge: p is in Q_n iff lam >= 1
    LAM_LO = "lam_lo"                #: certified bracket lam_lo <= lam <= lam_hi
    LAM_HI = "lam_hi"
    LABEL = "label"                  #: int8: 1 in Q_n, 0 not, -1 undecided
    STATUS = "status"
    WITNESS_BETA = "witness_beta"    #: (n, 8) Bell functional of a label-0 point
    WITNESS_BETA0 = "witness_beta0"  #: (n,) its bound on Q_n cap NS
    CERTIFICATE_Z = "certificate_Z"  #: packed upper triangle of the dual Z
    CERTIFICATE_MU = "certificate_mu"  #: NS-facet multipliers of the dual


class DatasetFile:
    """``chshml merge`` output (``results/data/{dataset}.h5``): shards plus a split."""

    SHARD = "shard"                                 #: int32 shard index of each point
    SPLIT_NAMES = ("train", "val", "test")
    IDX = {name: f"idx_{name}" for name in SPLIT_NAMES}  #: int64 sorted split indices
    SHARD_PREFIX = "shards."   #: per-shard values of attributes the shards disagree on
    SAMPLE_PREFIX = "sample."  #: attributes copied from the sample shards
    VERSIONS_PREFIX = "versions."


class CertifyFile:
    """``chshml certify`` output: :class:`LabelFile` columns plus the two-qubit atoms."""

    ATOM_WEIGHTS = "atom_weights"  #: (n, 9) convex weights of the atoms
    ATOM_STATE = "atom_state"      #: (n, 9, 4) two-qubit state of each atom
    ATOM_ANGLES = "atom_angles"    #: (n, 9, 4) measurement angles of each atom
    N_ATOMS = "n_atoms"
    GAP = "gap"                    #: certified gap to the inner hull (label -1)
    RECON_ERROR = "recon_error"    #: max |sum_k w_k p_k - p| of a label-1 point
    ROWS = "rows"                  #: row of each point in the input file (--shard)


class SeesawFile:
    """``chshml seesaw`` output: per point the best realisation found and its distance.

    Attributes: ``dim`` (local dimension), ``n_seeds``, ``first_seed``, ``base_seed``,
    ``engine``, ``threshold``, ``cpu_seconds`` and counts.
    """

    POINTS = "points"
    DISTANCE = "distance"
    CERTIFIED = "certified"                          #: int8, cumulative over rounds
    PREVIOUSLY_CERTIFIED = "previously_certified"    #: int8, certified by an earlier round


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
    ``inputs`` are files the output must not replace (see :func:`check_output`).
    """
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


def json_text(obj: Any, *, nan_as_null: bool = True,
              default: Callable[[Any], Any] | None = None) -> str:
    """``obj`` as indented JSON text ending in a newline.

    numpy scalars become numbers; with ``nan_as_null`` a float NaN is written ``null``
    (strict JSON), else as ``NaN`` (Python's default); ``default`` serialises anything else
    (as in :func:`json.dumps`; without it such an object is a ``TypeError``).
    """

    def clean(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        if nan_as_null and isinstance(o, float) and math.isnan(o):
            return None
        if hasattr(o, "item"):
            return clean(o.item())
        return o

    return json.dumps(clean(obj), indent=2, default=default) + "\n"


def write_json(path: str | os.PathLike, obj: Any,
               inputs: Iterable[str | os.PathLike | None] = (), option: str = "-o", *,
               nan_as_null: bool = True) -> None:
    """Write ``obj`` as JSON atomically (:func:`json_text`; NaN as null by default)."""
    write_text(path, json_text(obj, nan_as_null=nan_as_null), inputs, option)


def package_versions(packages: Iterable[str] = DATA_PACKAGES) -> dict[str, str]:
    """Python's version and those of the installed ``packages`` (none is imported)."""
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def label_counts(label: np.ndarray) -> dict[str, int]:
    """``n_quantum``, ``n_not_quantum``, ``n_undecided``: points labelled 1, 0 and -1."""
    lab = np.asarray(label)
    return {"n_quantum": int(np.sum(lab == 1)), "n_not_quantum": int(np.sum(lab == 0)),
            "n_undecided": int(np.sum(lab == -1))}


def read_attrs(path: str | os.PathLike) -> dict[str, Any]:
    """The file attributes of an HDF5 file (no datasets read)."""
    import h5py

    with h5py.File(path, "r") as f:
        return dict(f.attrs)


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


def read_groups(path: str | os.PathLike) -> dict[str, dict[str, np.ndarray]]:
    """Datasets one group deep (``GROUP/NAME``, e.g. an evaluation's ``slice1/xy``)."""
    import h5py

    with h5py.File(path, "r") as f:
        return {name: {k: ds[()] for k, ds in group.items() if isinstance(ds, h5py.Dataset)}
                for name, group in f.items() if isinstance(group, h5py.Group)}


def read_input_h5(path: str | os.PathLike, what: str = "file"
                  ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """:func:`read_h5` for user input: a missing or unreadable file is an InputError
    (one line, exit code 2) that names the path; ``what`` names the file's role.
    """
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
    as text, anything else unknown as its string.
    """
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


def load_seesaw_input(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Points of a see-saw round's input and the mask of points an earlier round certified.

    A late round's shard may be empty; a file without ``certified`` has no point certified.
    """
    points = load_points(path, allow_empty=True)
    prior = np.zeros(len(points), dtype=bool)
    if str(path).lower().endswith(H5_SUFFIXES):
        import h5py

        with h5py.File(path, "r") as f:
            if SeesawFile.CERTIFIED in f:
                prior = np.asarray(f[SeesawFile.CERTIFIED][()]).astype(bool).reshape(-1)
                if len(prior) != len(points):
                    raise InputError(f"{path}: 'certified' has {len(prior)} rows, 'points' "
                                     f"has {len(points)}")
    return points, prior


@dataclass
class Dataset:
    """A labelled dataset (a :class:`DatasetFile`) and its train/val/test split."""

    name: str
    path: Path
    points: np.ndarray
    label: np.ndarray
    lam: np.ndarray | None
    split: dict[str, np.ndarray]
    attrs: dict[str, Any]

    @property
    def dim(self) -> int:
        """Behaviour-space dimension: 4 (correlators) or 8 (with marginals)."""
        return self.points.shape[1]

    @property
    def space(self) -> str:
        """``corr4`` or ``full8``."""
        return space_of_dim(self.dim)

    def part(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """``(points, labels)`` of split ``which`` ("train", "val", "test" or "all")."""
        if which == "all":
            return self.points, self.label
        idx = self.split[which]
        return self.points[idx], self.label[idx]


def check_outside_ns(points: np.ndarray, label: np.ndarray, source: str) -> None:
    """Points outside NS are refused with label 1: no behaviour is quantum.

    The paper's boundary-pair and spread recipes keep outer points ``(1 + eps) p_b`` that
    leave NS (label 0, their labeller witness a bare NS facet; label -1, undecided, where
    ``|lam - 1|`` is within the tolerance, e.g. a spread shift of ~1e-7 across an NS facet:
    left out of every accuracy like any undecided point). A label 1 there is an error.
    """
    bad = np.flatnonzero((ns_violation(points) > NS_INPUT_TOL) & (label == 1))
    if len(bad):
        row = int(bad[0])
        raise InputError(f"{source}: row {row} is outside the non-signalling polytope but "
                         f"labelled {int(label[row])} (quantum): no point outside NS is quantum")


def load_dataset(path: str | os.PathLike, need_split: bool = True) -> Dataset:
    """Read a labelled dataset; raise :class:`InputError` on anything missing or inconsistent."""
    path = Path(path)
    data, attrs = read_input_h5(path, "dataset")
    for key in (LabelFile.POINTS, LabelFile.LABEL):
        if key not in data:
            raise InputError(f"{path}: no dataset {key!r} (found {sorted(data)})")
    points = validate_points(data[LabelFile.POINTS], str(path), check_ns=False)
    label = np.asarray(data[LabelFile.LABEL]).astype(np.int8).ravel()
    if len(label) != len(points):
        raise InputError(f"{path}: {len(label)} labels for {len(points)} points")
    check_outside_ns(points, label, str(path))
    split = {}
    for name, key in DatasetFile.IDX.items():
        if key in data:
            idx = np.asarray(data[key]).astype(np.int64).ravel()
            if len(idx) and (idx.min() < 0 or idx.max() >= len(points)):
                raise InputError(f"{path}: {key} indexes outside 0..{len(points) - 1}")
            split[name] = idx
        elif need_split:
            raise InputError(f"{path}: no split '{key}'; merge the dataset with a split")
    lam = np.asarray(data[LabelFile.LAM], dtype=float).ravel() if LabelFile.LAM in data else None
    name = str(attrs.get("dataset", path.stem))
    return Dataset(name, path, points, label, lam, split, attrs)
