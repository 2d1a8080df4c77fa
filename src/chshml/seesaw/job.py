"""See-saw jobs: points x restarts, with per-point progress, resume and an MPI split.

Restart ``s`` starts from :func:`chshml.seesaw.realisation.initial_observables` (local
dimension, seed ``s``, ``base_seed``) for every point, so a point's result does not depend on
how points and restarts are spread over ranks or batches: the reported seed is the *smallest*
certifying seed, or (none certifying) that of the closest realisation found.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import chshml.seesaw.progress as records
from chshml.seesaw._common import EngineResult
from chshml.seesaw.mpi import mpi_world
from chshml.seesaw.realisation import check_realisation, initial_observables
from chshml.seesaw.records import SeesawConfig, SeesawResult

#: ``engine(config, targets, a0, b0) -> EngineResult``: one see-saw run per target.
Engine = Callable[["SeesawConfig", np.ndarray, np.ndarray, np.ndarray], EngineResult]


def run_engine(config: SeesawConfig, targets: np.ndarray, a0: np.ndarray,
               b0: np.ndarray) -> EngineResult:
    """Dispatch to the configured engine (fast: FISTA + LM; sdp: cvxpy steps)."""
    if config.engine == "fast":
        from chshml.seesaw.engine_fast import FastOptions, seesaw_fast

        opt = FastOptions() if config.max_iter is None else FastOptions(max_iter=config.max_iter)
        if config.polish is False:
            opt.polish_iter = 0
        return seesaw_fast(targets, a0, b0, config.threshold, opt)
    from chshml.seesaw.engine_sdp import SdpOptions, seesaw_sdp

    sdp = SdpOptions() if config.max_iter is None else SdpOptions(max_iter=config.max_iter)
    sdp.polish = bool(config.polish)
    return seesaw_sdp(targets, a0, b0, config.threshold, sdp)


def _better(dist: float, cert: bool, seed: int, best: dict[str, Any]) -> bool:
    """Certified beats uncertified; among certified the smallest seed; else the smallest
    distance (ties: smallest seed).
    """
    if cert != best["certified"]:
        return cert
    if cert:
        return seed < best["seed"]
    return (dist, seed) < (best["distance"], best["seed"])


def solve_chunk(points: np.ndarray, config: SeesawConfig, group: Any | None = None,
                member: int = 0, size: int = 1,
                engine: Engine | None = None) -> list[dict[str, Any]]:
    """Best realisation per point over the configured restarts, in waves of restarts; within
    an MPI group (``group`` a communicator of ``size`` ranks) each rank runs its share of
    each wave.
    """
    engine = engine or run_engine
    d = config.local_dim
    batch, _ = config.batch_sizes()
    seeds = np.arange(config.first_seed, config.first_seed + config.restarts)
    best: list[dict[str, Any]] = [
        {"distance": np.inf, "certified": False, "seed": -1, "tried": 0, "iterations": 0,
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
        for j in idx:
            best[j]["tried"] += len(wave)
        active = np.array([not b["certified"] for b in best])
        if not active.any():
            break
    return best


def run_points(points: np.ndarray, config: SeesawConfig, todo: np.ndarray | None = None,
               progress: str | os.PathLike | None = None, comm: Any | None = "auto",
               log: bool = True, keep_progress: bool = True,
               engine: Engine | None = None) -> SeesawResult | None:
    """See-saw every point in ``todo`` (default all) with ``config``; returns the result on
    rank 0 (None on other ranks). With ``progress`` (a folder) finished points are recorded
    there and skipped on rerun; ``comm="auto"`` uses MPI when launched with several ranks.
    """
    from chshml.geometry import to_full
    from chshml.progress import Progress, prepare

    config.check()
    points = to_full(np.asarray(points, dtype=float))
    n, d = len(points), config.local_dim
    todo = np.arange(n) if todo is None else np.flatnonzero(np.asarray(todo, dtype=bool)) \
        if np.asarray(todo).dtype == bool else np.asarray(todo, dtype=np.int64)
    if comm == "auto":
        comm = mpi_world()
    rank, size = (comm.Get_rank(), comm.Get_size()) if comm is not None else (0, 1)
    folder = Path(progress) if progress is not None else None
    if folder is not None:
        if rank == 0:
            prepare(folder, records.fingerprint(points, config), "seesaw")
        if comm is not None:
            comm.Barrier()
    done = records.read_records(folder, d) if folder is not None else {}
    remaining = np.array([i for i in todo if int(i) not in done], dtype=np.int64)
    resumed = len(todo) - len(remaining)
    if log and rank == 0 and resumed:
        print(f"[chshml] seesaw: resuming, {resumed} of {len(todo)} points already done",
              file=sys.stderr, flush=True)

    groups = max(1, min(size, len(remaining)))
    color, member = rank % groups, rank // groups
    gsize = len(range(color, size, groups))
    group: Any = comm.Split(color, member) if comm is not None else None
    mine = remaining[color::groups]
    _, chunk = config.batch_sizes()
    out_file = None
    if folder is not None and member == 0:
        out_file = records.open_append(folder / f"rank{rank}.bin", d)
    bar = Progress(len(mine), what=f"seesaw d={d} points", enabled=log and rank == 0)
    cpu0 = time.process_time()
    local: dict[int, dict[str, Any]] = {}
    try:
        for start in range(0, len(mine), chunk):
            ids = mine[start:start + chunk]
            best = solve_chunk(points[ids], config, group, member, gsize, engine)
            for i, b in zip(ids, best, strict=True):
                local[int(i)] = b
                if out_file is not None:
                    out_file.write(records.encode(int(i), b, d))
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


def _assemble(n: int, d: int, todo: np.ndarray, done: dict[int, dict[str, Any]], cpu: float,
              resumed: int) -> SeesawResult:
    """The per-point arrays of all ``n`` points from the records of the points done."""
    big = d * d
    res = SeesawResult(
        distance=np.full(n, np.nan), certified=np.zeros(n, dtype=bool),
        seed=np.full(n, -1, dtype=np.int64), restarts_tried=np.zeros(n, dtype=np.int64),
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
        res.restarts_tried[i], res.iterations[i] = rec["tried"], rec["iterations"]
        res.state[i], res.a[i], res.b[i] = rec["state"], rec["a"], rec["b"]
    return res
