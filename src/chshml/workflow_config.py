"""The workflow's defaults and dataset resolution, importable and unit-tested.

One source for what the ``.smk`` files used to compute inline: the NPA level of a dataset's
labels (the space's default unless the dataset names one), ``points_from`` resolution, the
points per shard (whole pairs for the paired methods), the provenance hash of a dataset and the
``chshml`` argument strings of its sample and label jobs. Every function takes the validated
config mapping (``config`` in the Snakefile); none reads files or imports Snakemake.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Mapping
from typing import Any

from chshml.errors import InputError
from chshml.merge import DEFAULT_SPLIT as MERGE_SPLIT
from chshml.sampling.methods import DEFAULT_LEVEL, LABELLED
from chshml.shards import shard_sizes
from chshml.store import DatasetFile

#: Methods whose sampler writes ``label`` and ``lam`` itself.
LABELLED_BY_SAMPLER = LABELLED
#: Pairs / halves: every shard of these methods needs an even size.
EVEN_METHODS = ("balanced", "boundary")
#: Methods with a ``chshml sample --recipe`` (default: the paper's).
RECIPE_METHODS = ("boundary", "spread")
#: Methods labelled by ``chshml label`` unless the dataset says ``label: false``.
LABEL_BY_DEFAULT = ("uniform", "simplex", "slice")
#: Train/val/test fractions when the config gives none.
DEFAULT_SPLIT = dict(zip(DatasetFile.SPLIT_NAMES, MERGE_SPLIT, strict=True))
#: Labelling defaults: MOSEK if licensed else Clarabel; |lam - 1| < tol is undecided.
DEFAULT_SOLVER = "auto"
DEFAULT_TOL = 1e-6

Config = Mapping[str, Any]


def split_arg(config: Config) -> str:
    """``train,val,test`` fractions as ``chshml merge --split`` takes them."""
    split = config.get("split") or {}
    return ",".join(str(split.get(k, d)) for k, d in DEFAULT_SPLIT.items())


def solver(config: Config) -> str:
    """SDP solver of the labelling jobs."""
    return (config.get("labelling") or {}).get("solver", DEFAULT_SOLVER)


def tol(config: Config) -> float:
    """Gauge tolerance of the labelling jobs (``|lam - 1| < tol`` -> label -1)."""
    return (config.get("labelling") or {}).get("tol", DEFAULT_TOL)


def default_levels(config: Config) -> dict[str, str]:
    """NPA level of the labels per space: the defaults with ``labelling.level`` on top."""
    return {**DEFAULT_LEVEL, **((config.get("labelling") or {}).get("level") or {})}


def dataset_spec(config: Config, name: str) -> dict:
    """Dataset ``name``'s config with every default filled in and ``points_from`` resolved.

    A ``points_from`` copy takes space, method, n, shards (and the sampler's keys) from its
    source and keeps only its own level / label / reference / note.
    """
    datasets = config["datasets"]
    if name not in datasets:
        raise InputError(f"unknown dataset '{name}' (not under 'datasets' in the config)")
    ds = dict(datasets[name])
    source = ds.get("points_from")
    if source is not None:
        base = dict(datasets[source])
        base.pop("label", None)
        base.pop("level", None)
        base.pop("reference", None)
        base.update(ds)
        ds = base
    ds.setdefault("level", default_levels(config)[ds["space"]])
    ds["level"] = str(ds["level"])
    ds.setdefault("label", source is not None or ds["method"] in LABEL_BY_DEFAULT)
    ds["points_from"] = source or name
    if ds["method"] == "slice":
        ds.setdefault("mode", "uniform")
    if ds["method"] in RECIPE_METHODS:
        ds.setdefault("recipe", "paper")
    return ds


def is_labelled(config: Config, name: str) -> bool:
    """Whether dataset ``name``'s merged file carries labels (by ``chshml label`` / certify
    or by its sampler).
    """
    ds = config["datasets"][name]
    if "points_from" in ds:
        return ds.get("label", True) is not False
    return bool(ds.get("label", ds.get("method") in LABEL_BY_DEFAULT)
                or ds.get("method") in LABELLED_BY_SAMPLER)


def shard_size(ds: Mapping[str, Any], shard: int) -> int:
    """Points in shard ``shard`` of a resolved dataset ``ds``: near-equal parts (larger parts
    first), whole pairs for the paired methods.
    """
    pair = 2 if ds["method"] in EVEN_METHODS else 1
    return pair * shard_sizes(ds["n"] // pair, ds["shards"])[shard]


def config_hash(config: Config, name: str) -> str:
    """Hash of everything that shapes dataset ``name`` (seed, split, solver, tol, its spec)."""
    payload = {"seed": int(config["seed"]), "split": split_arg(config), "solver": solver(config),
               "tol": tol(config), "dataset": dataset_spec(config, name)}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def label_outside_option(config: Config, name: str) -> str:
    """``--allow-outside-ns`` when relabelling points of the paper's boundary/spread recipe
    (their outer points may leave NS: label 0 with an NS-facet witness).
    """
    return "--allow-outside-ns" if dataset_spec(config, name).get("recipe") == "paper" else ""


def label_command(config: Config, name: str) -> str:
    """The labelling command of a dataset's shards: ``chshml label`` at its NPA level, or
    ``chshml certify`` (membership in Q itself, that level as the outer filter).
    """
    ds = dataset_spec(config, name)
    level = shlex.quote(ds["level"])
    outside = label_outside_option(config, name)
    if ds.get("reference", "npa") == "Q":
        command = f"certify --level {level} --tol {tol(config)} --clean"
    else:
        command = f"label --level {level} --solver {solver(config)} --tol {tol(config)}"
    return f"{command} {outside}".rstrip()


def sample_command(config: Config, name: str, shard: int) -> str:
    """The ``chshml`` arguments that draw shard ``shard`` of dataset ``name``."""
    ds = dataset_spec(config, name)
    if ds["points_from"] != name:
        raise InputError(f"dataset '{name}' takes its points from '{ds['points_from']}'")
    if shard >= ds["shards"]:
        raise InputError(f"dataset '{name}' has {ds['shards']} shards, not shard {shard}")
    q = shlex.quote
    common = f"--seed {int(config['seed'])} --dataset {q(name)} --shard {shard}"
    if ds["method"] == "slice":
        if ds["mode"] == "grid":
            return (f"slice --slice {ds['slice']} --mode grid --side {ds['side']} "
                    f"--shards {ds['shards']} {common}")
        return f"slice --slice {ds['slice']} -n {shard_size(ds, shard)} {common}"
    args = f"sample --space {ds['space']} --method {ds['method']} -n {shard_size(ds, shard)} "
    args += common
    if ds["method"] in LABELLED_BY_SAMPLER:
        args += f" --level {q(ds['level'])} --solver {solver(config)}"
    for key in ("epsilon", "sigma", "sampler", "recipe"):
        if key in ds:
            args += f" --{key} {ds[key]}"
    if "curved_at" in ds:
        args += f" --curved-at {q(str(ds['curved_at']))}"
    return args


def merge_attrs(config: Config, name: str) -> dict[str, Any]:
    """Provenance attributes ``chshml merge --attr`` stamps into dataset ``name``'s file."""
    ds = dataset_spec(config, name)
    attrs = {"config_hash": config_hash(config, name), "method": ds["method"],
             "space": ds["space"], "points_from": ds["points_from"], "labelled": ds["label"]}
    if ds["label"] or ds["method"] in LABELLED_BY_SAMPLER:
        attrs["level"] = ds["level"]
    for key in ("epsilon", "sigma", "slice", "mode", "recipe", "curved_at"):
        if key in ds:
            attrs[key] = ds[key]
    return attrs


