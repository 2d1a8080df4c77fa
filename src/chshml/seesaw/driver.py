"""See-saw jobs: points x restart seeds, per-point progress, resume, MPI split.

Restart ``s`` starts from :func:`random_observables(dim, s, base_seed)` for every point, so a
point's result does not depend on how points and seeds are spread over ranks or batches: the
reported seed is the *smallest* certifying seed, or (none certifying) the closest of all seeds.

Progress lives in a folder next to the output (``OUT.h5.progress/``): ``meta.json`` (a
fingerprint of points and options) and one append-only binary file per MPI rank with one
fixed-size, CRC-checked record per finished point. A job killed mid-write loses at most the
record being written; a rerun skips every point with a record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from chshml.seesaw.realisation import check_realisation, initial_observables

ENGINES = ("fast", "sdp")
_MAGIC = 0x53535731  # "SSW1"


@dataclass
class SeesawConfig:
    """Options of one see-saw job (a round: local dimension, seeds, engine, threshold)."""

    dim: int
    seeds: int
    engine: str = "fast"
    threshold: float = 1e-7
    first_seed: int = 0       # restarts use seeds first_seed, ..., first_seed + seeds - 1
    base_seed: int = 0        # key of the random stream of initial observables
    max_iter: int | None = None  # engine default when None
    seed_batch: int | None = None  # seeds run together per point (fast: 16, sdp: 1)
    chunk: int | None = None   # points run together (fast: 8, sdp: 1)
    polish: bool | None = None  # LM polish (fast: always on; sdp: off unless True)

    def check(self) -> None:
        from chshml.errors import InputError

        if self.engine not in ENGINES:
            raise InputError(f"--engine must be one of {ENGINES}, got {self.engine!r}")
        if not 1 <= self.dim <= 16:
            raise InputError(f"--dim must be in 1..16, got {self.dim}")
        if self.seeds < 1:
            raise InputError(f"--seeds must be >= 1, got {self.seeds}")
        if not (np.isfinite(self.threshold) and 0 < self.threshold < 1):
            raise InputError(f"--threshold must be in (0, 1), got {self.threshold}")
        if self.first_seed < 0 or self.base_seed < 0:
            raise InputError("--first-seed and --base-seed must be non-negative")

    def batch_sizes(self) -> tuple[int, int]:
        fast = self.engine == "fast"
        return (self.seed_batch or (16 if fast else 1), self.chunk or (8 if fast else 1))


@dataclass
class SeesawResult:
    """Per-point outcome of a job; arrays are over all input points (``processed`` marks work)."""

    distance: np.ndarray
    certified: np.ndarray
    seed: np.ndarray
    seeds_tried: np.ndarray
    iterations: np.ndarray
    state: np.ndarray
    a: np.ndarray
    b: np.ndarray
    processed: np.ndarray
    cpu_seconds: float = 0.0
    resumed: int = 0
    meta: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------

def run_engine(config: SeesawConfig, targets: np.ndarray, a0: np.ndarray, b0: np.ndarray):  # noqa: ANN201
    """Dispatch to the configured engine (an :class:`EngineResult`)."""
    if config.engine == "fast":
        from chshml.seesaw.engine_fast import FastOptions, seesaw_fast

        opt = FastOptions() if config.max_iter is None else FastOptions(max_iter=config.max_iter)
        if config.polish is False:
            opt.polish_iter = 0
        return seesaw_fast(targets, a0, b0, config.threshold, opt)
    from chshml.seesaw.engine_sdp import SdpOptions, seesaw_sdp

    opt = SdpOptions() if config.max_iter is None else SdpOptions(max_iter=config.max_iter)
    opt.polish = bool(config.polish)
    return seesaw_sdp(targets, a0, b0, config.threshold, opt)


def _better(dist: float, cert: bool, seed: int, best: dict) -> bool:
    """Certified beats uncertified; among certified the smallest seed; else the smallest
    distance (ties: smallest seed)."""
    if cert != best["certified"]:
        return cert
    if cert:
        return seed < best["seed"]
    return (dist, seed) < (best["distance"], best["seed"])


def solve_chunk(points: np.ndarray, config: SeesawConfig, group: object | None = None,
                member: int = 0, size: int = 1,
                engine: Callable | None = None) -> list[dict]:
    """Best realisation per point over the configured seeds, in waves of seeds; within an MPI
    group (``group`` a communicator of ``size`` ranks) each rank runs its share of each wave."""
    engine = engine or run_engine
    d = config.dim
    batch, _ = config.batch_sizes()
    seeds = np.arange(config.first_seed, config.first_seed + config.seeds)
    best = [{"distance": np.inf, "certified": False, "seed": -1, "tried": 0, "iterations": 0,
             "state": np.full((d * d, d * d), np.nan), "a": np.full((2, d, d), np.nan),
             "b": np.full((2, d, d), np.nan)} for _ in range(len(points))]
    active = np.ones(len(points), dtype=bool)
    for start in range(0, len(seeds), batch * size):
        wave = seeds[start:start + batch * size]
        mine = wave[member * batch:(member + 1) * batch]
        found = []
        idx = np.flatnonzero(active)
        if len(mine) and len(idx):
            pi = np.repeat(idx, len(mine))
            si = np.tile(mine, len(idx))
            a0, b0 = initial_observables(d, si, config.base_seed)
            res = engine(config, points[pi], a0, b0)
            chk = check_realisation(points[pi], res.state, res.a, res.b, config.threshold)
            for k in range(len(pi)):
                found.append((int(pi[k]), int(si[k]), float(chk.distance[k]),
                              bool(chk.certified[k]), int(res.iterations[k]),
                              res.state[k], res.a[k], res.b[k]))
        if group is not None and size > 1:
            found = [f for part in group.allgather(found) for f in part]
        for i, s, dist, cert, its, rho, a, b in found:
            if _better(dist, cert, s, best[i]):
                best[i].update(distance=dist, certified=cert, seed=s, iterations=its,
                               state=rho, a=a, b=b)
        for i in idx:
            best[i]["tried"] += len(wave)
        active = np.array([not b["certified"] for b in best])
        if not active.any():
            break
    return best


# ---------------------------------------------------------------------------
# Progress records
# ---------------------------------------------------------------------------

def _record_dtype(dim: int) -> np.dtype:
    n = dim**4 + 4 * dim * dim
    return np.dtype([("magic", "<u4"), ("certified", "<u4"), ("index", "<i8"), ("seed", "<i8"),
                     ("tried", "<i8"), ("iterations", "<i8"), ("distance", "<f8"),
                     ("payload", "<f8", (n,)), ("crc", "<u4"), ("pad", "<u4")])


def _encode(index: int, best: dict, dim: int) -> bytes:
    rec = np.zeros(1, dtype=_record_dtype(dim))
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


def read_records(folder: Path, dim: int) -> dict[int, dict]:
    """All intact records in ``folder/rank*.bin`` (a torn or corrupt record is dropped)."""
    dt = _record_dtype(dim)
    out: dict[int, dict] = {}
    d2 = dim * dim
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
                "a": pay[d2 * d2:d2 * d2 + 2 * d2].reshape(2, dim, dim),
                "b": pay[d2 * d2 + 2 * d2:].reshape(2, dim, dim)}
    return out


def _open_append(path: Path, dim: int):  # noqa: ANN202
    """Open a rank file for appending after trimming a torn last record."""
    size = _record_dtype(dim).itemsize
    if path.exists():
        whole = (path.stat().st_size // size) * size
        if whole != path.stat().st_size:
            with open(path, "r+b") as f:
                f.truncate(whole)
    return open(path, "ab")


def fingerprint(points: np.ndarray, config: SeesawConfig) -> str:
    """Hash of the points and every option that changes results (not batching or ranks)."""
    h = hashlib.sha256(np.ascontiguousarray(points, dtype="<f8").tobytes())
    keys = {k: v for k, v in asdict(config).items() if k not in ("seed_batch", "chunk")}
    h.update(json.dumps(keys, sort_keys=True).encode())
    return h.hexdigest()


def progress_dir(output: str | os.PathLike) -> Path:
    """The progress folder of an output file: ``OUT.h5.progress/``."""
    output = Path(output)
    return output.with_name(output.name + ".progress")


def _prepare_progress(folder: Path, fp: str) -> None:
    meta = folder / "meta.json"
    if meta.exists():
        try:
            old = json.loads(meta.read_text()).get("fingerprint")
        except (OSError, ValueError):
            old = None
        if old == fp:
            return
        print(f"[chshml] seesaw: {folder} belongs to other points or options; starting afresh",
              file=sys.stderr, flush=True)
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps({"fingerprint": fp}))
    os.replace(tmp, meta)


# ---------------------------------------------------------------------------
# MPI
# ---------------------------------------------------------------------------

_MPI_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def mpi_world() -> object | None:
    """``MPI.COMM_WORLD`` when launched by mpiexec/srun with more than one rank, else None.

    mpi4py is imported only if the launcher's environment says there are several ranks."""
    launched = any(int(os.environ.get(v, "1") or 1) > 1 for v in _MPI_SIZE_VARS)
    launched |= int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1 and "SLURM_PROCID" in os.environ
    if not launched:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None


