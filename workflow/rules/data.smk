# Data stage: one sample job (and one label job) per shard, one merge per dataset.
# Rules are thin: they call the chshml CLI; defaults and dataset resolution live in
# chshml.workflow_config (bound to the config in common.smk).


wildcard_constraints:
    dataset=r"[A-Za-z][A-Za-z0-9_.+-]*",
    shard=r"\d+",


rule sample:
    output:
        wfc.sample_path("{dataset}", "{shard}"),
    log:
        "logs/data/{dataset}/sample_{shard}.log",
    conda:
        "../../envs/sdp.yaml"
    threads: 1
    params:
        args=sample_args,
    shell:
        "chshml {params.args} -o {output} --threads {threads} > {log} 2>&1"


rule label:
    input:
        label_input,
    output:
        wfc.label_path("{dataset}", "{shard}"),
    log:
        "logs/data/{dataset}/label_{shard}.log",
    conda:
        "../../envs/sdp.yaml"
    threads: 1
    params:
        command=label_args,
    shell:
        "chshml {params.command} {input} -o {output} --threads {threads} > {log} 2>&1"


rule merge:
    input:
        unpack(merge_inputs),
    output:
        wfc.dataset_path("{dataset}"),
    log:
        "logs/data/{dataset}/merge.log",
    conda:
        "../../envs/sdp.yaml"
    threads: 1
    params:
        opts=merge_args,
        split=SPLIT_ARG,
        seed=SEED,
    shell:
        "chshml merge {input.shards} {params.opts} -o {output} --split {params.split} "
        "--seed {params.seed} --dataset {wildcards.dataset} --threads {threads} > {log} 2>&1"


rule data:
    input:
        dataset_files(wfc.run_datasets(config)),
    log:
        "logs/targets/data.log",
    conda:
        "../../envs/sdp.yaml"
    threads: 1
