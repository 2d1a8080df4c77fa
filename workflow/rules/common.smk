# Config validation and the input/param functions of every stage. Included first by the
# Snakefile. Defaults and dataset resolution live in chshml.workflow_config (unit-tested);
# the functions here only bind them to `config` and to the wildcards of a job.

import json
import shlex
from types import SimpleNamespace

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from chshml import workflow_config as wfc
from chshml.errors import InputError

CONFIG_SCHEMA = os.path.join(
    workflow.basedir, "workflow", "schemas", "config.schema.yaml"
)


def _schema_errors(cfg: dict, schema: dict) -> list[str]:
    """Every schema violation as one line that names the offending key."""
    lines = []
    validator = jsonschema.Draft202012Validator(schema)
    for err in sorted(
        validator.iter_errors(cfg), key=lambda e: list(map(str, e.absolute_path))
    ):
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
    total = sum(split.get(k, d) for k, d in wfc.DEFAULT_SPLIT.items())
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
                lines.append(
                    f"'{key}.points_from': '{src}' itself takes points from another "
                    "dataset"
                )
                continue
            bad = sorted(
                set(ds) - {"points_from", "level", "label", "note", "reference"}
            )
            if bad:
                lines.append(
                    f"'{key}': with points_from only level/label/reference/note are "
                    f"allowed, got {', '.join(bad)}"
                )
            if ds.get("label") is False:
                lines.append(
                    f"'{key}.label': a points_from dataset exists to be labelled"
                )
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
                lines.append(
                    f"'{key}.slice': {ds['slice']} is not a slice of {ds['space']}"
                )
            if ds.get("mode") == "grid" and "side" not in ds:
                lines.append(f"'{key}': slice grid mode needs 'side'")
        if method == "boundary" and "epsilon" not in ds:
            lines.append(f"'{key}': method boundary needs 'epsilon'")
        if method == "spread" and "sigma" not in ds:
            lines.append(f"'{key}': method spread needs 'sigma'")
        if "recipe" in ds and method not in wfc.RECIPE_METHODS:
            lines.append(
                f"'{key}.recipe': only methods {', '.join(wfc.RECIPE_METHODS)} have "
                f"recipes, not {method}"
            )
        if ds.get("pair_split") and method != "boundary":
            lines.append(f"'{key}.pair_split': only boundary pairs come in pairs")
        if method in wfc.EVEN_METHODS and ds["n"] % 2:
            lines.append(f"'{key}.n': method {method} needs an even n, got {ds['n']}")
        if ds["shards"] > max(1, ds["n"] // (2 if method in wfc.EVEN_METHODS else 1)):
            lines.append(f"'{key}.shards': {ds['shards']} shards for {ds['n']} points")
    return lines + _stage_errors(cfg)


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
        elif not wfc.is_labelled(cfg, name):
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
        if (ds or {}).get("recipe") == "ns_interior" and float(
            (ds or {}).get("epsilon", 0)
        ) >= 2**0.5 - 1:
            lines.append(
                f"'datasets.{name}.epsilon': recipe ns_interior keeps (1 + epsilon) "
                "p_b in NS, which needs epsilon < sqrt(2) - 1"
            )
        if (ds or {}).get("reference") == "Q" and (ds or {}).get(
            "method"
        ) in wfc.LABELLED_BY_SAMPLER:
            lines.append(
                f"'datasets.{name}.reference': Q labels come from chshml certify on "
                f"the shards; method '{ds['method']}' labels while sampling"
            )
    for model, spec in ((models.get("gauge") or {}).get("models") or {}).items():
        data = (spec or {}).get("data")
        if data not in datasets:  # rays may be unlabelled (4-D: exact TLM gauges)
            lines.append(
                f"'models.gauge.models.{model}.data': unknown dataset '{data}'"
            )
        if (spec or {}).get("eval_data") is not None:
            need(f"models.gauge.models.{model}.eval_data", spec["eval_data"])
    return lines


check_config(config)
try:  # the see-saw's point sets are datasets of the data stage too
    wfc.add_stage_datasets(config)
except InputError as err:
    raise WorkflowError(f"invalid config:\n  {err}") from None

SEED = int(config["seed"])
SPLIT_ARG = wfc.split_arg(config)
SOLVER = wfc.solver(config)
TOL = wfc.tol(config)


def dataset_spec(name: str) -> dict:
    """The dataset's config with every default filled in and ``points_from`` resolved."""
    try:
        return wfc.dataset_spec(config, name)
    except InputError as err:
        raise WorkflowError(str(err)) from None


# ---- data stage (workflow/rules/data.smk) ----


def sample_args(wildcards) -> str:
    """``chshml`` arguments of one sample job (``chshml sample`` or ``chshml slice``)."""
    try:
        return wfc.sample_command(config, wildcards.dataset, int(wildcards.shard))
    except InputError as err:
        raise WorkflowError(str(err)) from None


def label_input(wildcards) -> str:
    """The drawn shard a label job reads (the ``points_from`` dataset's)."""
    source = dataset_spec(wildcards.dataset)["points_from"]
    return wfc.sample_path(source, wildcards.shard)


def label_args(wildcards) -> str:
    """``chshml label ...`` or ``chshml certify ...`` of a dataset's shards."""
    return wfc.label_command(config, wildcards.dataset)


def merge_inputs(wildcards) -> dict:
    """Shard files of a dataset: label outputs (+ the matching samples) or sample outputs."""
    ds = dataset_spec(wildcards.dataset)
    shards = range(ds["shards"])
    samples = [wfc.sample_path(ds["points_from"], k) for k in shards]
    if ds["label"]:
        return {
            "shards": [wfc.label_path(wildcards.dataset, k) for k in shards],
            "samples": samples,
        }
    return {"shards": samples}


def merge_args(wildcards, input) -> str:
    """``--samples``, ``--split-group`` and the provenance ``--attr`` options of merge."""
    samples = list(input.samples) if "samples" in input.keys() else None
    return wfc.merge_options(config, wildcards.dataset, samples)


def dataset_files(names) -> list[str]:
    """The merged files of datasets ``names`` (outputs of rule merge)."""
    return expand(rules.merge.output[0], dataset=names)


# ---- models stage (workflow/rules/models.smk) ----


def svm_args(wildcards) -> str:
    """``--set`` options of one SVM (the boundary grid for boundary-pair datasets)."""
    return wfc.set_args(wfc.svm_settings(config, wildcards.dataset))


def eval_inputs(wildcards) -> dict:
    """The model, its dataset, and every labelled evaluation set of its space."""
    if wildcards.kind == "gauge":
        data = wfc.gauge_eval_dataset(config, wildcards.dataset)
        model = expand(rules.train_gauge.output.model, gname=wildcards.dataset)[0]
    else:
        data = wildcards.dataset
        train = rules.train_svm if wildcards.kind == "svm" else rules.train_nn
        model = expand(train.output.model, dataset=data)[0]
    space = dataset_spec(data)["space"]
    files = {"model": model, "data": dataset_files([data])[0]}
    for key, name in wfc.eval_sets(config, space).items():
        files[key] = dataset_files([name])[0]
    return files


def eval_args(wildcards, input) -> str:
    """``--uniform-test``, ``--spread SIGMA=FILE``, ``--slice NAME=FILE`` and the sizes."""
    return wfc.eval_options(config, dict(input.items()))


def gauge_train_input(wildcards) -> str:
    """The rays dataset of one gauge model."""
    return dataset_files([wfc.gauge_models(config)[wildcards.gname]["data"]])[0]


def gauge_args(wildcards) -> str:
    """``--set`` options of one gauge model (its reference on top)."""
    return wfc.set_args(wfc.gauge_settings(config, wildcards.gname))


def gauge_eval_inputs(wildcards) -> dict:
    """:func:`eval_inputs` of a gauge model (evaluated on its ``eval_data``)."""
    return eval_inputs(SimpleNamespace(kind="gauge", dataset=wildcards.gname))


def gauge_eval_args(wildcards, input) -> str:
    """:func:`eval_args` of a gauge model."""
    return eval_args(SimpleNamespace(kind="gauge", dataset=wildcards.gname), input)


# ---- report (workflow/rules/report.smk) ----

#: ``chshml report`` option of each named input of the report rules
REPORT_OPTIONS = {
    "seesaw_table8": "--seesaw",
    "seesaw_appendix": "--seesaw-appendix",
    "seesaw_fig6": "--seesaw-fig6",
    "certify_table8": "--certify-table8",
    "certify_appendix": "--certify-appendix",
}


def report_args(wildcards, input) -> str:
    """Every declared input as a ``chshml report`` option (``--eval`` and ``--data`` always,
    so that an empty list means none, not the default directories)."""
    q = shlex.quote
    keys = list(input.keys())
    opts = [
        " ".join(["--eval", *(q(p) for p in input.evals)]),
        " ".join(["--data", *(q(p) for p in input.data)]),
    ]
    if "volumes" in keys:
        opts += [f"--volume {q(p)}" for p in input.volumes]
    if "validity" in keys:
        opts.append(" ".join(["--validity", *(q(p) for p in input.validity)]))
    opts += [
        f"{opt} {q(getattr(input, key))}"
        for key, opt in REPORT_OPTIONS.items()
        if key in keys
    ]
    return " ".join(opts)
