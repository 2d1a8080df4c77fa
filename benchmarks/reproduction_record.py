"""The numbers of docs/reproduction.md from a finished (or partly finished) workflow run.

    python benchmarks/reproduction_record.py RUN_DIR [--paper-sizes]

RUN_DIR holds the workflow's ``logs/`` and ``results/``. Prints markdown: CPU and wall time
per stage (from the "done in" line every ``chshml`` job ends its log with), per-point CPU
rates, and every comparable table cell ours / paper with the gap in binomial standard errors
(``|ours - paper| / sqrt(p (1 - p) / n)``, ``p`` the paper's value, ``n`` our decided points).
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import defaultdict
from pathlib import Path

from chshml.report import tables as T

DONE = re.compile(r"chshml (\S+): done in ([\d.]+) s \(([\d.]+) CPU-s")


def stage_of(log: Path, logs: Path) -> str:
    """``logs/data/full8_offset_1e-3/label_0.log`` -> ``label full8_offset_1e-3``."""
    rel = log.relative_to(logs).parts
    if rel[0] == "data" and len(rel) >= 3:
        return f"{rel[2].split('_')[0].removesuffix('.log')} {rel[1]}"
    if rel[0] in ("models", "eval"):
        return f"{'train' if rel[0] == 'models' else 'evaluate'} {Path(rel[-1]).stem}"
    return "/".join(rel).removesuffix(".log")


def stage_times(run: Path) -> dict[str, list[float]]:
    """Stage -> [wall s, CPU s, jobs] summed over the stage's job logs."""
    logs = run / "logs"
    out: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    for log in sorted(logs.rglob("*.log")):
        lines = log.read_text(errors="replace").strip().splitlines()
        for line in reversed(lines[-3:]):
            m = DONE.search(line)
            if m:
                row = out[stage_of(log, logs)]
                row[0] += float(m.group(2))
                row[1] += float(m.group(3))
                row[2] += 1
                break
    return dict(out)


def print_stages(run: Path) -> None:
    times = stage_times(run)
    print("| stage | jobs | wall s (sum over jobs) | CPU s |")
    print("|---|---|---|---|")
    tot = [0.0, 0.0]
    for stage, (wall, cpu, jobs) in sorted(times.items()):
        print(f"| {stage} | {jobs} | {wall:.1f} | {cpu:.1f} |")
        tot[0] += wall
        tot[1] += cpu
    print(f"| **all** | | {tot[0]:.1f} | {tot[1]:.1f} |")


def print_rows(run: Path) -> None:
    evals = T.load_evals(run / "results" / "eval")
    paper = T.paper_lookup(T.paper_values())
    print("| table | model | column | ours | n | paper | gap (s.e.) |")
    print("|---|---|---|---|---|---|---|")
    for table, (_, kinds, space, types, columns) in T.TABLE_SPECS.items():
        for ev in evals:
            if ev.get("kind") not in kinds or ev.get("space") != space:
                continue
            dtype = T.data_type(str(ev.get("dataset", "")))
            if dtype not in types:
                continue
            for c in columns:
                pv = paper.get((table, ev["kind"], dtype, c))
                ours, n = T.measure(ev, c), T.measure_n(ev, c)
                if pv is None or pv.value is None or ours is None:
                    continue
                gap = T.gap_se(ours, pv.value, n)
                bal = T.balanced_measure(ev, c) if table in T.BOTH_METRICS else None
                cell = f"{ours:.4f}" + (f" (bal. {bal:.4f})" if bal is not None else "")
                print(f"| {table} | {ev['model']} | {c} | {cell} | {n} | {pv.value:.4f} | "
                      f"{'–' if gap is None else f'{gap:.1f}'} |")
    glob = paper.get(("text", "nn", "full8_unbalanced", "test"))
    for ev in evals:
        g = ev.get("unbalanced_ns_wide")
        if ev.get("kind") == "nn" and g and glob:
            gap = abs(g["acc"] - glob.value) / g["se"] if g.get("se") else math.nan
            print(f"| IV B 2 | {ev['model']} | NS-wide global | {g['acc']:.4f} | {g['n']} | "
                  f"{glob.value:.4f} | {gap:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="workflow directory (with logs/ and results/)")
    args = ap.parse_args()
    print("### CPU and wall time per stage\n")
    print_stages(args.run)
    print("\n### Table rows: ours / paper\n")
    print_rows(args.run)
    rep = args.run / "results" / "report" / "report.json"
    if rep.is_file():
        print("\n### Volumes (report.json)\n")
        print("```\n" + json.dumps(json.loads(rep.read_text()).get("volumes"), indent=1)
              + "\n```")


if __name__ == "__main__":
    main()
