# Model stage: train SVMs (CPU) and networks (GPU when the profile gives one), evaluate each
# on its dataset's test split and on every labelled evaluation set of its space (all built by
# the data stage: one truth per test set). Rules call the chshml CLI only; settings come from
# config["models"] (workflow/schemas/config.schema.yaml documents every key).

SVM_DATASETS = wfc.model_datasets(config, "svm")
NN_DATASETS = wfc.model_datasets(config, "nn")
GAUGE_MODELS = list(wfc.gauge_models(config))


rule train_svm:
    input:
        lambda wc: dataset_files([wc.dataset]),
    output:
        model="results/models/svm_{dataset}.joblib",
        meta="results/models/svm_{dataset}.json",
    log:
        "logs/models/svm_{dataset}.log",
    conda:
        "../../envs/ml-cpu.yaml"
    threads: 1
    params:
        opts=svm_args,
    shell:
        "chshml train svm {input} -o {output.model} {params.opts} --threads {threads} > {log} 2>&1"


rule train_nn:
    input:
        lambda wc: dataset_files([wc.dataset]),
    output:
        model="results/models/nn_{dataset}.keras",
        meta="results/models/nn_{dataset}.json",
    log:
        "logs/models/nn_{dataset}.log",
    priority: wfc.nn_priority(config)
    conda:
        # the slurm profile gives train_nn a GPU (gres); CHSHML_GPU=1 picks the CUDA env
        (
            "../../envs/ml-gpu.yaml"
            if os.environ.get("CHSHML_GPU")
            else "../../envs/ml-cpu.yaml"
        )
    threads: wfc.nn_threads(config)
    params:
        opts=wfc.set_args(wfc.nn_settings(config)),
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
    conda:
        "../../envs/ml-cpu.yaml"
    threads: 1
    params:
        opts=eval_args,
        seed=SEED,
    shell:
        "chshml evaluate {input.model} --data {input.data} -o {output.json} "
        "--slices-out {output.slices} --seed {params.seed} {params.opts} --threads {threads} > {log} 2>&1"


rule models:
    input:
        expand(rules.evaluate_model.output.json, kind="svm", dataset=SVM_DATASETS),
        expand(rules.evaluate_model.output.json, kind="nn", dataset=NN_DATASETS),
    log:
        "logs/targets/models.log",
    conda:
        "../../envs/ml-cpu.yaml"
    threads: 1


# ---- gauge models (issue 14): regression of the gauge lam on rays, exact NS/local ----
# config["models"]["gauge"]["models"]: name -> {data: rays dataset, reference, eval_data}.


rule train_gauge:
    input:
        gauge_train_input,
    output:
        model="results/models/{gname}.npz",
        meta="results/models/{gname}.json",
    log:
        "logs/models/{gname}.log",
    wildcard_constraints:
        gname="gauge_[A-Za-z0-9_.+-]+",
    conda:
        "../../envs/ml-cpu.yaml"
    threads: 1
    params:
        opts=gauge_args,
    shell:
        "chshml train gauge {input} -o {output.model} {params.opts} --threads {threads} > {log} 2>&1"


rule evaluate_gauge:
    input:
        unpack(gauge_eval_inputs),
    output:
        json="results/eval/{gname}.json",
        slices="results/eval/{gname}_slices.h5",
    log:
        "logs/eval/{gname}.log",
    wildcard_constraints:
        gname="gauge_[A-Za-z0-9_.+-]+",
    conda:
        "../../envs/ml-cpu.yaml"
    threads: 1
    params:
        opts=gauge_eval_args,
        seed=SEED,
    shell:
        "chshml evaluate {input.model} --data {input.data} -o {output.json} "
        "--slices-out {output.slices} --seed {params.seed} {params.opts} --threads {threads} > {log} 2>&1"


rule gauge_models:
    input:
        expand(rules.evaluate_gauge.output.json, gname=GAUGE_MODELS),
    log:
        "logs/targets/gauge_models.log",
    conda:
        "../../envs/ml-cpu.yaml"
    threads: 1
