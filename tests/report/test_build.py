"""The report: paper values typed once, tables beside ours, figures, missing inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chshml.report import tables as T


def test_paper_values_are_complete_and_addressable():
    values = T.paper_values()
    look = T.paper_lookup(values)
    assert look[("II", "svm", "balanced", "test")].value == 0.9840
    assert look[("V", "nn", "offset_1e-3", "unbalanced")].value == 0.80535
    assert look[("VII", "svm", "offset_1e-3", "spread_1e-3")].value == 0.5335
    per_table = {t: sum(v.table == t for v in values) for t in
                 ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "A")}
    assert per_table == {"I": 4, "II": 9, "III": 6, "IV": 5, "V": 9, "VI": 14, "VII": 20,
                         "VIII": 17, "A": 3}
    assert sum(v.value for v in values if v.table == "VIII") == 8563 - 54  # paper's totals
    assert len(look) == len(values)  # no cell typed twice


def _fake_eval(tmp_path, name="svm_corr4_balanced"):
    from chshml.evaluation.slices import evaluate_slice
    from chshml.geometry import SLICES, tlm_labels
    from chshml.store import write_h5

    ev = {"model": name, "kind": "svm", "space": "corr4", "dataset": "corr4_balanced",
          "test": {"acc": 0.91234}, "train": {"acc": 0.95}, "unbalanced": {"acc": 0.9},
          "spread": {"0.01": {"acc": 0.61}, "0.001": {"acc": 0.52}},
          "spread_curve": {"sigma": [1e-4, 1e-3, 1e-2, 1e-1], "acc": [0.5, 0.52, 0.6, 0.9]},
          "slices": {"slice1": {"acc": 0.97}, "slice2": {"acc": 0.96}}}
    (tmp_path / f"{name}.json").write_text(json.dumps(ev))
    blobs = {}
    rng = np.random.default_rng(0)
    for s in ("slice1", "slice2"):
        _, pts = SLICES[s].uniform(3000, rng)
        r = evaluate_slice(tlm_labels, SLICES[s], 4, pts, tlm_labels(pts))
        blobs |= {f"{s}/xy": r.xy, f"{s}/truth": r.truth, f"{s}/pred": r.pred}
    write_h5(tmp_path / f"{name}_slices.h5", blobs)


def test_report_with_results_and_with_nothing(tmp_path):
    from chshml.cli import main

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", "--eval-dir", str(empty), "--data-dir", str(empty), "--n-mc",
                 "20000", "-o", str(tmp_path / "r0")]) == 0
    text = (tmp_path / "r0" / "report.md").read_text()
    assert "see-saw rounds: not available yet" in text and "no evaluation JSONs" in text
    assert "0.9840" in text  # the paper's column is there even without our models

    evdir = tmp_path / "eval"
    evdir.mkdir()
    _fake_eval(evdir)
    assert main(["report", "--eval-dir", str(evdir), "--data-dir", str(empty), "--n-mc",
                 "20000", "-o", str(tmp_path / "r1")]) == 0
    text = (tmp_path / "r1" / "report.md").read_text()
    assert "| SVM | balanced | svm_corr4_balanced | 0.9123 / 0.9840 |" in text
    assert "0.6100 / 0.5426" in text and "0.9700 / 0.9689" in text
    for png in ("slices_svm_corr4_balanced.png", "spread_curve.png"):
        assert (tmp_path / "r1" / png).stat().st_size > 10_000
        assert f"]({png})" in text
    vols = json.loads((tmp_path / "r1" / "report.json").read_text())["volumes"]
    assert abs(vols["vol_q4"][0] - 0.925) < 5 * vols["vol_q4"][1] + 1e-3


def test_fig2_from_volume_files(tmp_path):
    from chshml.report.build import ReportInputs, build_report, volume_points
    from chshml.store import write_h5

    files = []
    for level, frac, cpu in (("1", 0.9, 1.4), ("1+AB", 0.8, 2.4), ("3", 0.78, 55.0)):
        n = 1000
        label = (np.arange(n) < frac * n).astype(np.int8)
        f = tmp_path / f"volume8_{level}.h5"
        write_h5(f, {"points": np.zeros((n, 8)), "label": label},
                 {"level": level, "cpu_seconds_label": cpu * n / 1000, "cpu_seconds": 99.0})
        files.append(f)
    pts = volume_points(files)
    assert [p["level"] for p in pts] == ["1", "1+AB", "3"]
    assert pts[1]["fraction"] == 0.8 and pts[1]["seconds_per_point"] == pytest.approx(2.4e-3)
    assert pts[1]["fraction_se"] == pytest.approx(np.sqrt(0.8 * 0.2 / 1000))
    report = build_report(ReportInputs(volumes=files), tmp_path / "r", n_mc=10_000,
                          figures_dir=tmp_path / "r" / "figures")
    text = report.read_text()
    assert "](figures/fig2_volumes.png)" in text
    assert (tmp_path / "r" / "figures" / "fig2_volumes.png").stat().st_size > 5_000


def test_seesaw_results_fill_table_viii_and_appendix(tmp_path):
    from chshml.report.build import ReportInputs, build_report

    rounds = {"rounds": [{"round": 1, "d": 2, "seeds": 5, "points_tried": 90,
                          "newly_certified": 41, "cpu_seconds": 12.5}]}
    (tmp_path / "table8.json").write_text(json.dumps(rounds))
    (tmp_path / "appendix_a.json").write_text(json.dumps(
        {"n_points": 200, "d": 6, "seeds": 50,
         "counts_below": {"0.01": 190, "0.001": 150, "1e-07": 120}}))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([0, 1])
    plt.savefig(tmp_path / "fig6.png")
    inputs = ReportInputs(seesaw_table8=tmp_path / "table8.json",
                          seesaw_appendix=tmp_path / "appendix_a.json",
                          seesaw_fig6=tmp_path / "fig6.png")
    report = build_report(inputs, tmp_path / "r", n_mc=10_000)
    text = report.read_text()
    assert "| 1 | d=2, seeds=5 | 2271 | 01:07:30 | d=2, seeds=5 | 41 / 90 | – (–) | 12 |" in text
    assert "| 1e-3 | 0.7500 | 0.6793 |" in text
    missing_section = text.split("## ")[1]
    assert missing_section.startswith("Missing inputs") and "see-saw" not in missing_section
    assert "](fig6_seesaw.png)" in text


def test_report_reads_only_declared_inputs(tmp_path):
    from chshml.cli import main
    from chshml.store import write_h5

    evdir = tmp_path / "eval"
    evdir.mkdir()
    _fake_eval(evdir, "svm_corr4_balanced")
    _fake_eval(evdir, "svm_corr4_unbalanced")
    data = tmp_path / "data"
    data.mkdir()
    for name in ("corr4_balanced", "corr4_undeclared"):
        write_h5(data / f"{name}.h5", {"points": np.zeros((5, 4)),
                                       "label": np.array([1, 1, 0, 1, -1], dtype=np.int8)},
                 {"level": "1"})
    assert main(["report", "--eval", str(evdir / "svm_corr4_balanced.json"),
                 "--data", str(data / "corr4_balanced.h5"), "--validity", "--n-mc", "20000",
                 "-o", str(tmp_path / "r")]) == 0
    text = (tmp_path / "r" / "report.md").read_text()
    assert "svm_corr4_balanced" in text and "svm_corr4_unbalanced" not in text
    assert "| corr4_balanced | 5 | 4 |" in text and "corr4_undeclared" not in text
    assert (tmp_path / "r" / "slices_svm_corr4_balanced.png").is_file()
    # an empty --eval means no models (not the default folder)
    assert main(["report", "--eval", "--data", "--eval-dir", str(evdir), "--n-mc", "20000",
                 "-o", str(tmp_path / "r0")]) == 0
    assert "svm_corr4" not in (tmp_path / "r0" / "report.md").read_text().split(
        "## Figures")[1]
    assert "no evaluation JSONs given" in (tmp_path / "r0" / "report.md").read_text()


def test_label_validity_pairs_declared_files_only(tmp_path):
    from chshml.report.build import label_validity
    from chshml.store import write_h5

    pts = np.random.default_rng(0).normal(size=(6, 8))
    write_h5(tmp_path / "base.h5", {"points": pts, "label": np.array([1, 1, 1, 0, 0, -1])},
             {"level": "1+AB"})
    write_h5(tmp_path / "base_l3.h5", {"points": pts, "label": np.array([1, 0, -1, 0, 1, 0])},
             {"level": "3", "points_from": "base"})
    rows = label_validity([tmp_path / "base.h5", tmp_path / "base_l3.h5"])
    assert [(r["dataset"], r["relabelled"], r["level"]) for r in rows] == [
        ("base", "base_l3", "3")]
    assert (rows[0]["q_to_not"], rows[0]["not_to_q"], rows[0]["to_undecided"]) == (1, 1, 1)
    assert rows[0]["share_quantum_lost"] == pytest.approx(1 / 3)
    assert label_validity([tmp_path / "base_l3.h5"]) == []  # its base is not declared


def test_report_volumes_match_the_exact_ratios():
    from chshml.report import volumes as V

    rng = np.random.default_rng(1)
    q, se = V.volume_q4(200_000, rng)
    assert abs(q - V.VOLUME_Q4_EXACT) < 5 * se
    l8, se8 = V.volume_local8(20_000, rng)
    assert abs(l8 - V.VOLUME_L8_EXACT) < 5 * se8
    ex = V.chsh_exit_share(200_000, rng)
    assert 0 < ex["canonical"] < ex["any"] <= 1
