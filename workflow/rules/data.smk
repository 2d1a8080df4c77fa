# Data stage: one sample job (and one label job) per shard, one merge per dataset.
# Rules are thin: they call the chshml CLI; the logic lives in common.smk and the package.

wildcard_constraints:
    dataset=r"[A-Za-z][A-Za-z0-9_.+-]*",
    shard=r"\d+",


DATA_TARGETS = data_targets()
TARGETS.extend(DATA_TARGETS)


rule data:
    input:
        DATA_TARGETS,


rule sample:
    output:
        "results/shards/{dataset}/sample_{shard}.h5",
    log:
        "logs/data/{dataset}/sample_{shard}.log",
    params:
        args=lambda wc: sample_command(wc.dataset, int(wc.shard)),
    threads: 1
    conda:
        "../../envs/sdp.yaml"
    shell:
        "chshml {params.args} -o {output} --threads {threads} > {log} 2>&1"


rule label:
    input:
        lambda wc: sample_path(dataset_spec(wc.dataset)["points_from"], wc.shard),
    output:
        "results/shards/{dataset}/label_{shard}.h5",
    log:
        "logs/data/{dataset}/label_{shard}.log",
    params:
        command=lambda wc: label_command(wc.dataset),
    threads: 1
    conda:
        "../../envs/sdp.yaml"
    shell:
        "chshml {params.command} {input} -o {output} --threads {threads} > {log} 2>&1"


rule merge:
    input:
        unpack(merge_inputs),
    output:
        "results/data/{dataset}.h5",
    log:
        "logs/data/{dataset}/merge.log",
    params:
        opts=merge_options,
        split=SPLIT_ARG,
        seed=SEED,
    threads: 1
    conda:
        "../../envs/sdp.yaml"
    shell:
        "chshml merge {input.shards} {params.opts} -o {output} --split {params.split} "
        "--seed {params.seed} --dataset {wildcards.dataset} --threads {threads} > {log} 2>&1"
