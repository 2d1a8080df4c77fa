"""Model hyper-parameters from a plain dict (config file or ``--set``), unknown keys refused."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def from_mapping(cls: type[T], values: dict | None, name: str) -> T:
    """``cls(**values)`` for a dataclass ``cls``; a key it does not have is a ValueError that
    names it (``name`` says which model's settings, e.g. ``"svm"``)."""
    values = dict(values or {})
    unknown = set(values) - set(cls.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown {name} config keys: {sorted(unknown)}")
    return cls(**values)