def merge_options(config: Config, name: str, samples: list[str] | None = None) -> str:
    """``--samples``, ``--split-group`` and the ``--attr`` options of ``chshml merge``."""
    opts = []
    if samples:
        opts.append("--samples " + " ".join(shlex.quote(p) for p in samples))
    if dataset_spec(config, name).get("pair_split"):
        opts.append("--split-group 2")
    opts += [f"--attr {shlex.quote(f'{k}={json.dumps(v)}')}"
             for k, v in merge_attrs(config, name).items()]
    return " ".join(opts)


def run_datasets(config: Config) -> list[str]:
    """Names of the datasets the ``data`` target builds (``run_datasets``: all or a list;
    ``all`` leaves out the see-saw's own point sets, built by the ``seesaw`` target).
    """
    run = config.get("run_datasets", "all")
    if run != "all":
        return list(run)
    own = seesaw_datasets(config)
    return [name for name in config["datasets"] if name not in own]


#: Dataset names of the see-saw's point sets (their seeds: shard_rng(seed, name, 0)).
SEESAW_TABLE8 = "seesaw_table8"
SEESAW_APPENDIX_A = "seesaw_appendix_a"


def seesaw_datasets(config: Config) -> dict[str, dict]:
    """The see-saw's point sets as datasets (one shard each, so that they are the points
    ``chshml sample --dataset NAME`` always drew): Table VIII's uniform canonical-simplex
    points labelled at ``filter_level`` (the rounds take those in Q_level), and Appendix A's
    directions with their gauges at ``level`` (the rounds take their boundary points).
    """
    ss = config.get("seesaw") or {}
    if not ss.get("enabled", False):
        return {}
    t8, app = ss["table8"], ss["appendix_a"]
    return {
        SEESAW_TABLE8: {"space": "full8", "method": "simplex", "n": int(t8["n_points"]),
                        "shards": 1, "level": str(t8.get("filter_level", "4")),
                        "note": "see-saw Table VIII points (seesaw.table8)"},
        SEESAW_APPENDIX_A: {"space": "full8", "method": "directions",
                            "n": int(app["n_directions"]), "shards": 1, "label": True,
                            "level": str(app.get("level", "1+AB")),
                            "note": "see-saw Appendix A directions (seesaw.appendix_a)"},
    }


