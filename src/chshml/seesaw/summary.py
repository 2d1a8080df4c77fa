"""Summaries of see-saw runs: Table VIII (rounds over (d, seeds)) and Appendix A (Fig. 6).

Table VIII counts, per round, the points newly certified as quantum by an explicit
realisation of local dimension d; Appendix A looks at the distances from Q_{1+AB}
boundary points to their best Q_{d x d} realisation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chshml.seesaw.driver import distance_counts, distance_histogram


def rounds_table(round_files: list[str]) -> list[dict]:
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


def appendix_a_summary(path: str, cuts: tuple[float, ...] = (1e-2, 1e-3, 1e-7)) -> dict:
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


def plot_fig6(summary: dict, distances: np.ndarray, out_png: str | Path) -> None:
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
    for cut in (1e-7, 1e-3, 1e-2):
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

