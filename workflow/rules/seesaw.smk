# See-saw stage (paper Appendix A): Table VIII rounds over (d, seeds) and the Fig. 6
# distances of Q_{1+AB} boundary points. Every round fans out as shards; a shard job keeps
# per-point progress in OUT.h5.progress/ (outside its declared output), so a job killed at
# its wall-time limit resumes from the last finished point when the workflow is rerun.
# Its point sets are datasets of the data stage (seesaw_table8: simplex points labelled at
# filter_level; seesaw_appendix_a: directions with their gauges; chshml.workflow_config
# adds them from the sizes below); the rounds start from a select of those.

SEESAW = config.get("seesaw", {})
SEESAW_ENABLED = SEESAW.get("enabled", False)
SEESAW_OPTS = (
    f"--engine {SEESAW.get('engine', 'fast')} "
    f"--threshold {SEESAW.get('threshold', 1e-7)}"
)
SEESAW_LAUNCHER = SEESAW.get("launcher", "")


if SEESAW_ENABLED:
    T8 = SEESAW["table8"]
    T8_ROUNDS = T8["rounds"]
    T8_SHARDS = int(T8.get("shards", 1))
    from chshml.seesaw.summary import round_first_seeds

    #: a round continues the restart seeds of the earlier rounds at its d (fresh starts)
    T8_FIRST_SEEDS = round_first_seeds(T8_ROUNDS, SEESAW.get("fresh_seeds", True))
    APP = SEESAW["appendix_a"]
    APP_SHARDS = int(APP.get("shards", 1))

    wildcard_constraints:
        r=r"\d+",
        k=r"\d+",

    rule seesaw_t8_filter:
        input:
            dataset_files([wfc.SEESAW_TABLE8]),
        output:
            "results/seesaw/table8/round0.h5",
        log:
            "logs/seesaw/table8_filter.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        shell:
            "chshml select --threads {threads} {input} --label 1 -o {output} > {log} 2>&1"

    rule seesaw_t8_shard_input:
        input:
            lambda wc: f"results/seesaw/table8/round{int(wc.r) - 1}.h5",
        output:
            temp("results/seesaw/table8/round{r}/input_{k}.h5"),
        log:
            "logs/seesaw/table8_round{r}_input{k}.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        params:
            shards=T8_SHARDS,
        shell:
            "chshml select --threads {threads} {input} --shard {wildcards.k} "
            "--shards {params.shards} -o {output} > {log} 2>&1"

    rule seesaw_t8_shard:
        input:
            rules.seesaw_t8_shard_input.output,
        output:
            "results/seesaw/table8/round{r}/shard_{k}.h5",
        log:
            "logs/seesaw/table8_round{r}_shard{k}.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        params:
            dim=lambda wc: T8_ROUNDS[int(wc.r) - 1]["dim"],
            seeds=lambda wc: T8_ROUNDS[int(wc.r) - 1]["seeds"],
            first=lambda wc: T8_FIRST_SEEDS[int(wc.r) - 1],
            launcher=SEESAW_LAUNCHER,
            opts=SEESAW_OPTS,
        shell:
            "{params.launcher} chshml seesaw --threads {threads} {input} -o {output} "
            "--local-dim {params.dim} --restarts {params.seeds} --first-seed {params.first} "
            "{params.opts} > {log} 2>&1"

    rule seesaw_t8_round:
        input:
            lambda wc: expand(
                rules.seesaw_t8_shard.output[0], r=wc.r, k=range(T8_SHARDS)
            ),
        output:
            "results/seesaw/table8/round{r}.h5",
        log:
            "logs/seesaw/table8_round{r}.log",
        wildcard_constraints:
            r=r"[1-9]\d*",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        shell:
            "chshml concat --threads {threads} {input} -o {output} > {log} 2>&1"

    rule seesaw_table8:
        input:
            expand(rules.seesaw_t8_round.output[0], r=range(1, len(T8_ROUNDS) + 1)),
        output:
            "results/seesaw/table8.json",
        log:
            "logs/seesaw/table8.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        shell:
            "chshml seesaw-summary --threads {threads} {input} --kind rounds -o {output} "
            "> {log} 2>&1"

    rule seesaw_app_boundary:
        input:
            dataset_files([wfc.SEESAW_APPENDIX_A]),
        output:
            "results/seesaw/appendix_a/boundary.h5",
        log:
            "logs/seesaw/appendix_a_boundary.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        shell:
            "chshml select --threads {threads} {input} --to-boundary -o {output} > {log} 2>&1"

    rule seesaw_app_shard_input:
        input:
            rules.seesaw_app_boundary.output,
        output:
            temp("results/seesaw/appendix_a/input_{k}.h5"),
        log:
            "logs/seesaw/appendix_a_input{k}.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        params:
            shards=APP_SHARDS,
        shell:
            "chshml select --threads {threads} {input} --shard {wildcards.k} "
            "--shards {params.shards} -o {output} > {log} 2>&1"

    rule seesaw_app_shard:
        input:
            rules.seesaw_app_shard_input.output,
        output:
            "results/seesaw/appendix_a/shard_{k}.h5",
        log:
            "logs/seesaw/appendix_a_shard{k}.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        params:
            dim=APP.get("dim", 6),
            seeds=APP.get("seeds", 50),
            launcher=SEESAW_LAUNCHER,
            opts=SEESAW_OPTS,
        shell:
            "{params.launcher} chshml seesaw --threads {threads} {input} -o {output} "
            "--local-dim {params.dim} --restarts {params.seeds} {params.opts} > {log} 2>&1"

    rule seesaw_appendix_a:
        input:
            expand(rules.seesaw_app_shard.output[0], k=range(APP_SHARDS)),
        output:
            merged="results/seesaw/appendix_a.h5",
            summary="results/seesaw/appendix_a.json",
            figure="results/seesaw/fig6.png",
        log:
            "logs/seesaw/appendix_a.log",
        conda:
            # the summary draws Fig. 6 (matplotlib)
            "../../envs/ml-cpu.yaml"
        threads: 1
        shell:
            "(chshml concat --threads {threads} {input} -o {output.merged} && "
            "chshml seesaw-summary --threads {threads} {output.merged} --kind appendix-a "
            "-o {output.summary} --figure {output.figure}) > {log} 2>&1"

    rule seesaw:
        input:
            rules.seesaw_table8.output,
            rules.seesaw_appendix_a.output.summary,
            rules.seesaw_appendix_a.output.figure,
        log:
            "logs/targets/seesaw.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
