"""Summaries of certify runs for the report: Table VIII with Q itself, and Appendix A.

Table VIII (paper: 158 CPU-days of see-saw rounds, 54 of 8,563 points left undecided) becomes
one ``chshml certify`` run: counts in Q (with the number of two-qubit atoms used, i.e. the
local dimension 2k that suffices), refuted by an NPA witness, undecided (listed with their
certified brackets: the candidates for Q_L minus Q), and the CPU time. Appendix A counts the
rays whose Q_1+AB boundary point lies within a distance of Q, as a certified range.
"""

from __future__ import annotations

import numpy as np

from chshml.appendix_a import APPENDIX_A_CUTS, distance_histogram

#: Undecided points listed individually in a summary (the rest are only counted).
MAX_LISTED = 50


def table8_summary(data: dict[str, np.ndarray], attrs: dict) -> dict:
    """Counts, atoms histogram, undecided list and CPU of a ``chshml certify`` output."""
    label = np.asarray(data["label"])
    n_atoms = np.asarray(data["n_atoms"])
    inside = label == 1
    atoms, counts = np.unique(n_atoms[inside], return_counts=True)
    undecided = np.flatnonzero(label == -1)
    listed = [{"row": int(data["rows"][i]) if "rows" in data else int(i),
               "gap": float(data["gap"][i]), "lam_lo": float(data["lam_lo"][i]),
               "lam_hi": float(data["lam_hi"][i])} for i in undecided[:MAX_LISTED]]
    not_refuted = int(np.sum(label != 0))
    return {
        "level": str(attrs.get("level", "")), "n_points": int(len(label)),
        "in_q": int(inside.sum()), "refuted": int(np.sum(label == 0)),
        "undecided": int(len(undecided)),
        "undecided_share_of_not_refuted": len(undecided) / not_refuted if not_refuted else 0.0,
        "atoms": {str(int(k)): int(c) for k, c in zip(atoms, counts, strict=True)},
        "max_local_dimension": int(2 * atoms.max()) if len(atoms) else 0,
        "max_recon_error": float(np.max(data["recon_error"][inside])) if inside.any() else 0.0,
        "cpu_seconds": float(attrs.get("cpu_seconds", np.nan)),
        "cpu_seconds_npa": float(attrs.get("cpu_seconds_npa", np.nan)),
        "undecided_points": listed,
    }


def appendix_a_summary(data: dict[str, np.ndarray], attrs: dict,
                       cuts: tuple[float, ...] = APPENDIX_A_CUTS) -> dict:
    """Per cut, the certified range of rays whose Q_1+AB boundary point is that close to Q.

    ``d_hi`` (a decomposed inner point) certifies ``dist <= d_hi``; ``d_lo`` (the NPA outer
    bound) certifies ``dist >= d_lo``: the true count below a cut is in ``[#d_hi<c, #d_lo<c]``.
    ``histogram``: Fig. 6's bins (width 1e-3 from 1e-3) of both bounds.
    """
    d_lo, d_hi = np.asarray(data["d_lo"]), np.asarray(data["d_hi"])
    counts_hi, edges = distance_histogram(d_hi)
    counts_lo = np.histogram(d_lo[d_lo >= edges[0]], bins=edges)[0] if len(d_lo) else counts_hi
    return {
        "level": str(attrs.get("level", "")), "n_directions": int(len(d_lo)),
        "counts_below": {f"{c:g}": [int(np.sum(d_hi < c)), int(np.sum(d_lo < c))]
                         for c in cuts},
        "histogram": {"edges": edges.tolist(), "d_hi": counts_hi.tolist(),
                      "d_lo": counts_lo.tolist()},
        "max_bracket_width": float(np.max(data["t_hi"] - data["t_lo"])) if len(d_lo) else 0.0,
        "cpu_seconds": float(attrs.get("cpu_seconds", np.nan)),
    }
