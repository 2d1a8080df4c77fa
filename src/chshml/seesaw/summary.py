"""Summaries of see-saw runs: Table VIII (rounds over (d, restarts)) and Appendix A (Fig. 6).

Table VIII counts, per round, the points newly certified as quantum by an explicit
realisation of local dimension d; Appendix A looks at the distances from Q_{1+AB}
boundary points to their best Q_{d x d} realisation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from chshml.appendix_a import APPENDIX_A_CUTS, distance_counts, distance_histogram
from chshml.seesaw.job import run_points
from chshml.seesaw.records import SeesawConfig, SeesawResult


def round_first_seeds(rounds: list[dict[str, Any]], fresh: bool = True) -> list[int]:
    """First restart seed of each Table VIII round ``{"dim": d, "seeds": S}`` (config keys:
    local dimension d, S restarts).

    With ``fresh`` a round continues the seed sequence used by the earlier rounds at its d
    (the paper's rounds d = 6 with 50, 100, ..., 400 restarts then try 1,805 distinct starts,
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


def appendix_a_distances(boundary_points: np.ndarray, local_dim: int = 6, restarts: int = 50,
                         engine: str = "fast", threshold: float = 1e-7,
                         progress: str | os.PathLike | None = None,
                         log: bool = True, **options: Any) -> SeesawResult:
    """Distances from ``Q_{1+AB}`` boundary points ``p_b = lam* u`` (Eq. 6) to their best
    ``Q_{d x d}`` see-saw estimate (paper: d = 6, 50 restarts, stop below 1e-7).
    """
    cfg = SeesawConfig(local_dim=local_dim, restarts=restarts, engine=engine,
                       threshold=threshold, **options)
    res = run_points(boundary_points, cfg, progress=progress, log=log)
    assert res is not None
    return res


def rounds_table(round_files: list[str]) -> list[dict[str, Any]]:
    """One row per round file (in order): d, seeds, points tried, newly certified, CPU time.

    ``first_seed``/``new_seeds`` say which restarts a round ran and how many were never run
    at its d before (a round that only repeats earlier starts does no new work).
    """
    from chshml.store import read_h5

    rows, cumulative = [], 0
    starts: dict[tuple[int, int], set] = {}
    for k, path in enumerate(round_files, start=1):
        data, attrs = read_h5(path)
        tried = int(np.sum(data["previously_certified"] == 0))
        new = int(np.sum((data["certified"] == 1) & (data["previously_certified"] == 0)))
        cumulative += new
        d, first = int(attrs["dim"]), int(attrs.get("first_seed", 0))
        seen = starts.setdefault((d, 0), set())
        fresh = set(range(first, first + int(attrs["n_seeds"]))) - seen
        seen.update(fresh)
        rows.append({
            "round": k, "d": int(attrs["dim"]), "seeds": int(attrs["n_seeds"]),
            "engine": str(attrs["engine"]), "points_tried": tried, "newly_certified": new,
            "certified_total": cumulative, "points_total": int(len(data["certified"])),
            "cpu_seconds": float(attrs.get("cpu_seconds", np.nan)),
            "first_seed": first, "new_seeds": len(fresh), "distinct_seeds_at_d": len(seen),
        })
    return rows


def appendix_a_summary(path: str, cuts: tuple[float, ...] = APPENDIX_A_CUTS) -> dict[str, Any]:
    """Counts of boundary points whose see-saw distance is below each cut, and Fig. 6's bins."""
    from chshml.store import read_h5

    data, attrs = read_h5(path)
    dist = np.asarray(data["distance"], dtype=float)
    counts, edges = distance_histogram(dist)
    return {
        "n_points": int(len(dist)), "d": int(attrs["dim"]), "seeds": int(attrs["n_seeds"]),
        "counts_below": {f"{c:g}": n for c, n in distance_counts(dist, cuts).items()},
        "share_certified": float(np.mean(data["certified"] == 1)) if len(dist) else float("nan"),
        "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
        "cpu_seconds": float(attrs.get("cpu_seconds", np.nan)),
    }


def plot_fig6(summary: dict[str, Any], distances: np.ndarray, out_png: str | Path) -> None:
    """Fig. 6: histogram of see-saw distances of Q_{1+AB} boundary points (log-spaced bins)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dist = np.asarray(distances, dtype=float)
    dist = dist[np.isfinite(dist)]
    fig, ax = plt.subplots(figsize=(6, 4))
    if len(dist):
        floor = 1e-12
        bins = np.logspace(np.log10(max(dist.min(), floor)), np.log10(max(dist.max(), 1e-9)) + 1e-9,
                           40)
        ax.hist(np.clip(dist, floor, None), bins=bins, color="tab:blue")
        ax.set_xscale("log")
    for cut in reversed(APPENDIX_A_CUTS):
        ax.axvline(cut, color="grey", ls="--", lw=0.8)
    below = summary["counts_below"]
    ax.set_title(f"distance to Q_{summary['d']}x{summary['d']}, {summary['seeds']} seeds, "
                 f"n = {summary['n_points']}")
    ax.set_xlabel("see-saw distance ||q - p_b||_2")
    ax.set_ylabel("boundary points")
    ax.text(0.02, 0.95, "\n".join(f"< {k}: {v}" for k, v in below.items()),
            transform=ax.transAxes, va="top", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)
    plt.close(fig)

