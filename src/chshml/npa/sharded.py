"""Sharded labelling: ``chshml label IN -o OUT --shards K --executor {local,slurm}``.

The input points are cut into ``K`` contiguous shards under ``workdir`` (default
``OUT.shards/``). Shards whose label file is already there, for the same points (SHA-256),
level, solver and tolerance, are not recomputed. The others run in this process
(``local``) or as **one SLURM job array** through submitit (``slurm``); the caller waits,
sees progress lines (shards done, rate, ETA) and gets ``OUT`` in the format of
``chshml label``: the shards concatenated in order (:func:`chshml.shards.concatenate`),
with the same labels as one unsharded run (each point's gauge SDP is solved on its own).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from chshml.errors import InputError
from chshml.npa.labelling import label_file
from chshml.progress import Progress
from chshml.shards import SHARD_PREFIX, combine_attrs, concatenate, shard_sizes, total_cpu
from chshml.store import label_counts, load_points, read_attrs, write_h5

#: Seconds between two looks at the state of a SLURM array.
POLL_SECONDS = 2.0


def _log(msg: str) -> None:
    print(f"[chshml] {msg}", file=sys.stderr, flush=True)


def points_digest(points: np.ndarray) -> str:
    """SHA-256 of the points (float64, C order): identifies a shard's input."""
    return hashlib.sha256(np.ascontiguousarray(points, dtype=np.float64).tobytes()).hexdigest()


def _shard_done(path: Path, digest: str, level: str, solver: str, tol: float) -> bool:
    """True if ``path`` is a finished label shard of the same points and options."""
    if not path.is_file():
        return False
    try:
        attrs = read_attrs(path)
    except OSError:
        return False

    def text(v: Any) -> str:
        return v.decode() if isinstance(v, bytes) else str(v)

    return (text(attrs.get("points_sha256", "")) == digest
            and text(attrs.get("requested_level", "")) == level
            and text(attrs.get("requested_solver", "")) == solver
            and float(attrs.get("requested_tol", -1.0)) == float(tol))


def label_shard(points_path: str, out_path: str, level: str, solver: str, tol: float,
                shard: int) -> str:
    """Label one shard file (runs in the array task); returns ``out_path``."""
    points = load_points(points_path, check_ns=False)
    label_file(points, out_path, level, solver, tol, progress=True, attrs={
        "points_sha256": points_digest(points), "shard": shard, "requested_level": level,
        "requested_solver": solver, "requested_tol": float(tol),
        "host": os.uname().nodename, "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
        "slurm_array_task_id": os.environ.get("SLURM_ARRAY_TASK_ID", "")})
    return out_path


def _write_chunks(points: np.ndarray, work: Path, shards: int) -> list[tuple[Path, str]]:
    """Shard input files ``points_{k}.h5`` (rewritten only if their points changed)."""
    out, start = [], 0
    for k, size in enumerate(shard_sizes(len(points), shards)):
        chunk = points[start:start + size]
        start += size
        path = work / f"points_{k}.h5"
        digest = points_digest(chunk)
        if not path.is_file() or read_attrs(path).get("points_sha256") != digest:
            write_h5(path, {"points": chunk}, {"points_sha256": digest, "shard": k})
        out.append((path, digest))
    return out


def _wait(jobs: list, meter: Progress) -> None:
    """Wait for submitit jobs, logging shards done, rate and ETA; raise on a failed shard."""
    last_done = 0
    while True:
        done = sum(job.done() for job in jobs)
        meter.update(done - last_done, force=done != last_done)
        last_done = done
        if done == len(jobs):
            break
        time.sleep(POLL_SECONDS)
    for job in jobs:
        job.result()  # re-raises the task's exception (FailedJobError) with its log path


def _concatenate(label_paths: list[Path], out_path: str | os.PathLike, extra: dict) -> int:
    """Write the label shards, in order, as one ``chshml label`` output file (atomic)."""
    stack = concatenate(label_paths, what="label shard")
    attrs = {k: v for k, v in combine_attrs(stack.attrs).items()
             if not k.startswith(SHARD_PREFIX) or k == f"{SHARD_PREFIX}cpu_seconds"}
    n_total = len(stack.data["points"])
    attrs.update({
        "cpu_seconds": total_cpu(stack.attrs),
        "n_points": n_total, **label_counts(stack.data["label"]),
        "n_shards": len(label_paths), **extra})
    for key in ("shard", "host", "slurm_job_id", "slurm_array_task_id", "points_sha256"):
        attrs.pop(key, None)
    write_h5(out_path, stack.data, attrs, inputs=[extra.get("input")])
    return n_total


def label_sharded(points_path: str | os.PathLike, out_path: str | os.PathLike, level: str,
                  solver: str = "auto", tol: float = 1e-6, executor: str = "local",
                  shards: int = 1, partition: str | None = None, account: str | None = None,
                  workdir: str | os.PathLike | None = None, timeout_min: int = 60,
                  mem_gb: float = 2.0) -> Path:
    """Label ``points_path`` in ``shards`` shards (locally or as one SLURM array) into ``out``.

    Shards already labelled in ``workdir`` (same points, level, solver, tol) are kept.
    """
    if executor not in ("local", "slurm"):
        raise InputError(f"--executor must be local or slurm, got {executor!r}")
    points = load_points(points_path)
    if not 1 <= shards <= len(points):
        raise InputError(f"--shards must be between 1 and the number of points "
                         f"({len(points)}), got {shards}")
    work = Path(workdir) if workdir is not None else Path(f"{out_path}.shards")
    work.mkdir(parents=True, exist_ok=True)
    chunks = _write_chunks(points, work, shards)
    label_paths = [work / f"label_{k}.h5" for k in range(shards)]
    todo = [k for k, (_, digest) in enumerate(chunks)
            if not _shard_done(label_paths[k], digest, level, solver, tol)]
    _log(f"label {len(points)} points in {shards} shards under {work}: "
         f"{shards - len(todo)} already done, {len(todo)} to run ({executor})")
    t0 = time.monotonic()
    meter = Progress(len(todo), f"label shards ({executor}, {shards - len(todo)} of {shards} "
                     "done before)", every=60.0)
    if executor == "local":
        for k in todo:
            label_shard(str(chunks[k][0]), str(label_paths[k]), level, solver, tol, k)
            meter.update(force=True)
    elif todo:
        import submitit

        ex = submitit.AutoExecutor(folder=work / "submitit" / "%j", cluster="slurm")
        params: dict[str, Any] = {"timeout_min": timeout_min, "mem_gb": mem_gb,
                                  "cpus_per_task": 1, "name": "chshml-label",
                                  "slurm_array_parallelism": len(todo)}
        if partition:
            params["slurm_partition"] = partition
        if account:
            params["slurm_account"] = account
        ex.update_parameters(**params)
        jobs = ex.map_array(label_shard, [str(chunks[k][0]) for k in todo],
                            [str(label_paths[k]) for k in todo], [level] * len(todo),
                            [solver] * len(todo), [float(tol)] * len(todo), todo)
        _log(f"submitted SLURM array {jobs[0].job_id.split('_')[0]} with {len(jobs)} tasks "
             f"(logs: {work / 'submitit'})")
        _wait(jobs, meter)
    n = _concatenate(label_paths, out_path, {"executor": executor, "input": str(points_path)})
    _log(f"wrote {n} labelled points -> {out_path} ({time.monotonic() - t0:.1f}s)")
    return Path(out_path)
