"""Command-line entry point: ``chshml <command> ...``.

Each command lives in ``chshml.commands.<name>`` and exposes ``register(subparsers)``;
modules are imported lazily so that ``chshml label`` never pays for TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from chshml import __version__, threads
from chshml.commands._args import positive_int
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
    "certify-rays": "certify_rays",
    "certify-summary": "certify_summary",
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
        sub.choices[name].add_argument(
            "--threads", type=positive_int, default=None, metavar="N",
            help="BLAS/OpenMP threads (default: SLURM_CPUS_PER_TASK inside a SLURM job, "
                 "else 1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code (2: bad input, one line on stderr)."""
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    n_threads = threads.resolve(getattr(args, "threads", None))[0]
    threads.apply(n_threads)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        code = int(args.run(args) or 0)
        if code == 0 and not getattr(args, "quiet", False):  # a job log's last line
            print(f"chshml {args.command}: done in {time.perf_counter() - wall0:.1f} s "
                  f"({time.process_time() - cpu0:.1f} CPU-s, {n_threads} thread"
                  f"{'s' if n_threads > 1 else ''})", file=sys.stderr)
        return code
    except InputError as err:
        print(f"chshml {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a file system failure (disk full, permissions): not a bug
        where = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"chshml {args.command}: error:{where}: {err.strerror or err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
