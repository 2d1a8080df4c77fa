"""Shared by the benchmarks: the CPU seconds a call takes (``python benchmarks/X.py`` puts this
folder on ``sys.path``, so ``from _timing import cpu_call`` works from any benchmark).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def cpu_call(f: Callable[[], T]) -> tuple[T, float]:
    """``f()`` and the CPU seconds (process time) it took."""
    t = time.process_time()
    out = f()
    return out, time.process_time() - t
