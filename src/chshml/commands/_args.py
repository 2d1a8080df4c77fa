"""Argument types shared by the commands (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse
import json


def positive_int(text: str) -> int:
    """The argparse type of counts: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def key_value(text: str) -> tuple[str, str]:
    """The argparse type of ``KEY=VALUE`` options: ``(KEY, VALUE)``, VALUE as given.

    Used with ``action="append"``; ``dict(args.option)`` gives the mapping.
    """
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"want KEY=VALUE, got {text!r}")
    return key, value


def json_or_text(value: str) -> object:
    """A ``KEY=VALUE`` value: parsed as JSON when it is JSON (``1``, ``[1, 2]``, ``true``),
    else the text itself.
    """
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
