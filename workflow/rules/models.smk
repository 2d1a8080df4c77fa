# Model stage: train SVMs (CPU) and networks (GPU when the profile gives one), evaluate each.
# Rules call the chshml CLI only; settings come from config["models"]
# (workflow/models.config.yaml documents every key).

import json as _json
import shlex as _shlex

MODELS_CFG = config.get("models", {})
_SVM = dict(MODELS_CFG.get("svm", {}))
_NN = dict(MODELS_CFG.get("nn", {}))
_EVAL = dict(MODELS_CFG.get("evaluate", {}))
SVM_DATASETS = list(_SVM.pop("datasets", []))
NN_DATASETS = list(_NN.pop("datasets", []))
#: Grid overrides for boundary-pair datasets (large C and gamma, no validation pruning).
_SVM_BOUNDARY = dict(_SVM.pop("boundary", {}) or {})
#: Snakemake priority of train_nn: on a small machine the 2-thread NN jobs would otherwise
#: wait behind every 1-thread labelling job that frees a single core.
_NN_PRIORITY = int(_NN.pop("priority", 10))
#: Threads of train_nn. Priority alone does not stop starvation: whenever one core frees, a
#: 1-thread job fits and a 2-thread network does not (measured with --cores 2). The small
#: MLPs gain little from a second thread; a cluster profile may raise it (set-threads).
_NN_THREADS = int(_NN.pop("threads", 2))
MODEL_SUFFIX = {"svm": "joblib", "nn": "keras"}
MODEL_NAMES = [f"svm_{d}" for d in SVM_DATASETS] + [f"nn_{d}" for d in NN_DATASETS]


def _set_args(settings: dict) -> str:
    return " ".join(f"--set {_shlex.quote(k + '=' + _json.dumps(v))}"
                    for k, v in settings.items())


def svm_settings(dataset: str) -> dict:
    """SVM settings of one dataset: the common grid, with ``svm.boundary`` on top for
    boundary-pair datasets."""
    settings = dict(_SVM)
    if dataset_spec(dataset)["method"] == "boundary":
        settings.update(_SVM_BOUNDARY)
    return settings


def _space(dataset: str) -> str:
    return dataset_spec(dataset)["space"]


def eval_inputs(wc) -> dict:
    """The model, its dataset, and the labelled evaluation sets configured for its space."""
    space = _space(wc.dataset)
    files = {"model": f"results/models/{wc.kind}_{wc.dataset}.{MODEL_SUFFIX[wc.kind]}",
             "data": dataset_path(wc.dataset)}
    uni = (_EVAL.get("uniform_test") or {}).get(space)
    if uni and uni in config["datasets"]:
        files["uniform"] = dataset_path(uni)
    for sigma, name in ((_EVAL.get("spread") or {}).get(space) or {}).items():
        if name in config["datasets"]:
            files[f"spread_{sigma}"] = dataset_path(name)
    for sname, name in ((_EVAL.get("slices") or {}).get(space) or {}).items():
        if name in config["datasets"]:
            files[f"slice_{sname}"] = dataset_path(name)
    return files


def eval_options(wc, input) -> str:
    opts = []
    for key, path in input.items():
        if key == "uniform":
            opts.append(f"--uniform-test {path}")
        elif key.startswith("spread_"):
            opts.append(f"--spread {key.split('_', 1)[1]}={path}")
        elif key.startswith("slice_"):
            opts.append(f"--slice {key.split('_', 1)[1]}={path}")
    for key in ("n_slice", "n_spread", "n_uniform"):
        if key in _EVAL:
            opts.append(f"--{key.replace('_', '-')} {int(_EVAL[key])}")
    return " ".join(opts)


MODEL_TARGETS = [f"results/eval/{m}.json" for m in MODEL_NAMES]
TARGETS.extend(MODEL_TARGETS)


rule models:
    input:
        MODEL_TARGETS,


rule train_svm:
    input:
        lambda wc: dataset_path(wc.dataset),
    output:
        model="results/models/svm_{dataset}.joblib",
        meta="results/models/svm_{dataset}.json",
    log:
        "logs/models/svm_{dataset}.log",
    params:
        opts=lambda wc: _set_args(svm_settings(wc.dataset)),
    threads: 1
    conda:
        "../../envs/ml-cpu.yaml"
    shell:
        "chshml train svm {input} -o {output.model} {params.opts} --threads {threads} > {log} 2>&1"


