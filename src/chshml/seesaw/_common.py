"""What the two see-saw engines share: the result record and the linear maps of Eq. (8).

For a realisation (state rho on C^d x C^d, observables A_x, B_y) the behaviour is
``q_k = tr(rho O_k)`` with the 8 operators ``O_k`` of :func:`state_operators`; with rho and
Bob fixed, Alice's observable ``A_x`` enters ``(<A_x>, <A_x B_0>, <A_x B_1>)`` linearly, whose
targets are :func:`alice_targets` (Bob's likewise, :func:`bob_targets`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EngineResult:
    """Per-instance outcome: final distance, realisation, outer iterations and stop reason."""

    distance: np.ndarray
    state: np.ndarray
    a: np.ndarray
    b: np.ndarray
    iterations: np.ndarray
    reason: np.ndarray  # "threshold", "stalled" or "max_iter"


def state_operators(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The 8 operators ``O_k`` with ``q_k = tr(rho O_k)``: ``(n, 8, D, D)``."""
    n, _, d, _ = a.shape
    eye = np.broadcast_to(np.eye(d), (n, 2, d, d))
    left = np.concatenate([a, eye, a[:, [0, 0, 1, 1]]], axis=1)
    right = np.concatenate([eye, b, b[:, [0, 1, 0, 1]]], axis=1)
    ops = np.einsum("nkac,nkbe->nkabce", left, right)
    return ops.reshape(n, 8, d * d, d * d)


def alice_targets(p: np.ndarray) -> np.ndarray:
    """Alice's targets per input x: ``(<A_x>, <A_x B_0>, <A_x B_1>)``, shape ``(n, 2, 3)``."""
    return np.stack([p[:, [0, 4, 5]], p[:, [1, 6, 7]]], axis=1)


def bob_targets(p: np.ndarray) -> np.ndarray:
    """Bob's targets per input y: ``(<B_y>, <A_0 B_y>, <A_1 B_y>)``, shape ``(n, 2, 3)``."""
    return np.stack([p[:, [2, 4, 6]], p[:, [3, 5, 7]]], axis=1)
