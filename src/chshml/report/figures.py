"""Report figures (matplotlib, Agg): decision regions on slices (paper Figs. 3-5), spread
curves, relative volumes of Q_n vs CPU time (Fig. 2). Fig. 6 comes from chshml seesaw-summary.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from chshml.geometry import SLICES, tlm_margin

QUANTUM, OTHER = "#2ca02c", "#b0b0b0"

#: Axis labels of the slices: the point is origin + x u + y v (geometry.SLICES).
AXIS_LABELS = {
    "slice1": ("x: weight of PR box (1,1,1,-1)", "y: weight of PR box (1,-1,1,1)"),
    "slice2": (r"x = $\langle A_0B_0\rangle = \langle A_0B_1\rangle = \langle A_1B_0\rangle$",
               r"y = $\langle A_1B_1\rangle$"),
    "slice8": ("x: correlators x(1,1,1,-1)", "y: all four marginals"),
}
#: Slice names in captions; slice8 is our own plane, not the paper's (Ref. [38] Fig. 3).
SLICE_TITLES = {"slice1": "slice 1", "slice2": "slice 2",
                "slice8": "8-D slice (our substitute)"}


def _tlm_boundary(ax: plt.Axes, name: str) -> None:
    sl = SLICES[name]
    xy, pts = sl.grid(400)
    corr = pts[:, -4:]
    m = tlm_margin(corr).reshape(400, 400)
    xs = np.linspace(*sl.x_range, 400)
    ys = np.linspace(*sl.y_range, 400)
    ax.contour(xs, ys, m, levels=[0.0], colors="k", linestyles="--", linewidths=1.0)


def _labelled_boundary(ax: plt.Axes, name: str, xy: np.ndarray, truth: np.ndarray,
                       side: int = 300) -> None:
    """Boundary of labelled slice points (8-D: NPA level 3): nearest-neighbour labels on a
    grid, masked outside NS, contoured at 1/2.
    """
    from scipy.interpolate import griddata

    from chshml.geometry import ns_violation

    sl = SLICES[name]
    grid_xy, pts = sl.grid(side)
    field = griddata(xy, truth.astype(float), grid_xy, method="nearest")
    field[ns_violation(pts) > 0] = np.nan
    xs = np.linspace(*sl.x_range, side)
    ys = np.linspace(*sl.y_range, side)
    ax.contour(xs, ys, field.reshape(side, side), levels=[0.5], colors="k", linestyles="--",
               linewidths=1.0)


def slice_panel(ax: plt.Axes, name: str, xy: np.ndarray, pred: np.ndarray,
                truth: np.ndarray, title: str) -> float:
    """Scatter predictions on one slice, draw the true boundary, accuracy in the corner."""
    sl = SLICES[name]
    ax.scatter(xy[:, 0], xy[:, 1], c=np.where(pred == 1, QUANTUM, OTHER), s=1.0, lw=0,
               rasterized=True)
    if sl.dim == 4:
        _tlm_boundary(ax, name)  # 4-D slices: TLM is exact
    elif len(np.unique(truth[truth >= 0])) == 2:
        _labelled_boundary(ax, name, xy[truth >= 0], truth[truth >= 0])
    keep = truth >= 0
    acc = float(np.mean(pred[keep] == truth[keep])) if keep.any() else float("nan")
    ax.text(0.02, 0.02, f"acc = {acc:.4f}", transform=ax.transAxes, fontsize=9,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    ax.set_title(title, fontsize=9)
    xl, yl = AXIS_LABELS.get(name, ("x", "y"))
    ax.set_xlabel(xl, fontsize=8)
    ax.set_ylabel(yl, fontsize=8)
    ax.set_xlim(*sl.x_range)
    ax.set_ylim(*sl.y_range)
    ax.set_aspect("equal")
    return acc


def save_figure(fig: plt.Figure, out: Path, dpi: int = 130) -> None:
    """Save ``fig`` as ``out`` through the atomic writer (format from the suffix)."""
    from chshml.store import atomic_path

    with atomic_path(out, keep_suffix=True) as tmp:
        fig.savefig(tmp, dpi=dpi)


def slices_figure(slices: dict[str, dict[str, np.ndarray]], model: str, out: Path) -> Path:
    """One row of slice panels for one model (``slices[name] = {xy, pred, truth}``)."""
    names = [n for n in ("slice1", "slice2", "slice8") if n in slices]
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.8), squeeze=False)
    for ax, n in zip(axes[0], names, strict=True):
        s = slices[n]
        slice_panel(ax, n, s["xy"], s["pred"], s["truth"], f"{model}: {SLICE_TITLES.get(n, n)}")
    fig.text(0.5, 0.005, "green: predicted quantum, grey: not; dashed: true boundary "
             "(TLM on 4-D slices, labelled NPA data on 8-D slices)", ha="center", fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    save_figure(fig, out)
    plt.close(fig)
    return out


def spread_figure(curves: dict[str, dict], out: Path) -> Path:
    """Spread accuracy against sigma, one line per model."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = plt.get_cmap("tab20").colors
    markers = "os^vD<>pXh*P"
    for i, (model, c) in enumerate(sorted(curves.items())):
        style = "--" if model.startswith("nn_") else "-"
        ax.plot(c["sigma"], c["acc"], ls=style, marker=markers[i % len(markers)], ms=3,
                color=colours[(2 * i) % 20 if i < 10 else (2 * i + 1) % 20], label=model)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel(r"$\sigma$ (boundary points shifted by $1+N(0,\sigma)$)")
    ax.set_ylabel("spread accuracy")
    ax.set_ylim(0.4, 1.01)
    ax.legend(fontsize=6, ncol=2, loc="lower right", title="solid: SVM, dashed: NN",
              title_fontsize=6)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, out)
    plt.close(fig)
    return out


def volumes_figure(points: list[dict], out: Path) -> Path:
    """Fig. 2: relative volume of Q_n in the canonical simplex vs mean CPU time per point."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for p in points:
        ax.errorbar(p["seconds_per_point"], p["fraction"], yerr=p["fraction_se"],
                    xerr=p.get("seconds_per_point_sd"), fmt="o", capsize=3)
        ax.annotate(f"n = {p['level']}", (p["seconds_per_point"], p["fraction"]),
                    textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("mean CPU time per point [s]")
    ax.set_ylabel(r"vol$(Q_n \cap S)$ / vol$(S)$, S = canonical simplex")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, out)
    plt.close(fig)
    return out


def certified_distances_figure(summary: dict, out: Path) -> Path:
    """Fig. 6 with Q: the certified distances (>= 1e-3) of Q_1+AB boundary points from Q.

    Each ray's distance lies between its NPA lower bound and its decomposition's upper
    bound, so both histograms are drawn over the paper's bins (width 1e-3).
    """
    hist = summary["histogram"]
    edges = np.asarray(hist["edges"], dtype=float)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.stairs(hist["d_hi"], edges, label="upper bound (explicit decomposition)", lw=1.5)
    ax.stairs(hist["d_lo"], edges, label=f"lower bound (NPA level {summary['level']})",
              lw=1.5, ls="--")
    ax.set_xlabel("distance from the Q_1+AB boundary point to Q (>= 1e-3)")
    ax.set_ylabel(f"directions (of {summary['n_directions']})")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, out)
    plt.close(fig)
    return out
