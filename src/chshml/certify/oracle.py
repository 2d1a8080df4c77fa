"""The linear-optimisation oracle of Q: ``max beta . p`` over two-qubit atoms.

For fixed angles the best state is the top eigenvector of the 4x4 real Bell operator, so
``max_{p in Q} beta . p = max_angles lambda_max(W_beta(angles))`` (plus the deterministic
points, which are atoms with angles 0 or pi). The maximisation over the four angles is done
by a vectorised block-coordinate ascent from many starts: the state step is the top
eigenvector; each angle step is closed form, since with the state fixed the objective is
``c cos t + s sin t`` in any one angle (``t = atan2(s, c)``). Every step is monotone, so
each start ends at a local maximum. The oracle is a heuristic (no global guarantee): it only
proposes atoms; certification never trusts it (an atom's behaviour is recomputed exactly,
and upper bounds on Q come from NPA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chshml.certify.atoms import I2, X, Z, behaviours, deterministic_atoms
from chshml.linalg import eigh


@dataclass
class OracleResult:
    """Local maxima found, best first: value ``beta . p``, states, angles and behaviours."""

    values: np.ndarray
    states: np.ndarray
    angles: np.ndarray
    points: np.ndarray


#: The 8 real two-qubit operators the Bell operator is made of, in the order
#: ZI, XI, IZ, IX, ZZ, ZX, XZ, XX (Alice's factor first).
_BASIS = np.array([np.kron(a, b) for a, b in
                   ((Z, I2), (X, I2), (I2, Z), (I2, X), (Z, Z), (Z, X), (X, Z), (X, X))])
_BASIS_FLAT = _BASIS.reshape(8, 16)


def _coefficients(beta: np.ndarray, c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Coefficients of ``W_beta(angles)`` on :data:`_BASIS` (cos/sin of the 4 angles)."""
    ca0, ca1, cb0, cb1 = c.T
    sa0, sa1, sb0, sb1 = s.T
    b = beta
    out = np.empty((len(c), 8))
    out[:, 0] = b[0] * ca0 + b[1] * ca1
    out[:, 1] = b[0] * sa0 + b[1] * sa1
    out[:, 2] = b[2] * cb0 + b[3] * cb1
    out[:, 3] = b[2] * sb0 + b[3] * sb1
    # sum_xy beta_xy (ca_x Z + sa_x X) (x) (cb_y Z + sb_y X)
    ta = np.stack([b[4] * cb0 + b[5] * cb1, b[6] * cb0 + b[7] * cb1])   # Z part of K_x
    tb = np.stack([b[4] * sb0 + b[5] * sb1, b[6] * sb0 + b[7] * sb1])   # X part of K_x
    out[:, 4] = ca0 * ta[0] + ca1 * ta[1]
    out[:, 5] = ca0 * tb[0] + ca1 * tb[1]
    out[:, 6] = sa0 * ta[0] + sa1 * ta[1]
    out[:, 7] = sa0 * tb[0] + sa1 * tb[1]
    return out


def ascend(beta: np.ndarray, angles: np.ndarray, sweeps: int = 25
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block-coordinate ascent of ``lambda_max(W_beta)`` from the stacked starts ``angles``.

    With the state fixed, its expectations ``t`` of the 8 basis operators make the objective
    ``c cos a_x + s sin a_x + const`` in each angle (Alice's given Bob's and vice versa).
    Returns the final values, top eigenvectors (s, 4) and angles in [0, 2 pi) (s, 4).
    """
    b = np.asarray(beta, dtype=float)
    th = np.array(angles, dtype=float, copy=True)
    n = len(th)
    c, s = np.cos(th), np.sin(th)
    for _ in range(sweeps):
        w = (_coefficients(b, c, s) @ _BASIS_FLAT).reshape(n, 4, 4)
        psi = eigh(w)[1][:, :, -1]
        t = (psi[:, :, None] * psi[:, None, :]).reshape(n, 16) @ _BASIS_FLAT.T
        zi, xi, iz, ix, zz, zx, xz, xx = t.T
        for x in (0, 1):
            bz, bx = b[4 + 2 * x], b[5 + 2 * x]
            kc = bz * c[:, 2] + bx * c[:, 3]      # K_x = beta_x I + kc Z + ks X on Bob
            ks = bz * s[:, 2] + bx * s[:, 3]
            th[:, x] = np.arctan2(b[x] * xi + kc * xz + ks * xx, b[x] * zi + kc * zz + ks * zx)
        c[:, :2], s[:, :2] = np.cos(th[:, :2]), np.sin(th[:, :2])
        for y in (0, 1):
            az, ax = b[4 + y], b[6 + y]
            lc = az * c[:, 0] + ax * c[:, 1]      # L_y = beta_y I + lc Z + ls X on Alice
            ls = az * s[:, 0] + ax * s[:, 1]
            th[:, 2 + y] = np.arctan2(b[2 + y] * ix + lc * zx + ls * xx,
                                      b[2 + y] * iz + lc * zz + ls * xz)
        c[:, 2:], s[:, 2:] = np.cos(th[:, 2:]), np.sin(th[:, 2:])
    w = (_coefficients(b, c, s) @ _BASIS_FLAT).reshape(n, 4, 4)
    vals, vec = eigh(w)
    psi = vec[:, :, -1]
    psi = psi * np.where(psi[:, :1] < 0, -1.0, 1.0)   # a sign convention, for readability
    return vals[:, -1], psi, np.mod(th, 2 * np.pi)


class QubitOracle:
    """``max beta . p`` over atoms, by multistart ascent (random and warm starts)."""

    def __init__(self, starts: int = 12, sweeps: int = 25, seed: int = 0) -> None:
        self.starts = int(starts)
        self.sweeps = int(sweeps)
        self.rng = np.random.default_rng(seed)
        self.det_states, self.det_angles = deterministic_atoms()
        self.det_points = behaviours(self.det_states, self.det_angles)

    def maximise(self, beta: np.ndarray, warm: np.ndarray | None = None,
                 keep: int = 3) -> OracleResult:
        """Up to ``keep`` distinct local maxima of ``beta . p`` (best first).

        ``warm`` (w, 4) are extra starting angles, e.g. those of atoms already in use.
        """
        beta = np.asarray(beta, dtype=float)
        starts = self.rng.uniform(0.0, 2 * np.pi, (self.starts, 4))
        if warm is not None and len(warm):
            starts = np.vstack([starts, warm])
        values, states, angles = ascend(beta, starts, self.sweeps)
        det_vals = self.det_points @ beta
        j = int(np.argmax(det_vals))
        values = np.append(values, det_vals[j])
        states = np.vstack([states, self.det_states[j]])
        angles = np.vstack([angles, self.det_angles[j]])
        points = behaviours(states, angles)
        values = points @ beta          # recomputed exactly from the atoms themselves
        order = np.argsort(-values)
        chosen: list[int] = []
        for i in order:
            if all(np.abs(points[i] - points[c]).max() > 1e-7 for c in chosen):
                chosen.append(int(i))
            if len(chosen) == keep:
                break
        idx = np.array(chosen)
        return OracleResult(values[idx], states[idx], angles[idx], points[idx])
