"""Progress of long work: lines with points done, rate and ETA on stderr (job logs), and the
checkpoint folder ``OUT.h5.progress/`` from which a killed job resumes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TextIO


class Progress:
    """Report ``done/total``, rate and ETA at most every ``every`` seconds, and at the end."""

    def __init__(self, total: int, what: str = "points", every: float = 10.0,
                 stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = int(total)
        self.what = what
        self.every = every
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.done = 0
        self.start = time.monotonic()
        self._last = self.start

    def update(self, n: int = 1, note: str = "", force: bool = False) -> None:
        """Count ``n`` more done; print (with ``note`` appended) if due, or if ``force``."""
        self.done += n
        now = time.monotonic()
        if self.enabled and (force or now - self._last >= self.every
                             or self.done >= self.total):
            self._last = now
            self._print(now, note)

    def _print(self, now: float, note: str = "") -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        remaining = (self.total - self.done) / rate if rate > 0 else float("inf")
        pct = 100.0 * self.done / self.total if self.total else 100.0
        print(f"[chshml] {self.what}: {self.done}/{self.total} ({pct:.0f}%), "
              f"{rate:.1f}/s, elapsed {elapsed:.0f}s, ETA {remaining:.0f}s"
              + (f", {note}" if note else ""),
              file=self.stream, flush=True)


def progress_dir(output: str | os.PathLike) -> Path:
    """The checkpoint folder of an output file: ``OUT.h5.progress/``."""
    output = Path(output)
    return output.with_name(output.name + ".progress")


def prepare(folder: Path, fp: str, what: str) -> None:
    """Keep checkpoint ``folder`` if it belongs to fingerprint ``fp``, else start it afresh
    (``what``, e.g. ``"seesaw"``, names the job in the message).
    """
    meta = folder / "meta.json"
    if meta.exists():
        try:
            old = json.loads(meta.read_text()).get("fingerprint")
        except (OSError, ValueError):
            old = None
        if old == fp:
            return
        print(f"[chshml] {what}: {folder} belongs to other points or options; starting afresh",
              file=sys.stderr, flush=True)
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps({"fingerprint": fp}))
    os.replace(tmp, meta)
