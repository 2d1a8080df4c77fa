"""chshml.workflow_config: the workflow's defaults and dataset resolution, without Snakemake."""

from __future__ import annotations

import shlex

import pytest
import yaml
from workflow_helpers import REPO

from chshml import workflow_config as wfc
from chshml.errors import InputError
from chshml.shards import shard_sizes


def _config(**datasets) -> dict:
    return {"seed": 7, "datasets": datasets}


@pytest.fixture(scope="module")
def default_config() -> dict:
    with open(REPO / "config.yaml") as f:
        return yaml.safe_load(f)


def test_defaults_fill_level_label_mode_and_recipe():
    cfg = _config(u={"space": "corr4", "method": "uniform", "n": 10, "shards": 2},
                  b={"space": "full8", "method": "boundary", "epsilon": 0.01, "n": 10,
                     "shards": 1},
                  s={"space": "corr4", "method": "slice", "slice": "slice1", "n": 4,
                     "shards": 1},
                  d={"space": "full8", "method": "directions", "n": 4, "shards": 1})
    u = wfc.dataset_spec(cfg, "u")
    assert (u["level"], u["label"], u["points_from"]) == ("1", True, "u")
    b = wfc.dataset_spec(cfg, "b")
    assert (b["level"], b["label"], b["recipe"]) == ("1+AB", False, "paper")
    assert wfc.dataset_spec(cfg, "s")["mode"] == "uniform"
    assert wfc.dataset_spec(cfg, "d")["label"] is False
    cfg["labelling"] = {"level": {"full8": "2"}}
    assert wfc.dataset_spec(cfg, "b")["level"] == "2"
    with pytest.raises(InputError, match="unknown dataset 'nope'"):
        wfc.dataset_spec(cfg, "nope")


def test_points_from_takes_the_source_but_keeps_its_own_level():
    cfg = _config(v={"space": "full8", "method": "simplex", "n": 8, "shards": 2, "level": "1",
                     "note": "source"},
                  v3={"points_from": "v", "level": 3})
    ds = wfc.dataset_spec(cfg, "v3")
    assert (ds["space"], ds["n"], ds["shards"], ds["level"]) == ("full8", 8, 2, "3")
    assert ds["points_from"] == "v" and ds["label"] is True
    assert wfc.is_labelled(cfg, "v3") and wfc.is_labelled(cfg, "v")


@pytest.mark.parametrize("method, n, shards", [("uniform", 10, 3), ("boundary", 10, 3),
                                               ("balanced", 8, 4), ("simplex", 1, 1)])
