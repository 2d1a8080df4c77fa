# Membership in Q itself (chshml certify): Table VIII and Appendix A with Q, beside the
# see-saw's. Points and directions are drawn as the see-saw stage draws them (same sampler,
# own dataset names for their seeds).

CERTIFY = config.get("certify", {})
CERTIFY_ENABLED = CERTIFY.get("enabled", False)

if CERTIFY_ENABLED:
    CERT_T8 = CERTIFY["table8"]
    CERT_APP = CERTIFY["appendix_a"]

    rule certify_t8_points:
        output:
            "results/certify/table8_points.h5",
        log:
            "logs/certify/table8_points.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        params:
            n=CERT_T8["n_points"],
            seed=SEED,
        shell:
            "chshml sample --space full8 --method simplex -n {params.n} --seed {params.seed} "
            "--dataset certify_table8 -o {output} --threads {threads} > {log} 2>&1"

    rule certify_table8:
        input:
            rules.certify_t8_points.output,
        output:
            certified="results/certify/table8.h5",
            summary="results/certify/table8.json",
        log:
            "logs/certify/table8.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        params:
            level=shlex.quote(str(CERT_T8.get("level", "4"))),
        shell:
            "(chshml certify {input} -o {output.certified} --level {params.level} --clean "
            "--threads {threads} && chshml certify-summary {output.certified} --kind table8 "
            "-o {output.summary} --threads {threads}) > {log} 2>&1"

    rule certify_app_directions:
        output:
            "results/certify/appendix_a_directions.h5",
        log:
            "logs/certify/appendix_a_directions.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        params:
            n=CERT_APP["n_directions"],
            seed=SEED,
        shell:
            "chshml sample --space full8 --method directions -n {params.n} --seed {params.seed} "
            "--dataset certify_appendix_a -o {output} --threads {threads} > {log} 2>&1"

    rule certify_appendix_a:
        input:
            rules.certify_app_directions.output,
        output:
            rays="results/certify/appendix_a.h5",
            summary="results/certify/appendix_a.json",
        log:
            "logs/certify/appendix_a.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
        params:
            level=shlex.quote(str(CERT_APP.get("level", "4"))),
        shell:
            "(chshml certify-rays {input} -o {output.rays} --level {params.level} "
            "--threads {threads} && chshml certify-summary {output.rays} --kind appendix-a "
            "-o {output.summary} --threads {threads}) > {log} 2>&1"

    rule certify:
        input:
            rules.certify_table8.output.summary,
            rules.certify_appendix_a.output.summary,
        log:
            "logs/targets/certify.log",
        conda:
            "../../envs/sdp.yaml"
        threads: 1
