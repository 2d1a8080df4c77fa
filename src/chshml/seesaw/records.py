"""The records of a see-saw job: its options (:class:`SeesawConfig`) and per-point outcome
(:class:`SeesawResult`), shared by the job, its progress files and the summaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

ENGINES = ("fast", "sdp")


@dataclass
class SeesawConfig:
    """Options of one see-saw job (a round: local dimension, restarts, engine, threshold)."""

    local_dim: int
    restarts: int
    engine: str = "fast"
    threshold: float = 1e-7
    first_seed: int = 0       # restarts use seeds first_seed, ..., first_seed + restarts - 1
    base_seed: int = 0        # key of the random stream of initial observables
    max_iter: int | None = None  # engine default when None
    seed_batch: int | None = None  # restarts run together per point (fast: 16, sdp: 1)
    chunk: int | None = None   # points run together (fast: 8, sdp: 1)
    polish: bool | None = None  # LM polish (fast: always on; sdp: off unless True)

    def check(self) -> None:
        """Refuse options no job can run, naming the command-line option."""
        from chshml.errors import InputError

        if self.engine not in ENGINES:
            raise InputError(f"--engine must be one of {ENGINES}, got {self.engine!r}")
        if not 1 <= self.local_dim <= 16:
            raise InputError(f"--local-dim (--dim) must be in 1..16, got {self.local_dim}")
        if self.restarts < 1:
            raise InputError(f"--restarts (--seeds) must be >= 1, got {self.restarts}")
        if not (np.isfinite(self.threshold) and 0 < self.threshold < 1):
            raise InputError(f"--threshold must be in (0, 1), got {self.threshold}")
        if self.first_seed < 0 or self.base_seed < 0:
            raise InputError("--first-seed and --base-seed must be non-negative")

    def batch_sizes(self) -> tuple[int, int]:
        """``(restarts run together per point, points run together)``."""
        fast = self.engine == "fast"
        return (self.seed_batch or (16 if fast else 1), self.chunk or (8 if fast else 1))


@dataclass
class SeesawResult:
    """Per-point outcome of a job; arrays are over all input points (``processed`` marks work).

    ``seed`` is the smallest certifying restart seed (else that of the closest realisation),
    ``restarts_tried`` how many restarts ran on the point.
    """

    distance: np.ndarray
    certified: np.ndarray
    seed: np.ndarray
    restarts_tried: np.ndarray
    iterations: np.ndarray
    state: np.ndarray
    a: np.ndarray
    b: np.ndarray
    processed: np.ndarray
    cpu_seconds: float = 0.0
    resumed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
