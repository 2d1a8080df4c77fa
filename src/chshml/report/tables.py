"""Our Tables I-VIII beside the paper's, from ``results/eval/*.json`` and dataset files."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

PAPER_CSV = Path(__file__).with_name("paper_values.csv")
DATA_TYPES = ("unbalanced", "balanced", "offset_1e-2", "offset_1e-3")


@dataclass(frozen=True)
class PaperValue:
    table: str
    model: str
    row: str
    column: str
    value: float | None
    note: str


def paper_values(path: Path = PAPER_CSV) -> list[PaperValue]:
    """The paper's numbers (one row per table cell); empty cells have ``value=None``."""
    rows = []
    with open(path, newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    for r in csv.DictReader(lines):
        v = r["value"].strip()
        rows.append(PaperValue(r["table"], r["model"], r["row"], r["column"],
                               float(v) if v else None, r.get("note", "") or ""))
    return rows


def paper_lookup(values: list[PaperValue]) -> dict[tuple[str, str, str, str], PaperValue]:
    return {(v.table, v.model, v.row, v.column): v for v in values}


def load_evals(eval_dir: Path) -> list[dict]:
    """All evaluation JSONs in ``eval_dir`` (unreadable files are skipped and listed)."""
    out = []
    for p in sorted(Path(eval_dir).glob("*.json")) if Path(eval_dir).is_dir() else []:
        try:
            d = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(d, dict) and "test" in d:
            d.setdefault("model", p.stem)
            out.append(d)
    return out


def data_type(dataset: str) -> str:
    """``corr4_offset_1e-3`` -> ``offset_1e-3``."""
    return dataset.split("_", 1)[1] if "_" in dataset else dataset


def measure(ev: dict, column: str) -> float | None:
    """One accuracy of an evaluation JSON by table column name."""
    try:
        if column in ("test", "train", "val", "unbalanced"):
            v = ev[column]["acc"] if ev.get(column) else None
        elif column.startswith("spread_"):
            key = f"{float(column.split('_', 1)[1]):g}"
            v = ev["spread"][key]["acc"]
        elif column.startswith("slice"):
            v = ev["slices"][column]["acc"]
        else:
            return None
    except (KeyError, TypeError):
        return None
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def fmt(v: float | None, digits: int = 4) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


COLUMN_TITLES = {"test": "test", "train": "train", "unbalanced": "unbalanced",
                 "spread_1e-2": "spread σ=1e-2", "spread_1e-3": "spread σ=1e-3",
                 "slice1": "slice 1", "slice2": "slice 2", "slice8": "slice 8-D"}

#: table -> (caption, model kinds, space, data types, columns)
TABLE_SPECS: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...], tuple[str, ...]]] = {
    "II": ("SVM, correlation space: test, train and unbalanced accuracy", ("svm",), "corr4",
           ("unbalanced", "balanced", "offset_1e-2"), ("test", "train", "unbalanced")),
    "III": ("SVM, correlation space: spread accuracy", ("svm",), "corr4",
            ("unbalanced", "balanced", "offset_1e-2"), ("spread_1e-2", "spread_1e-3")),
    "IV": ("SVM, correlation space, offset ε = 1e-3: all measures", ("svm",), "corr4",
           ("offset_1e-3",), ("test", "train", "unbalanced", "spread_1e-2", "spread_1e-3")),
    "V": ("NN, correlation space", ("nn",), "corr4", ("unbalanced", "balanced", "offset_1e-3"),
          ("test", "train", "unbalanced")),
    "VI": ("Slice accuracies, correlation space (2×10^4 points per slice)", ("svm", "nn"),
           "corr4", DATA_TYPES, ("slice1", "slice2")),
    "VII": ("SVM, the full 8-D CHSH space (canonical simplex)", ("svm",), "full8", DATA_TYPES,
            ("test", "train", "unbalanced", "spread_1e-2", "spread_1e-3")),
}