rule train_nn:
    input:
        lambda wc: dataset_path(wc.dataset),
    output:
        model="results/models/nn_{dataset}.keras",
        meta="results/models/nn_{dataset}.json",
    log:
        "logs/models/nn_{dataset}.log",
    params:
        opts=_set_args(_NN),
    priority: _NN_PRIORITY
    threads: _NN_THREADS
    conda:  # the slurm profile gives train_nn a GPU (gres); CHSHML_GPU=1 picks the CUDA env
        "../../envs/ml-gpu.yaml" if os.environ.get("CHSHML_GPU") else "../../envs/ml-cpu.yaml"
    shell:
        "chshml train nn {input} -o {output.model} {params.opts} --threads {threads} > {log} 2>&1"


rule evaluate_model:
    input:
        unpack(eval_inputs),
    output:
        json="results/eval/{kind}_{dataset}.json",
        slices="results/eval/{kind}_{dataset}_slices.h5",
    log:
        "logs/eval/{kind}_{dataset}.log",
    wildcard_constraints:
        kind="svm|nn",
    params:
        opts=eval_options,
        seed=SEED,
    threads: 1
    conda:
        "../../envs/ml-cpu.yaml"
    shell:
        "chshml evaluate {input.model} --data {input.data} -o {output.json} "
        "--slices-out {output.slices} --seed {params.seed} {params.opts} --threads {threads} > {log} 2>&1"


# ---- gauge models (issue 14): regression of the gauge lam on rays, exact NS/local ----
# config["models"]["gauge"]["models"]: name -> {data: rays dataset, reference, eval_data}.
_GAUGE = dict(MODELS_CFG.get("gauge") or {})
GAUGE_MODELS = dict(_GAUGE.pop("models", {}) or {})
GAUGE_TARGETS = [f"results/eval/{m}.json" for m in GAUGE_MODELS]
MODEL_TARGETS.extend(GAUGE_TARGETS)  # the report rule reads MODEL_TARGETS lazily
TARGETS.extend(GAUGE_TARGETS)


def _gauge_opts(wc) -> str:
    spec = GAUGE_MODELS[wc.gname]
    settings = dict(_GAUGE)
    if "reference" in spec:
        settings["reference"] = spec["reference"]
    return _set_args(settings)


def _gauge_eval_inputs(wc) -> dict:
    spec = GAUGE_MODELS[wc.gname]
    data = spec.get("eval_data", spec["data"])
    files = eval_inputs(SimpleNamespace(kind="gauge", dataset=data))
    files["model"] = f"results/models/{wc.gname}.npz"
    return files


from types import SimpleNamespace  # noqa: E402

MODEL_SUFFIX.setdefault("gauge", "npz")


rule gauge_models:
    input:
        GAUGE_TARGETS,


rule train_gauge:
    input:
        lambda wc: dataset_path(GAUGE_MODELS[wc.gname]["data"]),
    output:
        model="results/models/{gname}.npz",
        meta="results/models/{gname}.json",
    log:
        "logs/models/{gname}.log",
    wildcard_constraints:
        gname="gauge_[A-Za-z0-9_.+-]+",
    params:
        opts=_gauge_opts,
    threads: 1
    conda:
        "../../envs/ml-cpu.yaml"
    shell:
        "chshml train gauge {input} -o {output.model} {params.opts} --threads {threads} > {log} 2>&1"


rule evaluate_gauge:
    input:
        unpack(_gauge_eval_inputs),
    output:
        json="results/eval/{gname}.json",
        slices="results/eval/{gname}_slices.h5",
    log:
        "logs/eval/{gname}.log",
    wildcard_constraints:
        gname="gauge_[A-Za-z0-9_.+-]+",
    params:
        opts=lambda wc, input: eval_options(
            SimpleNamespace(kind="gauge", dataset=GAUGE_MODELS[wc.gname].get(
                "eval_data", GAUGE_MODELS[wc.gname]["data"])), input),
        seed=SEED,
    threads: 1
    conda:
        "../../envs/ml-cpu.yaml"
    shell:
        "chshml evaluate {input.model} --data {input.data} -o {output.json} "
        "--slices-out {output.slices} --seed {params.seed} {params.opts} --threads {threads} > {log} 2>&1"
