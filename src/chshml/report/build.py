"""Assemble ``report.md`` and its PNGs from declared inputs (:class:`ReportInputs`); missing
inputs are named in the report, never fatal.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chshml.report import tables
from chshml.store import attr_to_json, read_groups

TABLE_I_ROWS = {"uniform_unbalanced": "full8_unbalanced", "uniform_balanced": "full8_balanced",
                "near_boundary": "full8_offset_1e-3"}


def _paths(files: Iterable[str | Path] | None) -> tuple[Path, ...]:
    return tuple(Path(f) for f in files or ())


def _opt_path(path: str | Path | None) -> Path | None:
    return Path(path) if path else None


@dataclass(frozen=True)
class ReportInputs:
    """Every file one report reads, declared (the workflow's report rule lists them).

    ``evals``: evaluation JSONs (each with its ``{model}_slices.h5`` beside it); ``data``:
    dataset files for the dataset table, Table I and the 4-D volume row; ``volumes``: Fig. 2's
    labelled canonical-simplex samples, one per NPA level; ``validity``: 8-D label validity,
    the base datasets and their relabelled copies; the see-saw and certify summaries.
    """

    evals: tuple[Path, ...] = ()
    data: tuple[Path, ...] = ()
    volumes: tuple[Path, ...] = ()
    validity: tuple[Path, ...] = ()
    seesaw_table8: Path | None = None
    seesaw_appendix: Path | None = None
    seesaw_fig6: Path | None = None
    certify_table8: Path | None = None
    certify_appendix: Path | None = None
    #: where the evaluation JSONs came from (for the "Missing inputs" list)
    eval_source: str = "given"
    #: inputs known to be missing before the report starts (e.g. no data directory)
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("evals", "data", "volumes", "validity"):
            object.__setattr__(self, name, _paths(getattr(self, name)))
        for name in ("seesaw_table8", "seesaw_appendix", "seesaw_fig6", "certify_table8",
                     "certify_appendix"):
            object.__setattr__(self, name, _opt_path(getattr(self, name)))

    @classmethod
    def from_dirs(cls, eval_dir: str | Path | None, data_dir: str | Path | None,
                  **files: Any) -> ReportInputs:
        """The directory form (``--eval-dir`` / ``--data-dir``): every ``*.json`` of
        ``eval_dir`` and every ``*.h5`` of ``data_dir`` (also the label-validity inputs).
        """
        evals = sorted(Path(eval_dir).glob("*.json")) if eval_dir and Path(
            eval_dir).is_dir() else []
        data = sorted(Path(data_dir).glob("*.h5")) if data_dir and Path(
            data_dir).is_dir() else []
        files.setdefault("validity", data)
        missing = () if data_dir and Path(data_dir).is_dir() else ("no data directory",)
        return cls(evals=evals, data=data, eval_source=f"in {eval_dir}", missing=missing,
                   **files)

    @property
    def data_dir(self) -> Path | None:
        """The one directory that holds the declared dataset files (hard cases read it)."""
        parents = {p.parent for p in self.data}
        return parents.pop() if len(parents) == 1 else None


def _h5_summary(path: Path) -> dict[str, Any]:
    from chshml.store import read_h5

    data, raw_attrs = read_h5(path)
    attrs = {k: attr_to_json(v) for k, v in raw_attrs.items()}
    points = data.get("points")
    n = int(points.shape[0]) if points is not None else 0
    dim = int(points.shape[1]) if points is not None and points.ndim == 2 else 0
    label = np.asarray(data["label"]) if "label" in data else None
    splits = {k: int(data[key].shape[0]) for k in ("train", "val", "test")
              for key in (f"idx_{k}", f"{k}_idx") if key in data}
    out = {"name": path.stem, "n": n, "dim": dim, "attrs": attrs, "splits": splits}
    if label is not None and len(label):
        out["quantum"] = float(np.mean(label == 1))
        out["undecided"] = int(np.sum(label < 0))
    return out


def _attr(attrs: dict, *keys: str) -> Any:
    for k in keys:
        if k in attrs:
            return attrs[k]
    return None


def datasets_section(data: list[dict]) -> str:
    if not data:
        return "*No dataset files found.*"
    lines = ["| dataset | n | dim | quantum share | undecided | train/val/test | level | recipe "
             "| seed | CPU s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for d in data:
        a = d["attrs"]
        sp = "/".join(str(d["splits"].get(k, "–")) for k in ("train", "val", "test"))
        cpu = _attr(a, "cpu_seconds")
        seed = _attr(a, "seed", "global_seed")
        lines.append(f"| {d['name']} | {d['n']} | {d['dim']} | {tables.fmt(d.get('quantum'), 3)} | "
                     f"{d.get('undecided', '–')} | {sp} | {_attr(a, 'level') or '–'} | "
                     f"{_recipe(a)} | "
                     f"{seed if seed is not None else '–'} | "
                     f"{tables.fmt(float(cpu), 1) if cpu is not None else '–'} |")
    return "\n".join(lines)


def _recipe(attrs: dict) -> str:
    """Recipe of a boundary/spread dataset (``paper`` or ``ns_interior``) and its split."""
    recipe = _attr(attrs, "recipe", "sample.recipe")
    if recipe is None:
        return "–"
    group = _attr(attrs, "split_group")
    return f"{recipe}{', pairs kept together' if group and int(group) > 1 else ''}"


def table_i(data: dict[str, dict], paper: list[tables.PaperValue]) -> str:
    lines = ["**Table I.** CPU time to sample and label 10^4 points in 8-D (ours scaled "
             "linearly from the run's size; paper: Q_1+AB, one CPU).", "",
             "| method | our dataset | our CPU s (as run) | ours per 10^4 | paper |",
             "|---|---|---|---|---|"]
    for v in (v for v in paper if v.table == "I"):
        ds = TABLE_I_ROWS.get(v.row)
        d = data.get(ds) if ds else None
        cpu = _attr(d["attrs"], "cpu_seconds") if d else None
        ours = f"{float(cpu):.1f} ({d['n']} pts)" if cpu is not None else "–"
        scaled = f"{float(cpu) * 1e4 / max(d['n'], 1):.1f} s" if cpu is not None else "–"
        lines.append(f"| {v.row.replace('_', ' ')} | {ds or '–'} | {ours} | {scaled} | "
                     f"{v.note or v.value} |")
    return "\n".join(lines)


def volumes_section(n_mc: int, seed: int, data: dict[str, dict],
                    paper: dict) -> tuple[str, dict]:
    from chshml.metrics import binomial_se
    from chshml.report import volumes as V
    from chshml.seeds import shard_rng

    t0 = time.perf_counter()
    q4, q4se = V.volume_q4(n_mc, shard_rng(seed, "report:vol_q4"))
    l8, l8se = V.volume_local8(max(n_mc // 5, 1000), shard_rng(seed, "report:vol_l8"))
    ex = V.chsh_exit_share(n_mc, shard_rng(seed, "report:exit"))
    secs = time.perf_counter() - t0

    def pv(row: str) -> str:
        v = paper.get(("text", "", row, "value"))
        return tables.fmt(v.value) if v else "–"

    def gap(est: float, se: float, exact: float) -> str:
        return f"{abs(est - exact) / se:.1f}" if se > 0 else "–"

    q4x, l8x = V.VOLUME_Q4_EXACT, V.VOLUME_L8_EXACT
    lines = [f"Monte Carlo with seed {seed} ({secs:.1f} s): estimate ± standard error, against "
             "the exact value (gap in standard errors); the paper's rounded value for reference.",
             "",
             "| quantity | ours | n | exact | gap (s.e.) | paper |", "|---|---|---|---|---|---|",
             f"| vol(Q)/vol(NS), 4-D (TLM labels) | {q4:.5f} ± {q4se:.5f} | {n_mc} | "
             f"3π²/32 = {q4x:.5f} | {gap(q4, q4se, q4x)} | {pv('vol_Q_over_NS_4d')} |",
             f"| vol(L)/vol(NS), 8-D | {l8:.5f} ± {l8se:.5f} | {max(n_mc // 5, 1000)} | "
             f"16/17 = {l8x:.5f} | {gap(l8, l8se, l8x)} | {pv('vol_L_over_NS_8d')} |",
             f"| directions leaving L through the canonical CHSH facet | {ex['canonical']:.5f} ± "
             f"{ex['canonical_se']:.5f} | {n_mc} | – | – | {pv('chsh_facet_direction_share')} |",
             f"| directions leaving L through any CHSH facet | {ex['any']:.5f} ± "
             f"{ex['any_se']:.5f} | {n_mc} | – | – | – |"]
    uni = data.get("corr4_test_unbalanced")
    if uni and "quantum" in uni:
        n = uni["n"] - uni.get("undecided", 0)
        se = binomial_se(uni["quantum"], n)
        lines.append(f"| vol(Q)/vol(NS), 4-D, from corr4_test_unbalanced labels (NPA level 1) | "
                     f"{uni['quantum']:.5f} ± {se:.5f} | {n} | {q4x:.5f} | "
                     f"{gap(uni['quantum'], se, q4x)} | {pv('vol_Q_over_NS_4d')} |")
    vals = {"vol_q4": [q4, q4se], "vol_l8": [l8, l8se], "exit_share": ex}
    return "\n".join(lines), vals


def label_validity(files: Sequence[str | Path]) -> list[dict]:
    """8-D datasets relabelled at another level (``points_from`` copies) against their base,
    both among the declared ``files`` (a copy whose base is not declared is skipped).

    The base labels are those the sampler or labeller stored (e.g. level 1+AB); the copy holds
    the same points labelled at a tighter level (2, 3) or certified against Q itself. Rows:
    label changes by kind.
    """
    from chshml.store import read_h5

    by_name = {Path(f).stem: Path(f) for f in files if Path(f).is_file()}
    cache: dict[str, tuple[dict, dict] | None] = {}

    def load(name: str) -> tuple[dict, dict] | None:
        if name not in cache:
            try:
                cache[name] = read_h5(by_name[name])
            except (OSError, KeyError):
                cache[name] = None
        return cache[name]

    rows: list[dict] = []
    for name in sorted(by_name, key=lambda k: by_name[k]):
        loaded = load(name)
        if loaded is None:
            continue
        data, attrs = loaded
        base = str(attrs.get("points_from", name))
        if base == name or base not in by_name or "label" not in data:
            continue
        loaded_base = load(base)
        if loaded_base is None:
            continue
        bdata, battrs = loaded_base
        if np.asarray(data["points"]).shape[-1] != 8 or "label" not in bdata:
            continue
        if not np.array_equal(np.asarray(bdata["points"]), np.asarray(data["points"])):
            continue
        old, new = np.asarray(bdata["label"]), np.asarray(data["label"])
        n_q = int(np.sum(old == 1))
        q_to_not = int(np.sum((old == 1) & (new == 0)))
        rows.append({"dataset": base, "relabelled": name,
                     "base_level": str(battrs.get("level", "?")),
                     "level": (f"Q (certified; witnesses at level {attrs.get('level', '?')})"
                               if attrs.get("reference") == "Q"
                               else str(attrs.get("level", "?"))), "n": int(len(old)),
                     "q_to_not": q_to_not, "not_to_q": int(np.sum((old == 0) & (new == 1))),
                     "to_undecided": int(np.sum((old >= 0) & (new < 0))),
                     "share_quantum_lost": q_to_not / n_q if n_q else None})
    return rows


def volume_points(files: list[Path]) -> list[dict]:
    """Fig. 2 inputs: labelled uniform canonical-simplex samples, one file per NPA level."""
    from chshml.metrics import binomial_se
    from chshml.store import read_h5

    pts = []
    for f in files:
        data, attrs = read_h5(f)
        label = np.asarray(data.get("label", []))
        decided = label[label >= 0]
        cpu = _attr(attrs, "cpu_seconds_label", "cpu_seconds")  # labelling time at the level
        if not len(decided) or cpu is None:
            continue
        p = {"level": str(_attr(attrs, "level") or f.stem), "fraction": float(np.mean(decided)),
             "fraction_se": binomial_se(float(np.mean(decided)), len(decided)),
             "seconds_per_point": float(cpu) / len(label), "n": int(len(label))}
        if "seconds" in data:
            p["seconds_per_point_sd"] = float(np.std(data["seconds"]))
        pts.append(p)
    return pts


def _load_evals(files: Sequence[Path]) -> list[tuple[Path, dict]]:
    """Evaluation JSONs with their paths, in path order (unreadable ones skipped)."""
    out = []
    for p in sorted(files):
        ev = tables.load_eval(p)
        if ev is not None:
            out.append((p, ev))
    return out


def build_report(inputs: ReportInputs, out_dir: Path, n_mc: int = 1_000_000, seed: int = 0,
                 figures_dir: Path | None = None, partial: bool = False) -> Path:
    """Write ``out_dir/report.md`` and PNGs (in ``figures_dir``, default ``out_dir``) from the
    declared ``inputs``.

    ``partial``: an early report built while slow inputs are still running; it says so at the
    top, and every input not there yet is listed under "Missing inputs".
    """
    import os

    from chshml.report import figures
    from chshml.store import atomic_path, write_json, write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig_dir = Path(figures_dir) if figures_dir else out_dir
    fig_dir.mkdir(parents=True, exist_ok=True)
    missing: list[str] = list(inputs.missing)
    paper_rows = tables.paper_values()
    paper = tables.paper_lookup(paper_rows)
    loaded = _load_evals(inputs.evals)
    evals = [ev for _, ev in loaded]
    if not evals:
        missing.append(f"no evaluation JSONs {inputs.eval_source}")
    data_list = []
    for p in sorted(inputs.data):
        try:
            summary = _h5_summary(p)
            if summary["n"]:
                data_list.append(summary)
        except (OSError, KeyError):
            missing.append(f"unreadable dataset {p}")
    data = {d["name"]: d for d in data_list}

    figs: list[tuple[str, str]] = []
    for path, ev in loaded:
        sfile = path.with_name(f"{ev['model']}_slices.h5")
        if not sfile.is_file():
            continue
        png = figures.slices_figure(read_groups(sfile), ev["model"],
                                    fig_dir / f"slices_{ev['model']}.png")
        figs.append((f"Decision regions of {ev['model']} (cf. paper Figs. 3-5)", png))
    curves = {ev["model"]: ev["spread_curve"] for ev in evals if ev.get("spread_curve")}
    if curves:
        png = figures.spread_figure(curves, fig_dir / "spread_curve.png")
        figs.append(("Spread accuracy against σ (all models)", png))
    vol_pts = volume_points([v for v in inputs.volumes if v.is_file()])
    if vol_pts:
        png = figures.volumes_figure(vol_pts, fig_dir / "fig2_volumes.png")
        figs.append(("Fig. 2: relative volume of Q_n in the canonical simplex vs CPU time",
                     png))
    else:
        missing.append("Fig. 2: no labelled canonical-simplex samples per NPA level given")
    seesaw_data = tables.read_json(inputs.seesaw_table8) if inputs.seesaw_table8 else None
    appendix = tables.read_json(inputs.seesaw_appendix) if inputs.seesaw_appendix else None
    seesaw_fig6 = inputs.seesaw_fig6
    if seesaw_fig6 and seesaw_fig6.is_file():
        target = fig_dir / "fig6_seesaw.png"
        if seesaw_fig6.resolve() != target.resolve():
            with atomic_path(target, [seesaw_fig6], keep_suffix=True) as tmp:
                shutil.copyfile(seesaw_fig6, tmp)
        figs.append(("Fig. 6: see-saw distances of Q_1+AB boundary points", target))
    if seesaw_data is None:
        missing.append("see-saw rounds: not available yet (our Table VIII column is empty)")
    if appendix is None or not (seesaw_fig6 and seesaw_fig6.is_file()):
        missing.append("see-saw Appendix A distances / Fig. 6: not available yet")

    certify_appendix = (tables.read_json(inputs.certify_appendix) if inputs.certify_appendix
                        else None)
    if certify_appendix and "histogram" in certify_appendix:
        png = figures.certified_distances_figure(certify_appendix,
                                                 fig_dir / "fig6_certify.png")
        figs.append(("Fig. 6 with Q: certified distances of Q_1+AB boundary points from Q",
                     png))

    from chshml.report.hard_cases import hard_cases_section  # issue 14: near the boundary
    hc_text, hc_figs = hard_cases_section(evals, inputs.data_dir, fig_dir, seed)
    figs += hc_figs
    vol_text, vol_vals = volumes_section(n_mc, seed, data, paper)
    parts = [
        "# chshml report: ML classifiers of the CHSH quantum set",
        f"Generated {_dt.datetime.now().isoformat(timespec='seconds')}. Each accuracy cell "
        "reads *ours / paper* (Alves, Gigena, Kaniewski 2024). Our 4-D truth is exact (TLM); "
        "8-D labels are NPA at the level in the dataset table.",
        *(["> **Partial report**, built while slow inputs (Fig. 2 volumes, label validity, "
            "see-saw) are still running: every missing input is listed below; the final "
            "report is results/report/report.md."] if partial else []),
        "## Missing inputs", "\n".join(f"* {m}" for m in missing) or "None.",
        "## Datasets (sizes, seeds, timings)", datasets_section(data_list),
        "## Table I", table_i(data, paper_rows),
    ]
    for t in ("II", "III", "IV", "V", "VI", "VII"):
        parts += [f"## Table {t}", tables.accuracy_table(t, evals, paper)]
    parts += ["## 8-D network: global accuracy, NS-wide (paper Sec. IV B 2)",
              tables.nn_global_table(evals, paper),
              "## 8-D label validity (labels against tighter reference sets)",
              tables.label_validity_table(label_validity(inputs.validity))]
    parts += ["## All evaluated models", tables.all_models_table(evals) if evals else "*None.*",
              "## Hard cases (spread near the boundary)", hc_text,
              "## Models (training)", models_section(evals),
              "## Table VIII", tables.table_viii(paper_rows, seesaw_data),
              "## Appendix A (see-saw distances)", tables.appendix_a_table(paper_rows, appendix),
              "## Table VIII with Q itself (certified both ways)",
              tables.table_viii_certify(tables.read_json(inputs.certify_table8)
                                        if inputs.certify_table8 else None),
              "## Appendix A with Q itself",
              tables.appendix_a_certify(paper_rows, certify_appendix,
                                        vol_vals["exit_share"]["any"]),
              "## Volume estimates", vol_text, "## Figures"]
    links = [(cap, Path(os.path.relpath(png, out_dir)).as_posix()) for cap, png in figs]
    parts += [f"### {cap}\n\n![{cap}]({name})" for cap, name in links] or ["*No figures.*"]
    report = out_dir / "report.md"
    write_text(report, "\n\n".join(parts) + "\n")
    write_json(out_dir / "report.json", {"volumes": vol_vals, "n_models": len(evals),
                                         "missing": missing, "figures": [n for _, n in links]},
               nan_as_null=False)
    return report


def models_section(evals: list[dict]) -> str:
    if not evals:
        return "*None.*"
    lines = ["| model | chosen | train s | train points | eval s | notes |",
             "|---|---|---|---|---|---|"]
    for ev in evals:
        m = ev.get("model_meta") or {}
        chosen = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in (m.get("chosen") or {}).items())
        tt = (m.get("timings") or {}).get("total_seconds")
        lines.append(f"| {ev['model']} | {chosen} | {tables.fmt(tt, 1)} | "
                     f"{m.get('n_train_used', '–')} | "
                     f"{tables.fmt((ev.get('timings') or {}).get('evaluate_seconds'), 1)} | "
                     f"{'; '.join(ev.get('notes') or []) or '–'} |")
    return "\n".join(lines)