def add_stage_datasets(config: dict) -> None:
    """Add the see-saw's point sets to ``config["datasets"]`` (a name taken by a configured
    dataset is an error: the see-saw owns it).
    """
    own = seesaw_datasets(config)
    taken = sorted(set(own) & set(config["datasets"]))
    if taken:
        raise InputError(f"dataset name(s) {', '.join(taken)} belong to the see-saw stage "
                         "(seesaw.table8 / seesaw.appendix_a set their size); rename yours")
    config["datasets"].update(own)


def sample_path(name: str, shard: int | str) -> str:
    """Shard ``shard`` of dataset ``name`` as drawn (``chshml sample`` / ``chshml slice``)."""
    return f"results/shards/{name}/sample_{shard}.h5"


def label_path(name: str, shard: int | str) -> str:
    """Shard ``shard`` of dataset ``name`` as labelled (``chshml label`` / ``certify``)."""
    return f"results/shards/{name}/label_{shard}.h5"


def dataset_path(name: str) -> str:
    """The merged dataset file (``chshml merge``)."""
    return f"results/data/{name}.h5"


# ---- models and evaluation (workflow/rules/models.smk) ----

#: File suffix of a trained model per kind.
MODEL_SUFFIX = {"svm": "joblib", "nn": "keras", "gauge": "npz"}
#: Keys of ``models.nn`` that steer the workflow, not ``chshml train nn --set``.
NN_WORKFLOW_KEYS = ("datasets", "priority", "threads")
#: Snakemake priority of train_nn: on a small machine the NN jobs would otherwise wait behind
#: every 1-thread labelling job that frees a single core.
DEFAULT_NN_PRIORITY = 10
#: Threads of train_nn (the small MLPs gain little from a second thread; a profile may raise
#: it with set-threads).
DEFAULT_NN_THREADS = 2


def _models(config: Config) -> Mapping[str, Any]:
    return config.get("models") or {}


def set_args(settings: Mapping[str, Any]) -> str:
    """``--set KEY=JSON`` options of ``chshml train``."""
    return " ".join(f"--set {shlex.quote(k + '=' + json.dumps(v))}" for k, v in settings.items())


def model_datasets(config: Config, kind: str) -> list[str]:
    """Datasets to fit a model of ``kind`` (``svm`` or ``nn``) on; model ``{kind}_{dataset}``."""
    return list((_models(config).get(kind) or {}).get("datasets", []))


def svm_settings(config: Config, dataset: str) -> dict:
    """SVM settings of one dataset: the common grid, with ``svm.boundary`` on top for
    boundary-pair datasets (pairs straddle the split: they need large C and gamma).
    """
    settings = dict(_models(config).get("svm") or {})
    settings.pop("datasets", None)
    boundary = dict(settings.pop("boundary", {}) or {})
    if dataset_spec(config, dataset)["method"] == "boundary":
        settings.update(boundary)
    return settings


def nn_settings(config: Config) -> dict:
    """``chshml train nn`` settings (``models.nn`` without the workflow's own keys)."""
    nn = _models(config).get("nn") or {}
    return {k: v for k, v in nn.items() if k not in NN_WORKFLOW_KEYS}


