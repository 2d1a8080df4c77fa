"""Size the BLAS/OpenMP thread pools of a ``chshml`` process to the cores it was given.

The batched solvers work on stacks of small matrices, where extra BLAS threads buy nothing
and, on a shared node or under SLURM's ``cpus_per_task``, only steal (or spin on) cores that
belong to other jobs. Every command therefore runs with exactly ``n`` threads, taken from
(first match wins): its ``--threads`` option (workflow rules pass their ``threads:``),
``SLURM_CPUS_PER_TASK`` inside a SLURM job, else 1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

#: Environment variables read by OpenBLAS, MKL, BLIS, OpenMP runtimes and numexpr at start-up;
#: set too, so that libraries loaded later and child processes follow the same size.
POOL_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

_current: int | None = None


def resolve(requested: int | None, environ: Mapping[str, str] | None = None
            ) -> tuple[int, str]:
    """The thread count and where it came from: ``--threads``, ``SLURM_CPUS_PER_TASK`` or 1."""
    env = os.environ if environ is None else environ
    if requested is not None:
        return int(requested), "--threads"
    slurm = env.get("SLURM_CPUS_PER_TASK", "").strip()
    if slurm.isdigit() and int(slurm) > 0:
        return int(slurm), "SLURM_CPUS_PER_TASK"
    return 1, "default"


def apply(n: int) -> None:
    """Limit every BLAS/OpenMP pool of this process (and its children) to ``n`` threads."""
    global _current
    for var in POOL_VARIABLES:
        os.environ[var] = str(n)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=n)  # the pools already loaded (numpy's OpenBLAS, ...)
    _current = n


def current() -> int:
    """Threads this process was given (1 if :func:`apply` was never called)."""
    return _current if _current is not None else resolve(None)[0]
