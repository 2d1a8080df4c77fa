"""Running Snakemake from the tests: always under `timeout -k`, in a scratch directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
TINY = REPO / "config" / "tiny.yaml"
#: The datasets config/tiny.yaml builds.
TINY_DATASETS = ("corr4_unbalanced", "full8_offset_1e-2", "volume8_l1", "volume8_l1ab")


def snakemake(workdir: Path, *args: str, timeout: int = 300, env: dict | None = None,
              profile: str | Path = REPO / "profiles" / "local",
              configfile: Path | None = TINY) -> subprocess.CompletedProcess:
    """``timeout -k 10 <timeout> snakemake -s Snakefile --profile ... [args]`` in ``workdir``."""
    snakemake_bin = Path(sys.executable).with_name("snakemake")
    cmd = ["timeout", "-k", "10", str(timeout), str(snakemake_bin), "-s", str(SNAKEFILE),
           "--profile", str(profile)]
    cmd += list(args)
    if configfile is not None:  # last: --configfile takes several values
        cmd += ["--configfile", str(configfile)]
    full_env = {**os.environ, **(env or {})}
    bindir = str(Path(sys.executable).parent)
    if bindir not in full_env.get("PATH", "").split(os.pathsep):
        full_env["PATH"] = bindir + os.pathsep + full_env.get("PATH", "")
    return subprocess.run(cmd, cwd=workdir, env=full_env, capture_output=True, text=True)


def jobs_run(output: str) -> set[tuple[str, str]]:
    """``(rule, wildcards)`` of every job Snakemake started, parsed from its log."""
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?rule \S+:)", output):
        m = re.match(r"(?:local)?rule (\S+):", block.strip())
        if not m:
            continue
        wc = re.search(r"^\s*wildcards: (.*)$", block, re.M)
        jobs.add((m.group(1), wc.group(1).strip() if wc else ""))
    return jobs


def file_mtimes(root: Path) -> dict[str, int]:
    """Mtime (ns) of every .h5 under ``root/results``."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns
            for p in sorted((root / "results").rglob("*.h5"))}
