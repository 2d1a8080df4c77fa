"""Command-line entry point: ``chshml <command> ...``.

Each command lives in ``chshml.commands.<name>`` and exposes ``register(subparsers)``;
modules are imported lazily so that ``chshml label`` never pays for TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from chshml import __version__
from chshml.errors import InputError

#: Command name -> module in ``chshml.commands`` providing ``register`` and ``run``.
COMMANDS = {
    "sample": "sample",
    "label": "label",
    "train": "train",
    "evaluate": "evaluate",
    "predict": "predict",
    "report": "report",
    "merge": "merge",
    "slice": "slice_points",
    "select": "select",
    "concat": "concat",
    "seesaw-summary": "seesaw_summary",
    "seesaw": "seesaw",
    "verify": "verify",
    "certify": "certify",
}


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only`` set, only that command's module is imported."""
    parser = OneLineErrorParser(prog="chshml", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"chshml {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND",
                                parser_class=OneLineErrorParser)
    for name, module in COMMANDS.items():
        if only is not None and name != only:
            sub.add_parser(name, help=f"(see chshml {name} --help)")
            continue
        importlib.import_module(f"chshml.commands.{module}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except InputError as err:
        print(f"chshml {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