def test_shard_sizes_add_up_and_keep_pairs_whole(method, n, shards):
    ds = {"method": method, "n": n, "shards": shards}
    sizes = [wfc.shard_size(ds, k) for k in range(shards)]
    pair = 2 if method in wfc.EVEN_METHODS else 1
    assert sum(sizes) == n and all(s % pair == 0 for s in sizes)
    assert sizes == [pair * s for s in shard_sizes(n // pair, shards)]


def test_commands_match_the_cli():
    cfg = _config(b={"space": "corr4", "method": "boundary", "epsilon": 0.01, "n": 10,
                     "shards": 2},
                  g={"space": "corr4", "method": "slice", "slice": "slice2", "mode": "grid",
                     "side": 5, "n": 25, "shards": 2},
                  q={"points_from": "b", "level": "4", "reference": "Q"})
    assert wfc.sample_command(cfg, "b", 1) == (
        "sample --space corr4 --method boundary -n 4 --seed 7 --dataset b --shard 1 "
        "--level 1 --solver auto --epsilon 0.01 --recipe paper")
    assert wfc.sample_command(cfg, "g", 0) == (
        "slice --slice slice2 --mode grid --side 5 --shards 2 --seed 7 --dataset g --shard 0")
    assert wfc.label_command(cfg, "q") == "certify --level 4 --tol 1e-06 --clean --allow-outside-ns"
    cfg["labelling"] = {"solver": "scs", "tol": 1e-5}
    assert wfc.label_command(cfg, "g") == "label --level 1 --solver scs --tol 1e-05"
    cfg["datasets"]["r"] = {"space": "full8", "method": "directions", "n": 8, "shards": 1,
                            "label": True, "level": "3", "curved_at": "1+AB"}
    assert wfc.sample_command(cfg, "r", 0) == (
        "sample --space full8 --method directions -n 8 --seed 7 --dataset r --shard 0 "
        "--curved-at 1+AB")
    assert wfc.merge_attrs(cfg, "r")["curved_at"] == "1+AB"
    with pytest.raises(InputError, match="takes its points from 'b'"):
        wfc.sample_command(cfg, "q", 0)
    with pytest.raises(InputError, match="2 shards"):
        wfc.sample_command(cfg, "b", 2)


def test_config_hash_follows_everything_that_shapes_the_data():
    cfg = _config(u={"space": "corr4", "method": "uniform", "n": 10, "shards": 2})
    h = wfc.config_hash(cfg, "u")
    assert len(h) == 16 and h == wfc.config_hash(_config(**cfg["datasets"]), "u")
    assert wfc.config_hash({**cfg, "seed": 8}, "u") != h
    assert wfc.config_hash({**cfg, "split": {"train": 0.8, "val": 0.1, "test": 0.1}}, "u") != h
    assert wfc.config_hash({**cfg, "labelling": {"level": {"corr4": "2"}}}, "u") != h
    assert wfc.split_arg(cfg) == "0.7,0.15,0.15"


def test_merge_options_name_the_provenance():
    cfg = _config(b={"space": "corr4", "method": "boundary", "epsilon": 0.01, "n": 10,
                     "shards": 1, "pair_split": True})
    opts = shlex.split(wfc.merge_options(cfg, "b", ["s 0.h5"]))
    assert opts[:3] == ["--samples", "s 0.h5", "--split-group"]
    attrs = dict(o.split("=", 1) for o in opts[5::2])
    assert attrs["level"] == '"1"' and attrs["epsilon"] == "0.01" and attrs["recipe"] == '"paper"'
    assert attrs["config_hash"] == f'"{wfc.config_hash(cfg, "b")}"'


def test_default_config_evaluates_every_space_on_datasets(default_config):
    cfg = default_config
    for space in ("corr4", "full8"):
        sets = wfc.eval_sets(cfg, space)
        assert {"uniform", "slice_slice1", "slice_slice2"} <= set(sets)
        for name in sets.values():
            assert wfc.is_labelled(cfg, name)
    assert wfc.eval_sets(cfg, "full8")["slice_slice8"] == "full8_slice8"
    opts = wfc.eval_options(cfg, {"model": "m", "data": "d", "slice_slice1": "s1.h5",
                                  "spread_0.01": "sp.h5"})
    assert opts.startswith("--slice slice1=s1.h5 --spread 0.01=sp.h5 --n-slice 20000")
    # the slice truth is level 1 (TLM) on 4-D points: exact for 4-D and zero-marginal 8-D
    for name in ("corr4_slice1", "corr4_slice2", "full8_slice1", "full8_slice2"):
        ds = wfc.dataset_spec(cfg, name)
        assert (ds["method"], ds["space"], ds["level"], ds["label"]) == (
            "slice", "corr4", "1", True)
        assert ds["n"] == cfg["models"]["evaluate"]["n_slice"]


def test_model_settings_split_workflow_keys_from_training_keys(default_config):
    cfg = default_config
    assert "datasets" not in wfc.nn_settings(cfg) and "priority" not in wfc.nn_settings(cfg)
    assert wfc.nn_threads(cfg) == 1 and wfc.nn_priority(cfg) == 10
    assert wfc.svm_settings(cfg, "corr4_offset_1e-3")["C"] == [10, 100, 1000, 10000]
    assert wfc.svm_settings(cfg, "corr4_unbalanced")["C"] == [1, 10, 100, 1000]
    assert "boundary" not in wfc.svm_settings(cfg, "corr4_unbalanced")
    assert wfc.gauge_settings(cfg, "gauge_corr4_tlm")["reference"] == "tlm"
    assert wfc.gauge_eval_dataset(cfg, "gauge_corr4_tlm") == "corr4_unbalanced"
    # a model's own target goes over the shared one; the others keep the shared one
    assert wfc.gauge_settings(cfg, "gauge_full8_q")["target"] == "face"
    assert wfc.gauge_settings(cfg, "gauge_full8_l1ab")["target"] == "auto"
    assert wfc.set_args({"C": [1, 10]}) == "--set 'C=[1, 10]'"
    assert wfc.nn_threads({}) == wfc.DEFAULT_NN_THREADS


def test_report_datasets_cover_every_stage(default_config):
    cfg = default_config
    names = wfc.report_datasets(cfg)
    assert names == list(cfg["datasets"])  # the default study reads every dataset
    assert set(wfc.report_volumes(cfg)) <= set(names)
    assert "validity8_sigma1e-3_q" in wfc.report_validity(cfg)
    # the volume samples are one sample relabelled level by level: their rows join the table
    assert set(wfc.report_volumes(cfg)) <= set(wfc.report_validity(cfg))
    assert set(wfc.model_stage_datasets(cfg)) < set(names)
    assert wfc.run_datasets({**cfg, "run_datasets": ["corr4_unbalanced"]}) == [
        "corr4_unbalanced"]


def test_seesaw_point_sets_are_datasets_of_their_own(default_config):
    cfg = {**default_config, "datasets": dict(default_config["datasets"])}
    own = wfc.seesaw_datasets(cfg)
    assert set(own) == {wfc.SEESAW_TABLE8, wfc.SEESAW_APPENDIX_A}
    t8 = own[wfc.SEESAW_TABLE8]
    assert (t8["method"], t8["n"], t8["shards"], t8["level"]) == (
        "simplex", cfg["seesaw"]["table8"]["n_points"], 1, "4")
    before = wfc.run_datasets(cfg)
    wfc.add_stage_datasets(cfg)
    assert wfc.run_datasets(cfg) == before  # `snakemake data` leaves the see-saw's sets out
    # one shard: the points `chshml sample --dataset seesaw_table8` draws without --shard
    assert wfc.sample_command(cfg, wfc.SEESAW_TABLE8, 0).endswith(
        "--dataset seesaw_table8 --shard 0")
    assert wfc.label_command(cfg, wfc.SEESAW_APPENDIX_A) == (
        "label --level 1+AB --solver auto --tol 1e-06")
    with pytest.raises(InputError, match="belong to the see-saw stage"):
        wfc.add_stage_datasets(cfg)
    assert wfc.seesaw_datasets({**cfg, "seesaw": {"enabled": False}}) == {}
