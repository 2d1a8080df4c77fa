"""Solver choice for the NPA SDPs: MOSEK if licensed, else Clarabel; SCS on request.

``batched`` names the vectorised interior-point solver (:mod:`chshml.npa.batched`); its
per-point fallback is the cvxpy solver that ``auto`` resolves to.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from chshml.errors import InputError

SOLVER_CHOICES = ("auto", "batched", "clarabel", "mosek", "scs")


def _licence_file_candidates() -> list[Path]:
    paths: list[Path] = []
    env = os.environ.get("MOSEKLM_LICENSE_FILE")
    if env:
        paths.extend(Path(p) for p in env.split(os.pathsep) if p and "@" not in p)
    paths.append(Path.home() / "mosek" / "mosek.lic")
    return paths


@lru_cache(maxsize=1)
def mosek_status() -> tuple[bool, str]:
    """``(usable, reason)``: MOSEK is usable only if it imports and a tiny probe solve succeeds.

    cvxpy lists MOSEK as installed even without a licence, so the listing is not trusted.
    """
    try:
        import mosek
    except ImportError:
        return False, "the mosek package is not installed (pip install 'chshml[mosek]')"
    server = "@" in os.environ.get("MOSEKLM_LICENSE_FILE", "")
    if not server and not any(p.is_file() for p in _licence_file_candidates()):
        return False, "no MOSEK licence found (MOSEKLM_LICENSE_FILE or ~/mosek/mosek.lic)"
    try:
        with mosek.Env() as env, env.Task(0, 1) as task:
            task.appendvars(1)
            task.putvarbound(0, mosek.boundkey.ra, 0.0, 1.0)
            task.putcj(0, 1.0)
            task.putobjsense(mosek.objsense.maximize)
            task.optimize()
    except Exception as err:  # mosek raises its own Error type for licence problems
        return False, f"MOSEK probe solve failed: {err}"
    return True, "licence found and probe solve succeeded"


def resolve_solver(name: str) -> str:
    """Map a user's solver choice to a cvxpy solver name; raises InputError if unusable."""
    choice = str(name).lower()
    if choice not in SOLVER_CHOICES:
        raise InputError(f"unknown solver {name!r}: choose one of {', '.join(SOLVER_CHOICES)}")
    if choice in ("auto", "batched"):
        return "MOSEK" if mosek_status()[0] else "CLARABEL"
    if choice == "mosek":
        usable, reason = mosek_status()
        if not usable:
            raise InputError(f"solver 'mosek' is not usable: {reason}")
    return choice.upper()


def fallback_solver(solver: str) -> str:
    """The solver tried when ``solver`` does not reach a certified answer."""
    return "SCS" if solver != "SCS" else "CLARABEL"