def nn_priority(config: Config) -> int:
    return int((_models(config).get("nn") or {}).get("priority", DEFAULT_NN_PRIORITY))


def nn_threads(config: Config) -> int:
    return int((_models(config).get("nn") or {}).get("threads", DEFAULT_NN_THREADS))


def gauge_models(config: Config) -> dict[str, dict]:
    """Gauge models by name: ``{data: rays dataset, reference, target, eval_data}``."""
    return dict((_models(config).get("gauge") or {}).get("models") or {})


def gauge_settings(config: Config, model: str) -> dict:
    """``chshml train gauge`` settings of one gauge model (its reference and target on top)."""
    settings = {k: v for k, v in (_models(config).get("gauge") or {}).items() if k != "models"}
    spec = gauge_models(config)[model]
    for key in ("reference", "target"):
        if key in spec:
            settings[key] = spec[key]
    return settings


def gauge_eval_dataset(config: Config, model: str) -> str:
    """The labelled dataset a gauge model is evaluated on (``eval_data``, else its rays)."""
    spec = gauge_models(config)[model]
    return spec.get("eval_data", spec["data"])


def eval_sets(config: Config, space: str) -> dict[str, str]:
    """Labelled evaluation datasets of ``space`` by role: ``uniform``, ``spread_{sigma}`` and
    ``slice_{name}`` (every test set of ``chshml evaluate`` comes from one of them).
    """
    ev = _models(config).get("evaluate") or {}
    datasets = config["datasets"]
    sets = {}
    uniform = (ev.get("uniform_test") or {}).get(space)
    if uniform and uniform in datasets:
        sets["uniform"] = uniform
    for sigma, name in ((ev.get("spread") or {}).get(space) or {}).items():
        if name in datasets:
            sets[f"spread_{sigma}"] = name
    for sname, name in ((ev.get("slices") or {}).get(space) or {}).items():
        if name in datasets:
            sets[f"slice_{sname}"] = name
    return sets


def eval_options(config: Config, files: Mapping[str, str]) -> str:
    """``chshml evaluate`` options for the files of :func:`eval_sets` (keyed by role) and the
    ``models.evaluate`` sizes.
    """
    ev = _models(config).get("evaluate") or {}
    opts = []
    for key, path in files.items():
        if key == "uniform":
            opts.append(f"--uniform-test {path}")
        elif key.startswith("spread_"):
            opts.append(f"--spread {key.split('_', 1)[1]}={path}")
        elif key.startswith("slice_"):
            opts.append(f"--slice {key.split('_', 1)[1]}={path}")
    for key in ("n_slice", "n_spread", "n_uniform"):
        if key in ev:
            opts.append(f"--{key.replace('_', '-')} {int(ev[key])}")
    return " ".join(opts)


# ---- report (workflow/rules/report.smk) ----


def report_volumes(config: Config) -> list[str]:
    """Fig. 2 inputs: one labelled canonical-simplex sample per NPA level."""
    return [v for v in (config.get("report") or {}).get("volumes", []) if v in config["datasets"]]


def report_validity(config: Config) -> list[str]:
    """8-D label validity: the base datasets and their copies relabelled at tighter levels
    (``report.label_validity``), and the Fig. 2 volume samples, which are one sample
    relabelled level by level (their rows join the same table).
    """
    lv = (config.get("report") or {}).get("label_validity") or {}
    names = {name for base, levels in lv.items() for name in [base, *(levels or {}).values()]}
    names |= set(report_volumes(config))
    return sorted(name for name in names if name in config["datasets"])


def model_stage_datasets(config: Config) -> list[str]:
    """Datasets the models and their evaluation read (training sets, gauge rays, every
    evaluation set of their spaces), in config order.
    """
    used = set(model_datasets(config, "svm")) | set(model_datasets(config, "nn"))
    for spec in gauge_models(config).values():
        used |= {spec["data"], spec.get("eval_data", spec["data"])}
    for name in sorted(used & set(config["datasets"])):
        used |= set(eval_sets(config, dataset_spec(config, name)["space"]).values())
    return [name for name in config["datasets"] if name in used]


def report_datasets(config: Config) -> list[str]:
    """Datasets listed in the report's dataset table: those the run builds (``run_datasets``)
    and those a later stage reads, in config order.
    """
    wanted = set(run_datasets(config)) | set(model_stage_datasets(config))
    wanted |= set(report_volumes(config)) | set(report_validity(config))
    return [name for name in config["datasets"] if name in wanted]
