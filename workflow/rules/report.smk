# Report stage: results/report/report.md + PNGs, also in `snakemake --report report.html`.
# Every input is declared (evaluation JSONs, dataset files, volumes, label validity, see-saw
# and certify summaries); a stage switched off is named in the report, never fatal.

REPORT_CFG = config.get("report", {})
REPORT_EVALS = [*rules.models.input, *rules.gauge_models.input]
#: see-saw summaries (seesaw.smk) and certify summaries (certify.smk) when those stages run
REPORT_SEESAW = (
    {
        "seesaw_table8": rules.seesaw_table8.output[0],
        "seesaw_appendix": rules.seesaw_appendix_a.output.summary,
        "seesaw_fig6": rules.seesaw_appendix_a.output.figure,
    }
    if SEESAW_ENABLED
    else {}
)
REPORT_CERTIFY = (
    {
        "certify_table8": rules.certify_table8.output.summary,
        "certify_appendix": rules.certify_appendix_a.output.summary,
    }
    if CERTIFY_ENABLED
    else {}
)


rule report:
    input:
        **REPORT_SEESAW,
        **REPORT_CERTIFY,
        evals=REPORT_EVALS,
        data=dataset_files(wfc.report_datasets(config)),
        volumes=dataset_files(wfc.report_volumes(config)),
        validity=dataset_files(wfc.report_validity(config)),
    output:
        md=report(
            "results/report/report.md",
            caption="../report/report.rst",
            category="Report",
        ),
        figs=report(
            directory("results/report/figures"),
            patterns=["{name}.png"],
            caption="../report/figures.rst",
            category="Figures",
        ),
    log:
        "logs/report/report.log",
    conda:
        "../../envs/ml-cpu.yaml"
    threads: 1
    params:
        inputs=report_args,
        n_mc=int(REPORT_CFG.get("n_mc", 1_000_000)),
        seed=SEED,
    shell:
        "chshml report {params.inputs} --n-mc {params.n_mc} --seed {params.seed} "
        "-o results/report --figures-dir {output.figs} --threads {threads} > {log} 2>&1"


# An early report from the models alone (marked partial): readable while the slow inputs
# (Fig. 2's level-3 labelling, label validity, see-saw) are still running.
rule report_partial:
    input:
        evals=REPORT_EVALS,
        data=dataset_files(wfc.model_stage_datasets(config)),
    output:
        md="results/report/partial/report.md",
    log:
        "logs/report/report_partial.log",
    priority: 5
    conda:
        "../../envs/ml-cpu.yaml"
    threads: 1
    params:
        inputs=report_args,
        n_mc=int(REPORT_CFG.get("n_mc", 1_000_000)),
        seed=SEED,
    shell:
        "chshml report --partial {params.inputs} --n-mc {params.n_mc} --seed {params.seed} "
        "-o results/report/partial --threads {threads} > {log} 2>&1"
