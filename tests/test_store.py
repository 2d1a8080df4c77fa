"""The file layout's owner (``chshml.store``) and the stacking of shards (``chshml.shards``)."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from chshml.commands._args import json_or_text, key_value
from chshml.errors import InputError
from chshml.shards import combine_attrs, concatenate, first_with_sums, select_rows
from chshml.store import (
    DATA_PACKAGES,
    MODEL_PACKAGES,
    json_text,
    label_counts,
    load_dataset,
    load_seesaw_input,
    package_versions,
    read_groups,
    write_h5,
    write_json,
)


def test_json_text_nan_and_numpy_scalars(tmp_path):
    obj = {"a": np.float64(0.5), "b": [np.int64(3), float("nan")], "c": np.bool_(True)}
    assert json.loads(json_text(obj)) == {"a": 0.5, "b": [3, None], "c": True}
    assert "NaN" in json_text(obj, nan_as_null=False)
    plain = {"x": [1, 2.5, "s"], "y": {"z": None}}
    assert json_text(plain, nan_as_null=False) == json.dumps(plain, indent=2) + "\n"
    write_json(tmp_path / "o.json", obj)
    assert (tmp_path / "o.json").read_text() == json_text(obj)
    with pytest.raises(InputError, match="input"):
        write_json(tmp_path / "o.json", obj, inputs=[tmp_path / "o.json"])


def test_package_versions_lists():
    data, model = package_versions(), package_versions(MODEL_PACKAGES)
    assert "python" in data and "numpy" in data and "scikit-learn" not in data
    assert set(model) - {"python"} <= set(MODEL_PACKAGES)
    assert set(data) - {"python"} <= set(DATA_PACKAGES)


def test_label_counts():
    assert label_counts(np.array([1, 1, 0, -1, 1], dtype=np.int8)) == {
        "n_quantum": 3, "n_not_quantum": 1, "n_undecided": 1}


def test_load_dataset_needs_the_merge_split(tmp_path):
    pts = np.zeros((4, 4))
    write_h5(tmp_path / "old.h5", {"points": pts, "label": np.ones(4, np.int8),
                                   "train_idx": np.arange(2), "val_idx": [2],
                                   "test_idx": [3]})
    with pytest.raises(InputError, match="idx_train"):
        load_dataset(tmp_path / "old.h5")
    assert load_dataset(tmp_path / "old.h5", need_split=False).split == {}
    write_h5(tmp_path / "new.h5", {"points": pts, "label": np.ones(4, np.int8),
                                   "idx_train": np.arange(2), "idx_val": [2], "idx_test": [3]})
    ds = load_dataset(tmp_path / "new.h5")
    assert ds.space == "corr4" and ds.part("test")[0].shape == (1, 4)


def test_load_seesaw_input(tmp_path):
    pts = np.zeros((3, 4))
    write_h5(tmp_path / "a.h5", {"points": pts, "certified": np.array([0, 1, 0], np.int8)})
    points, prior = load_seesaw_input(tmp_path / "a.h5")
    assert points.shape == (3, 4) and prior.tolist() == [False, True, False]
    write_h5(tmp_path / "b.h5", {"points": pts, "certified": np.array([0, 1], np.int8)})
    with pytest.raises(InputError, match="certified"):
        load_seesaw_input(tmp_path / "b.h5")
    write_h5(tmp_path / "e.h5", {"points": np.zeros((0, 4))})
    assert load_seesaw_input(tmp_path / "e.h5")[1].shape == (0,)


def test_concatenate_and_attribute_rules(tmp_path):
    for k, n in enumerate((3, 0, 2)):
        write_h5(tmp_path / f"s{k}.h5", {"points": np.full((n, 4), k / 10),
                                         "label": np.ones(n, np.int8)},
                 {"level": "1", "cpu_seconds": 1.0 + k, "shard": k, "name": f"s{k}"})
    paths = [tmp_path / f"s{k}.h5" for k in range(3)]
    stack = concatenate(paths)
    assert stack.sizes == [3, 0, 2] and stack.data["points"].shape == (5, 4)
    assert stack.data["points"][-1, 0] == 0.2 and stack.sample_attrs == []
    combined = combine_attrs(stack.attrs)
    assert combined["level"] == "1" and combined["shards.shard"].tolist() == [0, 1, 2]
    assert json.loads(combined["shards.name"]) == ["s0", "s1", "s2"]
    first = first_with_sums(stack.attrs)
    assert first["cpu_seconds"] == 6.0 and first["shard"] == 0
    write_h5(tmp_path / "odd.h5", {"points": np.zeros((1, 4))})
    with pytest.raises(InputError, match="datasets"):
        concatenate([paths[0], tmp_path / "odd.h5"])
    with pytest.raises(InputError, match="not found"):
        concatenate([tmp_path / "missing.h5"])


def test_select_rows():
    data = {"points": np.zeros((6, 4)), "label": np.array([1, 0, 1, 1, -1, 1])}
    assert select_rows(data, 1, False, 0, 2).tolist() == [0, 2]
    with pytest.raises(InputError, match="certified"):
        select_rows(data, None, True, 0, 1)


def test_key_value_type():
    assert key_value("a=b=c") == ("a", "b=c")
    assert json_or_text("[1, 2]") == [1, 2] and json_or_text("x") == "x"
    for bad in ("novalue", "=1"):
        with pytest.raises(argparse.ArgumentTypeError):
            key_value(bad)


def test_read_groups(tmp_path):
    write_h5(tmp_path / "s.h5", {"slice1/xy": np.zeros((2, 2)), "slice1/pred": [1, 0],
                                 "top": [1]})
    groups = read_groups(tmp_path / "s.h5")
    assert set(groups) == {"slice1"} and groups["slice1"]["xy"].shape == (2, 2)