# ---------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------

def run_points(points: np.ndarray, config: SeesawConfig, todo: np.ndarray | None = None,
               progress: str | os.PathLike | None = None, comm: object | None = "auto",
               log: bool = True, keep_progress: bool = True,
               engine: Callable | None = None) -> SeesawResult | None:
    """See-saw every point in ``todo`` (default all) with ``config``; returns the result on
    rank 0 (None on other ranks). With ``progress`` (a folder) finished points are recorded
    there and skipped on rerun; ``comm="auto"`` uses MPI when launched with several ranks."""
    from chshml.geometry import to_full
    from chshml.progress import Progress

    config.check()
    points = to_full(np.asarray(points, dtype=float))
    n, d = len(points), config.dim
    todo = np.arange(n) if todo is None else np.flatnonzero(np.asarray(todo, dtype=bool)) \
        if np.asarray(todo).dtype == bool else np.asarray(todo, dtype=np.int64)
    if comm == "auto":
        comm = mpi_world()
    rank, size = (comm.Get_rank(), comm.Get_size()) if comm is not None else (0, 1)
    folder = Path(progress) if progress is not None else None
    if folder is not None:
        if rank == 0:
            _prepare_progress(folder, fingerprint(points, config))
        if comm is not None:
            comm.Barrier()
    done = read_records(folder, d) if folder is not None else {}
    remaining = np.array([i for i in todo if int(i) not in done], dtype=np.int64)
    resumed = len(todo) - len(remaining)
    if log and rank == 0 and resumed:
        print(f"[chshml] seesaw: resuming, {resumed} of {len(todo)} points already done",
              file=sys.stderr, flush=True)

    groups = max(1, min(size, len(remaining)))
    color, member = rank % groups, rank // groups
    gsize = len(range(color, size, groups))
    group = comm.Split(color, member) if comm is not None else None
    mine = remaining[color::groups]
    _, chunk = config.batch_sizes()
    out_file = None
    if folder is not None and member == 0:
        out_file = _open_append(folder / f"rank{rank}.bin", d)
    bar = Progress(len(mine), what=f"seesaw d={d} points", enabled=log and rank == 0)
    cpu0 = time.process_time()
    local: dict[int, dict] = {}
    try:
        for start in range(0, len(mine), chunk):
            ids = mine[start:start + chunk]
            best = solve_chunk(points[ids], config, group, member, gsize, engine)
            for i, b in zip(ids, best, strict=True):
                local[int(i)] = b
                if out_file is not None:
                    out_file.write(_encode(int(i), b, d))
            if out_file is not None:
                out_file.flush()
                os.fsync(out_file.fileno())
            bar.update(len(ids))
    finally:
        if out_file is not None:
            out_file.close()
    cpu = time.process_time() - cpu0
    if comm is not None:
        if member != 0:
            local = {}
        parts = comm.gather(local, root=0)
        cpu = comm.reduce(cpu, root=0)
        group.Free()
        if rank != 0:
            return None
        for part in parts:
            done.update(part)
    else:
        done.update(local)
    result = _assemble(n, d, todo, done, cpu, resumed)
    if folder is not None and not keep_progress:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _assemble(n: int, d: int, todo: np.ndarray, done: dict[int, dict], cpu: float,
              resumed: int) -> SeesawResult:
    big = d * d
    res = SeesawResult(
        distance=np.full(n, np.nan), certified=np.zeros(n, dtype=bool),
        seed=np.full(n, -1, dtype=np.int64), seeds_tried=np.zeros(n, dtype=np.int64),
        iterations=np.zeros(n, dtype=np.int64), state=np.full((n, big, big), np.nan),
        a=np.full((n, 2, d, d), np.nan), b=np.full((n, 2, d, d), np.nan),
        processed=np.zeros(n, dtype=bool), cpu_seconds=float(cpu), resumed=resumed)
    for i in todo:
        rec = done.get(int(i))
        if rec is None:
            continue
        res.processed[i] = True
        res.distance[i], res.certified[i], res.seed[i] = (rec["distance"], rec["certified"],
                                                          rec["seed"])
        res.seeds_tried[i], res.iterations[i] = rec["tried"], rec["iterations"]
        res.state[i], res.a[i], res.b[i] = rec["state"], rec["a"], rec["b"]
    return res


