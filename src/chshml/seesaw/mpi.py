"""MPI discovery for see-saw jobs: one rank unless launched by mpiexec/srun with several.

mpi4py is imported only when the launcher's environment says there are several ranks, so a
plain run never loads MPI.
"""

from __future__ import annotations

import os
from typing import Any

#: Environment variables in which MPI launchers state the number of ranks.
MPI_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")


def mpi_world() -> Any | None:
    """``MPI.COMM_WORLD`` when launched by mpiexec/srun with more than one rank, else None."""
    launched = any(int(os.environ.get(v, "1") or 1) > 1 for v in MPI_SIZE_VARS)
    launched |= int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1 and "SLURM_PROCID" in os.environ
    if not launched:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        return None
    comm = MPI.COMM_WORLD
    return comm if comm.Get_size() > 1 else None
