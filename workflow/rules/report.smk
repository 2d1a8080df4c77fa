# Report stage: results/report/report.md + PNGs, also in `snakemake --report report.html`.
# Missing optional inputs (volumes, see-saw) are named in the report, never fatal.

REPORT_CFG = config.get("report", {})
REPORT_VOLUMES = [v for v in REPORT_CFG.get("volumes", []) if v in config["datasets"]]
# 8-D label validity: the base datasets and their copies relabelled at tighter levels
REPORT_VALIDITY = sorted({name for base, levels in (REPORT_CFG.get("label_validity") or {}).items()
                          for name in [base, *(levels or {}).values()]
                          if name in config["datasets"]})
REPORT_PARTIAL = bool(REPORT_CFG.get("partial", False))
# see-saw summaries (workflow/rules/seesaw.smk) join the report when that stage is enabled
_SEESAW_ON = config.get("seesaw", {}).get("enabled", False)
REPORT_SEESAW = {"table8": "results/seesaw/table8.json",
                 "appendix": "results/seesaw/appendix_a.json",
                 "fig6": "results/seesaw/fig6.png"} if _SEESAW_ON else {}

# certify summaries (workflow/rules/certify.smk): Table VIII and Appendix A with Q itself
REPORT_CERTIFY = {"table8": "results/certify/table8.json",
                  "appendix": "results/certify/appendix_a.json"} \
    if config.get("certify", {}).get("enabled", False) else {}


def _report_volume_opts(wc, input) -> str:
    return " ".join(f"--volume {p}" for p in input.volumes)


rule report:
    input:
        evals=lambda wc: MODEL_TARGETS,
        volumes=[dataset_path(v) for v in REPORT_VOLUMES],
        validity=[dataset_path(v) for v in REPORT_VALIDITY],
        seesaw=list(REPORT_SEESAW.values()),
        certify=list(REPORT_CERTIFY.values()),
    output:
        md=report("results/report/report.md", caption="../report/report.rst",
                  category="Report"),
        figs=report(directory("results/report/figures"), patterns=["{name}.png"],
                    caption="../report/figures.rst", category="Figures"),
    log:
        "logs/report/report.log",
    params:
        volumes=_report_volume_opts,
        seesaw=(f"--seesaw {REPORT_SEESAW['table8']} --seesaw-appendix {REPORT_SEESAW['appendix']} "
                f"--seesaw-fig6 {REPORT_SEESAW['fig6']}" if REPORT_SEESAW else ""),
        certify=(f"--certify-table8 {REPORT_CERTIFY['table8']} "
                 f"--certify-appendix {REPORT_CERTIFY['appendix']}" if REPORT_CERTIFY else ""),
        n_mc=int(REPORT_CFG.get("n_mc", 1_000_000)),
        seed=SEED,
    threads: 1
    conda:
        "../../envs/ml-cpu.yaml"
    shell:
        "chshml report --eval-dir results/eval --data-dir results/data {params.volumes} "
        "{params.seesaw} {params.certify} --n-mc {params.n_mc} --seed {params.seed} -o results/report "
        "--figures-dir results/report/figures --threads {threads} > {log} 2>&1"


TARGETS.append("results/report/report.md")


# An early report from the models alone (marked partial): readable while the slow inputs
# (Fig. 2's level-3 labelling, label validity, see-saw) are still running.
rule report_partial:
    input:
        evals=lambda wc: MODEL_TARGETS,
    output:
        md="results/report/partial/report.md",
    log:
        "logs/report/report_partial.log",
    params:
        n_mc=int(REPORT_CFG.get("n_mc", 1_000_000)),
        seed=SEED,
    priority: 5
    threads: 1
    conda:
        "../../envs/ml-cpu.yaml"
    shell:
        "chshml report --partial --eval-dir results/eval --data-dir results/data "
        "--n-mc {params.n_mc} --seed {params.seed} -o results/report/partial "
        "--threads {threads} > {log} 2>&1"


if REPORT_PARTIAL:
    TARGETS.append("results/report/partial/report.md")