# ---------------------------------------------------------------------------
# Appendix A
# ---------------------------------------------------------------------------

def round_first_seeds(rounds: list[dict], fresh: bool = True) -> list[int]:
    """First restart seed of each Table VIII round ``{"dim": d, "seeds": S}``.

    With ``fresh`` a round continues the seed sequence used by the earlier rounds at its d
    (the paper's rounds d = 6 with 50, 100, ..., 400 seeds then try 1,805 distinct starts,
    not the 400 of the largest round); without it every round restarts at seed 0 and at a
    repeated d re-runs starts that already failed on these points.
    """
    used: dict[int, int] = {}
    out = []
    for r in rounds:
        d = int(r["dim"])
        out.append(used.get(d, 0) if fresh else 0)
        used[d] = used.get(d, 0) + int(r["seeds"])
    return out


def appendix_a_distances(boundary_points: np.ndarray, dim: int = 6, seeds: int = 50,
                         engine: str = "fast", threshold: float = 1e-7,
                         progress: str | os.PathLike | None = None,
                         log: bool = True, **options: object) -> SeesawResult:
    """Distances from ``Q_{1+AB}`` boundary points ``p_b = lam* u`` (Eq. 6) to their best
    ``Q_{d x d}`` see-saw estimate (paper: d = 6, 50 seeds, stop below 1e-7)."""
    cfg = SeesawConfig(dim=dim, seeds=seeds, engine=engine, threshold=threshold,
                       **options)  # type: ignore[arg-type]
    res = run_points(boundary_points, cfg, progress=progress, log=log)
    assert res is not None
    return res


#: Count cuts of the paper's Appendix A: 9220 / 6793 / 5903 of 10^4 below these.
APPENDIX_A_CUTS = (1e-2, 1e-3, 1e-7)


def distance_counts(distances: np.ndarray, cuts: tuple[float, ...] = APPENDIX_A_CUTS
                    ) -> dict[float, int]:
    """Number of points with distance strictly below each cut (NaN never counts)."""
    dist = np.asarray(distances, dtype=float)
    return {float(c): int(np.sum(dist < c)) for c in cuts}


def distance_histogram(distances: np.ndarray, bin_width: float = 1e-3, lower: float = 1e-3
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Fig. 6: counts of distances ``>= lower`` in bins of ``bin_width``: ``(counts, edges)``."""
    dist = np.asarray(distances, dtype=float)
    dist = dist[np.isfinite(dist) & (dist >= lower)]
    top = lower + bin_width * max(1, int(np.ceil((dist.max() - lower) / bin_width + 1e-12))
                                  if len(dist) else 1)
    edges = lower + bin_width * np.arange(int(round((top - lower) / bin_width)) + 1)
    counts, _ = np.histogram(dist, bins=edges)
    return counts, edges
