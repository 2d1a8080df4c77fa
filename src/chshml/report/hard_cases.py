"""Hard cases (issue 14): every model's spread accuracy near the quantum boundary.

Physics: boundary points ``p_b = lam(p) p`` are shifted to ``(1 + N(0, sigma)) p_b`` and
labelled by the sign of the shift. The boundary points come from rays no training set used:
4-D, directions of uniform points of Q with exact TLM gauges (a fixed report seed); 8-D,
directions of uniform points of the canonical simplex with their stored NPA gauges, once
for the Q_1+AB boundary (``full8_test_unbalanced``) and once for the Q_3 boundary
(``volume8_l3``). Points on the NS boundary and local boundary points are dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SIGMAS = tuple(float(s) for s in np.logspace(-5, -1, 9))
TABLE_SIGMAS = (1e-2, 1e-3, 1e-4)
#: 8-D reference boundaries: label -> dataset name (its stored ``lam``).
REFERENCES_8D = {"Q_1+AB": "full8_test_unbalanced", "Q_3": "volume8_l3"}


def hidden_boundaries(data_dir: Path | None, n4: int = 20_000,
                      seed: int = 0) -> dict[tuple[str, str], np.ndarray]:
    """``{(space, reference): boundary points}`` for the spread sets of the report."""
    from chshml.evaluation.spread import boundary_4d, boundary_from_gauge
    from chshml.geometry import is_local
    from chshml.seeds import shard_rng
    from chshml.store import read_h5

    out = {("corr4", "TLM (exact)"): boundary_4d(n4, shard_rng(seed, "hard-cases", 4))}
    for ref, name in REFERENCES_8D.items():
        path = Path(data_dir or ".") / f"{name}.h5"
        if not path.is_file():
            continue
        d, _ = read_h5(path)
        if "lam" not in d:
            continue
        pb = boundary_from_gauge(d["points"], d["lam"])
        pb = pb[~is_local(pb)] if len(pb) else pb
        if len(pb):
            out[("full8", ref)] = pb
    return out


def spread_accuracies(predict, boundary: np.ndarray, seed: int = 0,
                      ray_gauge: np.ndarray | None = None) -> list[float]:
    """Accuracy on ``(1 + N(0, sigma)) p_b`` for each sigma of :data:`SIGMAS`.

    ``ray_gauge``: a gauge model's predicted ``lam(p_b)``. Its gauge is homogeneous along
    rays, ``lam((1 + s) p_b) = lam(p_b) / (1 + s)``, so one prediction at the boundary
    labels every shifted set, nine times cheaper. The labels are those of ``predict`` on the
    shifted points up to the rounding of the kernel sums (relative ~1e-8 on the default
    run's models), which can only matter for a shift that small (tests/models/test_gauge.py).
    """
    from chshml.evaluation.spread import spread_accuracy, spread_accuracy_from_gauge
    from chshml.seeds import shard_rng

    rng = shard_rng(seed, "hard-cases-shift")
    if ray_gauge is None:
        return [spread_accuracy(predict, boundary, s, rng) for s in SIGMAS]
    return [spread_accuracy_from_gauge(ray_gauge, boundary, s, rng) for s in SIGMAS]


def hard_cases_section(evals: list[dict], data_dir: Path | None, fig_dir: Path,
                       seed: int = 0) -> tuple[str, list[tuple[str, Path]]]:
    """Markdown table (sigma = 1e-2, 1e-3, 1e-4 per model and reference) and the curve
    figure over sigma in [1e-5, 1e-1]; models are loaded from their ``model_file``.
    """
    from chshml.models import load_model

    bounds = hidden_boundaries(data_dir, seed=seed)
    rows, curves = [], {}
    for ev in evals:
        path = Path(ev.get("model_file", ""))
        if not path.is_file():
            continue
        try:
            clf = load_model(path)
        except Exception:
            rows.append(f"| {ev['model']} | – | unloadable | | | |")
            continue
        for (space, ref), pb in bounds.items():
            if space != clf.space:
                continue
            ray_gauge = clf.predict_gauge(pb) if hasattr(clf, "predict_gauge") else None
            accs = spread_accuracies(clf.predict, pb, seed, ray_gauge)
            cells = [accs[SIGMAS.index(min(SIGMAS, key=lambda s: abs(s - t)))]
                     for t in TABLE_SIGMAS]
            what = clf.meta.get("reference", clf.meta.get("data_attrs", {}).get("level", "?"))
            rows.append(f"| {ev['model']} | {space} | {ref} | {what} | "
                        + " | ".join(f"{a:.4f}" for a in cells) + f" | {len(pb)} |")
            if clf.meta.get("kind") == "gauge" or space == "corr4":
                curves[f"{ev['model']} vs {ref}"] = {"sigma": list(SIGMAS), "acc": accs}
    table = ["| model | space | boundary (truth) | model's labels | σ=1e-2 | σ=1e-3 | σ=1e-4 "
             "| boundary points |", "|---|---|---|---|---|---|---|---|", *rows]
    figs: list[tuple[str, Path]] = []
    if curves:
        from chshml.report import figures

        png = figures.spread_figure(curves, Path(fig_dir) / "hard_cases_spread.png")
        figs.append(("Hard cases: spread accuracy over σ in [1e-5, 1e-1] on hidden boundary "
                     "points", png))
    text = ("Spread accuracy on boundary points of rays no training set used (see "
            "`chshml.report.hard_cases`); chance is 0.5.\n\n" + "\n".join(table))
    return text, figs