def accuracy_table(table: str, evals: list[dict], paper: dict) -> str:
    """Markdown: one row per (kind, data type), each column as 'ours / paper'."""
    caption, kinds, space, types, columns = TABLE_SPECS[table]
    head = ["model", "data", "our model"] + [COLUMN_TITLES[c] + " (ours / paper)"
                                            for c in columns]
    lines = [f"**Table {table}.** {caption}.", "", "| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    for kind in kinds:
        for dtype in types:
            ours = [e for e in evals if e.get("kind") == kind and e.get("space") == space
                    and data_type(str(e.get("dataset", ""))) == dtype]
            has_paper = any((table, kind, dtype, c) in paper for c in columns)
            if not ours and not has_paper:
                continue
            for ev in ours or [None]:
                cells = [kind.upper(), dtype, ev["model"] if ev else "(not run)"]
                for c in columns:
                    pv = paper.get((table, kind, dtype, c))
                    o = measure(ev, c) if ev else None
                    cells.append(f"{fmt(o)} / {fmt(pv.value if pv else None)}")
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def all_models_table(evals: list[dict]) -> str:
    """Every evaluated model with every measure (including those the paper lacks)."""
    cols = ("test", "train", "unbalanced", "spread_1e-2", "spread_1e-3", "slice1", "slice2",
            "slice8")
    head = ["model", "kind", "dataset"] + [COLUMN_TITLES[c] for c in cols] + ["balanced test"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for ev in evals:
        bal = ev.get("test", {}).get("balanced_acc")
        lines.append("| " + " | ".join([ev["model"], str(ev.get("kind")), str(ev.get("dataset"))]
                                      + [fmt(measure(ev, c)) for c in cols] + [fmt(bal)]) + " |")
    return "\n".join(lines)


def table_viii(paper_rows: list[PaperValue], seesaw: dict | None) -> str:
    """Table VIII (steered see-saw rounds): the paper's rounds beside ours when they exist."""
    lines = ["**Table VIII.** Steered see-saw rounds: points newly found in Q_dxd per round "
             "(paper: 10^4 simplex points, 8563 in Q_4).", ""]
    ours = {int(r.get("round", 0)): r for r in (seesaw or {}).get("rounds", [])}
    if not ours:
        lines.append("*Our see-saw results are not available yet (no see-saw output found); "
                     "the paper's rounds are listed for reference.*\n")
    lines += ["| round | paper: d, seeds | paper: new in Q_dxd | paper: CPU d:h:m | "
              "ours: d, seeds | ours: new / tried | ours: CPU s |", "|---|---|---|---|---|---|---|"]
    paper_viii = {int(v.row): v for v in paper_rows if v.table == "VIII"}
    for k in sorted(set(paper_viii) | set(ours)):
        v, o = paper_viii.get(k), ours.get(k)
        p_cells = ([v.column.replace(";n_in", "").replace(";", ", "), str(int(v.value or 0)),
                    v.note] if v else ["–"] * 3)
        o_cells = ([f"d={o.get('d')}, seeds={o.get('seeds')}",
                    f"{o.get('newly_certified', '–')} / {o.get('points_tried', '–')}",
                    fmt(o.get("cpu_seconds"), 0)] if o else ["–"] * 3)
        lines.append("| " + " | ".join([str(k)] + p_cells + o_cells) + " |")
    return "\n".join(lines)


def appendix_a_table(paper_rows: list[PaperValue], appendix: dict | None) -> str:
    """Appendix A: boundary points of Q_1+AB within a distance of a see-saw realisation."""
    if not appendix:
        return "*Our Appendix A see-saw distances are not available yet.*"
    n = int(appendix.get("n_points", 0)) or 1
    below = appendix.get("counts_below", {})
    lines = [f"Our run: {appendix.get('n_points')} directions, d = {appendix.get('d')}, "
             f"{appendix.get('seeds')} seeds.", "",
             "| distance below | ours (share) | paper (share of 10^4) |", "|---|---|---|"]
    for v in (v for v in paper_rows if v.table == "A"):
        cut = v.column.split("_", 1)[1]
        ours = below.get(f"{float(cut):g}")
        lines.append(f"| {cut} | {fmt(ours / n if ours is not None else None)} | "
                     f"{fmt((v.value or 0) / 1e4)} |")
    return "\n".join(lines)
