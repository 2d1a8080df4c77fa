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

#: CPU of an SVM grid against training points: measured on the 4-D eps = 1e-3 boundary grid
#: (C up to 1e4): 80 CPU-s at 2.8e3 training points, 673 CPU-s at 7e3 -> exponent 2.3.
SVM_EXPONENT = 2.3
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


def _sizes(config_files: list[Path]) -> dict[str, int]:
    """Dataset sizes ``n`` after layering config files (points_from copies: the base's n)."""
    import yaml

    ds: dict[str, dict] = {}
    for f in config_files:
        for name, spec in (yaml.safe_load(f.read_text()).get("datasets") or {}).items():
            ds.setdefault(name, {}).update(spec)
    out = {}
    for name, spec in ds.items():
        src = spec.get("points_from")
        n = ds.get(src, {}).get("n") if src else spec.get("n")
        if n:
            out[name] = int(n)
    return out


def print_projection(run: Path, base: list[Path], target: list[Path],
                     restarts: tuple[int, int] = (3, 10)) -> None:
    """CPU of every stage at the sizes of ``target`` from the rates measured in ``run``.

    Sampling and labelling scale linearly in the points; SVM grids as n^SVM_EXPONENT
    (measured); networks linearly in the points and the restarts; evaluations do not scale
    (fixed 2e4-point sets).
    """
    small, big = _sizes(base), _sizes([*base, *target])
    print("| stage | CPU s measured | n measured | n projected | CPU s projected | rule |")
    print("|---|---|---|---|---|---|")
    total = [0.0, 0.0]
    for stage, (_, cpu, _) in sorted(stage_times(run).items()):
        kind, _, name = stage.partition(" ")
        ds = name.split("_", 1)[1] if kind in ("train", "evaluate") else name
        n0, n1 = small.get(ds), big.get(ds)
        if stage.startswith("seesaw"):
            factor, rule = 0.0, "see-saw: not in the paper-size run"
        elif kind in ("sample", "label", "merge") and n0 and n1:
            factor, rule = n1 / n0, "linear"
        elif kind == "train" and n0 and n1:
            if name.startswith("svm"):
                factor, rule = (n1 / n0) ** SVM_EXPONENT, f"n^{SVM_EXPONENT}"
            else:
                factor, rule = n1 / n0 * restarts[1] / restarts[0], "n x restarts"
        else:
            factor, rule = 1.0, "fixed"
        total[0] += cpu
        total[1] += cpu * factor
        print(f"| {stage} | {cpu:.1f} | {n0 or '–'} | {n1 or '–'} | {cpu * factor:.0f} | "
              f"{rule} |")
    print(f"| **all** | {total[0]:.0f} | | | {total[1]:.0f} | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="workflow directory (with logs/ and results/)")
    ap.add_argument("--project", type=Path, nargs="*", default=None, metavar="CONFIG",
                    help="also project each stage's CPU to these layered sizes (e.g. "
                         "config/paper.yaml) from the rates measured in RUN (config.yaml sizes)")
    args = ap.parse_args()
    print("### CPU and wall time per stage\n")
    print_stages(args.run)
    print("\n### Table rows: ours / paper\n")
    print_rows(args.run)
    if args.project:
        print("\n### Projection to the layered sizes\n")
        print_projection(args.run, [args.run / "config.yaml"], args.project)
    rep = args.run / "results" / "report" / "report.json"
    if rep.is_file():
        print("\n### Volumes (report.json)\n")
        print("```\n" + json.dumps(json.loads(rep.read_text()).get("volumes"), indent=1)
              + "\n```")


if __name__ == "__main__":
    main()
