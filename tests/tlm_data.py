"""Synthetic 4-D data with exact TLM labels and gauges, in the workflow's file layouts (tests).

Imported by tests as ``from tlm_data import ...`` (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import numpy as np

from chshml.geometry import CORR_DIM, SLICES, tlm_gauge, tlm_labels


def tlm_dataset(n: int, rng: np.random.Generator, kind: str = "uniform",
                eps: float = 1e-2) -> dict[str, np.ndarray]:
    """A 4-D dataset in the workflow's layout with exact TLM labels and gauges.

    ``kind="uniform"``: uniform in the cube (unbalanced, ~92.5 % quantum); ``"offset"``: pairs
    ``(1 -+ eps) p_b`` around TLM boundary points along uniform directions (paper Eq. 7).
    Splits are a random 70/15/15 partition.
    """
    if kind == "uniform":
        points = rng.uniform(-1, 1, (n, CORR_DIM))
    elif kind == "offset":
        # directions whose outer point (1 + eps) p_b leaves the cube are dropped: it is no
        # behaviour (as in `chshml sample --method boundary`)
        u = rng.normal(size=(4 * n + 8, CORR_DIM))
        pb = tlm_gauge(u)[:, None] * u
        pb = pb[np.max(np.abs((1 + eps) * pb), axis=1) <= 1][:(n + 1) // 2]
        if len(pb) < (n + 1) // 2:
            raise ValueError(f"eps {eps}: too few boundary points with (1 + eps) p_b in NS")
        points = np.concatenate([(1 - eps) * pb, (1 + eps) * pb])[:n]
    else:
        raise ValueError(f"kind must be 'uniform' or 'offset', got {kind!r}")
    perm = rng.permutation(n)
    n_tr, n_va = int(0.7 * n), int(0.15 * n)
    return {"points": points, "lam": tlm_gauge(points), "label": tlm_labels(points),
            "status": np.array(["tlm"] * n), "idx_train": np.sort(perm[:n_tr]),
            "idx_val": np.sort(perm[n_tr:n_tr + n_va]), "idx_test": np.sort(perm[n_tr + n_va:])}


def tlm_spread_file_data(n: int, sigma: float, rng: np.random.Generator,
                         boundary: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """A 4-D spread set as ``chshml sample --method spread`` writes it: ``points``,
    constructed ``label`` (inward = 1) and the ``boundary`` points ``p_b``.
    """
    from chshml.evaluation.spread import boundary_4d
    from chshml.sampling.labelled import spread_set

    pb = boundary_4d(n, rng) if boundary is None else boundary
    s = spread_set(pb, sigma, rng)
    return {"points": s.points, "label": s.label, "boundary": pb}


def tlm_slice_file_data(name: str, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` uniform NS points of a zero-marginal slice with exact TLM labels."""
    _, points = SLICES[name].uniform(n, rng)
    return {"points": points, "label": tlm_labels(points)}
