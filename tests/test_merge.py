"""Merging shards: order, split indices, provenance, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from datacheck import same_data

from chshml.cli import main
from chshml.errors import InputError
from chshml.merge import merge_shards, parse_split, split_indices
from chshml.shards import shard_sizes
from chshml.store import read_h5, write_h5


def _shard(path, k: int, n: int = 5, dim: int = 4, **attrs):
    rng = np.random.default_rng(k)
    pts = rng.uniform(-1, 1, (n, dim))
    write_h5(path, {"points": pts, "lam": rng.uniform(0.5, 2, n),
                    "label": (rng.uniform(size=n) > 0.5).astype(np.int8),
                    "status": np.array(["optimal"] * n)},
             {"level": "1", "cpu_seconds": 0.5 + k, "shard": k, **attrs})
    return pts


def test_shard_sizes():
    assert shard_sizes(10, 3) == [4, 3, 3]
    assert sum(shard_sizes(1001, 7)) == 1001
    with pytest.raises(InputError):
        shard_sizes(5, 0)


def test_split_is_a_seeded_partition():
    idx = split_indices(1000, (0.7, 0.15, 0.15), seed=3, dataset="d")
    assert [len(idx[k]) for k in ("train", "val", "test")] == [700, 150, 150]
    allidx = np.concatenate(list(idx.values()))
    assert np.array_equal(np.sort(allidx), np.arange(1000))
    again = split_indices(1000, (0.7, 0.15, 0.15), seed=3, dataset="d")
    assert all(np.array_equal(idx[k], again[k]) for k in idx)
    other = split_indices(1000, (0.7, 0.15, 0.15), seed=4, dataset="d")
    assert not np.array_equal(idx["train"], other["train"])


@pytest.mark.parametrize("bad", ["0.7,0.2,0.2", "0.7,0.3", "a,b,c", "-0.1,0.6,0.5"])
def test_bad_split_refused(bad):
    with pytest.raises(InputError, match="--split"):
        parse_split(bad)


def test_merge_concatenates_in_order_with_provenance(tmp_path):
    pts = [_shard(tmp_path / f"s{k}.h5", k) for k in range(3)]
    out = tmp_path / "m.h5"
    summary = merge_shards([tmp_path / f"s{k}.h5" for k in range(3)], out, seed=1,
                           dataset="d", extra_attrs={"config_hash": "abc"})
    data, attrs = read_h5(out)
    assert np.array_equal(data["points"], np.concatenate(pts))
    assert data["shard"].tolist() == [0] * 5 + [1] * 5 + [2] * 5
    assert data["label"].dtype == np.int8 and list(data["status"][:1]) == ["optimal"]
    assert summary["n_points"] == 15
    assert attrs["level"] == "1" and attrs["config_hash"] == "abc"
    assert attrs["cpu_seconds"] == pytest.approx(0.5 + 1.5 + 2.5)
    assert attrs["cpu_seconds_per_point"] == pytest.approx(4.5 / 15)
    assert attrs["shards.cpu_seconds"].tolist() == [0.5, 1.5, 2.5]
    assert "versions.numpy" in attrs and attrs["n_shards"] == 3
    split = np.concatenate([data["idx_train"], data["idx_val"], data["idx_test"]])
    assert np.array_equal(np.sort(split), np.arange(15))
    assert not list(tmp_path.glob(".m.h5*"))  # no temporary file left behind


def test_merge_is_independent_of_file_creation_order(tmp_path):
    for k in (2, 1, 0):  # written in reverse order
        _shard(tmp_path / f"r{k}.h5", k)
    for k in (0, 1, 2):
        _shard(tmp_path / f"f{k}.h5", k)
    merge_shards([tmp_path / f"r{k}.h5" for k in range(3)], tmp_path / "a.h5", seed=9,
                 dataset="d")
    merge_shards([tmp_path / f"f{k}.h5" for k in range(3)], tmp_path / "b.h5", seed=9,
                 dataset="d")
    assert same_data(tmp_path / "a.h5", tmp_path / "b.h5") == []


def test_merge_with_samples_adds_their_columns_and_checks_points(tmp_path):
    _shard(tmp_path / "l0.h5", 0)
    data, _ = read_h5(tmp_path / "l0.h5")
    write_h5(tmp_path / "s0.h5", {"points": data["points"], "xy": np.zeros((5, 2))},
             {"cpu_seconds": 2.0})
    merge_shards([tmp_path / "l0.h5"], tmp_path / "m.h5", sample_paths=[tmp_path / "s0.h5"])
    merged, attrs = read_h5(tmp_path / "m.h5")
    assert merged["xy"].shape == (5, 2)
    assert attrs["cpu_seconds_sample"] == 2.0 and attrs["cpu_seconds"] == 2.5
    write_h5(tmp_path / "s1.h5", {"points": data["points"] + 1}, {})
    with pytest.raises(InputError, match="same points"):
        merge_shards([tmp_path / "l0.h5"], tmp_path / "x.h5", sample_paths=[tmp_path / "s1.h5"])


def test_merge_refuses_mismatched_shards(tmp_path):
    _shard(tmp_path / "a.h5", 0, dim=4)
    _shard(tmp_path / "b.h5", 1, dim=8)
    with pytest.raises(InputError, match="points"):
        merge_shards([tmp_path / "a.h5", tmp_path / "b.h5"], tmp_path / "m.h5")
    with pytest.raises(InputError, match="not found"):
        merge_shards([tmp_path / "nope.h5"], tmp_path / "m.h5")


def test_merge_cli(tmp_path, capsys):
    for k in range(2):
        _shard(tmp_path / f"s{k}.h5", k)
    rc = main(["merge", str(tmp_path / "s0.h5"), str(tmp_path / "s1.h5"), "-o",
               str(tmp_path / "m.h5"), "--split", "0.6,0.2,0.2", "--seed", "5",
               "--dataset", "d", "--attr", 'level="1+AB"', "--attr", "n_repeat=3"])
    assert rc == 0
    _, attrs = read_h5(tmp_path / "m.h5")
    assert attrs["level"] == "1+AB" and attrs["n_repeat"] == 3
    assert attrs["split"].tolist() == [0.6, 0.2, 0.2]
    rc = main(["merge", str(tmp_path / "s0.h5"), "-o", str(tmp_path / "x.h5"),
               "--split", "0.5,0.5,0.5"])
    assert rc == 2 and "--split" in capsys.readouterr().err
