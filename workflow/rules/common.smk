# Config validation and the helpers the data rules share. Included first by the Snakefile.

import hashlib
import json
import re
import shlex

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

CONFIG_SCHEMA = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
LABELLED_BY_SAMPLER = ("balanced", "boundary", "spread")  # sample writes label and lam
EVEN_METHODS = ("balanced", "boundary")  # pairs / halves: every shard needs an even size
RECIPE_METHODS = ("boundary", "spread")  # chshml sample --recipe (default: the paper's)
LABEL_BY_DEFAULT = ("uniform", "simplex", "slice")
#: Final files of all stages; every workflow/rules/*.smk appends to it, `rule all` builds it.
TARGETS = []


def _schema_errors(cfg: dict, schema: dict) -> list[str]:
    """Every schema violation as one line that names the offending key."""
    lines = []
    validator = jsonschema.Draft202012Validator(schema)
    for err in sorted(validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = set(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in known:
                    name = key if where == "(top level)" else f"{where}.{key}"
                    allowed = ", ".join(sorted(known)) or "none"
                    lines.append(f"unknown key '{name}' (allowed here: {allowed})")
        else:
            lines.append(f"'{where}': {err.message}")
    return lines


def _coerce(value, sub: dict, root: dict):
    """Values of nested ``--config`` overrides arrive as text (Snakemake reads them with
    YAML's BaseLoader): read such text as YAML where the schema wants no string."""
    while "$ref" in sub:
        sub = root["definitions"][sub["$ref"].rsplit("/", 1)[1]]
    if isinstance(value, dict):
        props = sub.get("properties", {})
        extra = sub.get("additionalProperties")
        for key, item in value.items():
            child = props.get(key, extra if isinstance(extra, dict) else None)
            if child is not None:
                value[key] = _coerce(item, child, root)
        return value
    if isinstance(value, list) and isinstance(sub.get("items"), dict):
        return [_coerce(v, sub["items"], root) for v in value]
    types = sub.get("type", [])
    types = [types] if isinstance(types, str) else types
    if isinstance(value, str) and types and "string" not in types:
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def check_config(cfg: dict) -> None:
    """Validate ``cfg`` against the schema and the cross-field rules; stop naming the key."""
    with open(CONFIG_SCHEMA) as f:
        schema = yaml.safe_load(f)
    _coerce(cfg, schema, schema)
    lines = _schema_errors(cfg, schema)
    if not lines:
        validate(cfg, CONFIG_SCHEMA)  # Snakemake's validator; fills in schema defaults
        lines = _semantic_errors(cfg)
    if lines:
        raise WorkflowError("invalid config:\n  " + "\n  ".join(lines))


def _semantic_errors(cfg: dict) -> list[str]:
    lines = []
    split = cfg.get("split", {})
    total = sum(split.get(k, d) for k, d in (("train", 0.7), ("val", 0.15), ("test", 0.15)))
    if abs(total - 1.0) > 1e-9:
        lines.append(f"'split': train + val + test must be 1, got {total:g}")
    datasets = cfg["datasets"]
    run = cfg.get("run_datasets", "all")
    for name in [] if run == "all" else run:
        if name not in datasets:
            lines.append(f"'run_datasets': unknown dataset '{name}'")
    for name, ds in datasets.items():
        key = f"datasets.{name}"
        src = ds.get("points_from")
        if src is not None:
            if src not in datasets:
                lines.append(f"'{key}.points_from': unknown dataset '{src}'")
                continue
            if "points_from" in datasets[src]:
                lines.append(f"'{key}.points_from': '{src}' itself takes points from another "
                             "dataset")
                continue
            bad = sorted(set(ds) - {"points_from", "level", "label", "note", "reference"})
            if bad:
                lines.append(f"'{key}': with points_from only level/label/reference/note are "
                             f"allowed, got {', '.join(bad)}")
            if ds.get("label") is False:
                lines.append(f"'{key}.label': a points_from dataset exists to be labelled")
            continue
        for req in ("space", "method", "n", "shards"):
            if req not in ds:
                lines.append(f"'{key}': missing required key '{req}'")
        if any(req not in ds for req in ("space", "method", "n", "shards")):
            continue
        method = ds["method"]
        if method == "slice":
            if "slice" not in ds:
                lines.append(f"'{key}': method slice needs 'slice'")
            elif (ds["slice"] == "slice8") != (ds["space"] == "full8"):
                lines.append(f"'{key}.slice': {ds['slice']} is not a slice of {ds['space']}")
            if ds.get("mode") == "grid" and "side" not in ds:
                lines.append(f"'{key}': slice grid mode needs 'side'")
        if method == "boundary" and "epsilon" not in ds:
            lines.append(f"'{key}': method boundary needs 'epsilon'")
        if method == "spread" and "sigma" not in ds:
            lines.append(f"'{key}': method spread needs 'sigma'")
        if "recipe" in ds and method not in RECIPE_METHODS:
            lines.append(f"'{key}.recipe': only methods {', '.join(RECIPE_METHODS)} have "
                         f"recipes, not {method}")
        if ds.get("pair_split") and method != "boundary":
            lines.append(f"'{key}.pair_split': only boundary pairs come in pairs")
        if method in EVEN_METHODS and ds["n"] % 2:
            lines.append(f"'{key}.n': method {method} needs an even n, got {ds['n']}")
        if ds["shards"] > max(1, ds["n"] // (2 if method in EVEN_METHODS else 1)):
            lines.append(f"'{key}.shards': {ds['shards']} shards for {ds['n']} points")
    return lines + _stage_errors(cfg)


def _labelled(ds_all: dict, name: str) -> bool:
    ds = ds_all[name]
    if "points_from" in ds:
        return ds.get("label", True) is not False
    return ds.get("label", ds.get("method") in LABEL_BY_DEFAULT) or \
        ds.get("method") in LABELLED_BY_SAMPLER


def _stage_errors(cfg: dict) -> list[str]:
    """Dataset names used by the models, evaluate and report stages: they must exist and be
    labelled (a model or an accuracy needs labels)."""
    datasets = cfg["datasets"]
    lines = []

    def need(where: str, name) -> None:
        if name is None:
            return
        if name not in datasets:
            lines.append(f"'{where}': unknown dataset '{name}'")
        elif not _labelled(datasets, name):
            lines.append(f"'{where}': dataset '{name}' is not labelled")

    models = cfg.get("models") or {}
    for kind in ("svm", "nn"):
        for name in (models.get(kind) or {}).get("datasets", []):
            need(f"models.{kind}.datasets", name)
    ev = models.get("evaluate") or {}
    for space, name in (ev.get("uniform_test") or {}).items():
        need(f"models.evaluate.uniform_test.{space}", name)
    for group in ("spread", "slices"):
        for space, sets in (ev.get(group) or {}).items():
            for key, name in (sets or {}).items():
                need(f"models.evaluate.{group}.{space}.{key}", name)
    for name in (cfg.get("report") or {}).get("volumes", []):
        need("report.volumes", name)
    for base, levels in ((cfg.get("report") or {}).get("label_validity") or {}).items():
        need("report.label_validity", base)
        for level, name in (levels or {}).items():
            need(f"report.label_validity.{base}.{level}", name)
    for name, ds in datasets.items():
        if (ds or {}).get("recipe") == "ns_interior" and \
                float((ds or {}).get("epsilon", 0)) >= 2 ** 0.5 - 1:
            lines.append(f"'datasets.{name}.epsilon': recipe ns_interior keeps (1 + epsilon) "
                         "p_b in NS, which needs epsilon < sqrt(2) - 1")
        if (ds or {}).get("reference") == "Q" and (ds or {}).get("method") in \
                LABELLED_BY_SAMPLER:
            lines.append(f"'datasets.{name}.reference': Q labels come from chshml certify on "
                         f"the shards; method '{ds['method']}' labels while sampling")
    for model, spec in ((models.get("gauge") or {}).get("models") or {}).items():
        data = (spec or {}).get("data")
        if data not in datasets:  # rays may be unlabelled (4-D: exact TLM gauges)
            lines.append(f"'models.gauge.models.{model}.data': unknown dataset '{data}'")
        if (spec or {}).get("eval_data") is not None:
            need(f"models.gauge.models.{model}.eval_data", spec["eval_data"])
    return lines


check_config(config)

SEED = int(config["seed"])
SPLIT = config.get("split", {})
SPLIT_ARG = ",".join(str(SPLIT.get(k, d)) for k, d in (("train", 0.7), ("val", 0.15),
                                                        ("test", 0.15)))
LABELLING = config.get("labelling", {})
SOLVER = LABELLING.get("solver", "auto")
TOL = LABELLING.get("tol", 1e-6)
DEFAULT_LEVEL = {"corr4": "1", "full8": "1+AB", **LABELLING.get("level", {})}


def dataset_spec(name: str) -> dict:
    """The dataset's config with every default filled in and ``points_from`` resolved."""
    try:
        ds = dict(config["datasets"][name])
    except KeyError:
        raise WorkflowError(f"unknown dataset '{name}' (not under 'datasets' in the config)")
    source = ds.get("points_from")
    if source is not None:
        base = dict(config["datasets"][source])
        base.pop("label", None)
        base.pop("level", None)
        base.pop("reference", None)
        base.update(ds)
        ds = base
    ds.setdefault("level", DEFAULT_LEVEL[ds["space"]])
    ds["level"] = str(ds["level"])
    ds.setdefault("label", source is not None or ds["method"] in LABEL_BY_DEFAULT)
    ds["points_from"] = source or name
    if ds["method"] == "slice":
        ds.setdefault("mode", "uniform")
    if ds["method"] in RECIPE_METHODS:
        ds.setdefault("recipe", "paper")
    return ds


def label_outside_option(name: str) -> str:
    """``--allow-outside-ns`` when relabelling points of the paper's boundary/spread recipe
    (their outer points may leave NS: label 0 with an NS-facet witness)."""
    ds = dataset_spec(name)
    return "--allow-outside-ns" if ds.get("recipe") == "paper" else ""


def shard_size(ds: dict, shard: int) -> int:
    """Points in shard ``shard``: near-equal parts, whole pairs for the paired methods."""
    pair = 2 if ds["method"] in EVEN_METHODS else 1
    base, extra = divmod(ds["n"] // pair, ds["shards"])
    return pair * (base + (1 if shard < extra else 0))


def config_hash(name: str) -> str:
    """Hash of everything that shapes dataset ``name`` (seed, split, solver and its spec)."""
    payload = {"seed": SEED, "split": SPLIT_ARG, "solver": SOLVER, "tol": TOL,
               "dataset": dataset_spec(name)}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def label_command(name: str) -> str:
    """The labelling command of a dataset's shards: ``chshml label`` at its NPA level, or
    ``chshml certify`` (membership in Q itself, that level as the outer filter)."""
    ds = dataset_spec(name)
    level = shlex.quote(ds["level"])
    outside = label_outside_option(name)
    if ds.get("reference", "npa") == "Q":
        command = f"certify --level {level} --tol {TOL}"
    else:
        command = f"label --level {level} --solver {SOLVER} --tol {TOL}"
    return f"{command} {outside}".rstrip()


def sample_command(name: str, shard: int) -> str:
    """The ``chshml`` arguments that draw shard ``shard`` of dataset ``name``."""
    ds = dataset_spec(name)
    if ds["points_from"] != name:
        raise WorkflowError(f"dataset '{name}' takes its points from '{ds['points_from']}'")
    if shard >= ds["shards"]:
        raise WorkflowError(f"dataset '{name}' has {ds['shards']} shards, not shard {shard}")
    q = shlex.quote
    common = f"--seed {SEED} --dataset {q(name)} --shard {shard}"
    if ds["method"] == "slice":
        if ds["mode"] == "grid":
            return (f"slice --slice {ds['slice']} --mode grid --side {ds['side']} "
                    f"--shards {ds['shards']} {common}")
        return f"slice --slice {ds['slice']} -n {shard_size(ds, shard)} {common}"
    args = f"sample --space {ds['space']} --method {ds['method']} -n {shard_size(ds, shard)} "
    args += common
    if ds["method"] in LABELLED_BY_SAMPLER:
        args += f" --level {q(ds['level'])} --solver {SOLVER}"
    if "epsilon" in ds:
        args += f" --epsilon {ds['epsilon']}"
    if "sigma" in ds:
        args += f" --sigma {ds['sigma']}"
    if "sampler" in ds:
        args += f" --sampler {ds['sampler']}"
    if "recipe" in ds:
        args += f" --recipe {ds['recipe']}"
    return args


def sample_path(name: str, shard: int | str) -> str:
    return f"results/shards/{name}/sample_{shard}.h5"


def label_path(name: str, shard: int | str) -> str:
    return f"results/shards/{name}/label_{shard}.h5"


def dataset_path(name: str) -> str:
    return f"results/data/{name}.h5"


def merge_inputs(wildcards) -> dict:
    """Shard files of a dataset: label outputs (+ the matching samples) or sample outputs."""
    ds = dataset_spec(wildcards.dataset)
    shards = range(ds["shards"])
    samples = [sample_path(ds["points_from"], k) for k in shards]
    if ds["label"]:
        return {"shards": [label_path(wildcards.dataset, k) for k in shards], "samples": samples}
    return {"shards": samples}


def merge_options(wildcards, input) -> str:
    """``--samples`` and the provenance ``--attr`` options of ``chshml merge``."""
    ds = dataset_spec(wildcards.dataset)
    opts = []
    if "samples" in input.keys():
        opts.append("--samples " + " ".join(shlex.quote(p) for p in input.samples))
    attrs = {"config_hash": config_hash(wildcards.dataset), "method": ds["method"],
             "space": ds["space"], "points_from": ds["points_from"], "labelled": ds["label"]}
    if ds["label"] or ds["method"] in LABELLED_BY_SAMPLER:
        attrs["level"] = ds["level"]
    for key in ("epsilon", "sigma", "slice", "mode", "recipe"):
        if key in ds:
            attrs[key] = ds[key]
    if ds.get("pair_split"):
        opts.append("--split-group 2")
    opts += [f"--attr {shlex.quote(f'{k}={json.dumps(v)}')}" for k, v in attrs.items()]
    return " ".join(opts)


def data_targets() -> list[str]:
    run = config.get("run_datasets", "all")
    names = list(config["datasets"]) if run == "all" else list(run)
    return [dataset_path(name) for name in names]
