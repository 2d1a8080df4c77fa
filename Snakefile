# chshml workflow: sample -> label (sharded) -> merge -> models -> report.
#
#   snakemake -n --profile profiles/local                     # plan the default study
#   snakemake --profile profiles/local                        # run it on this machine
#   snakemake --profile profiles/slurm                        # same run through SLURM
#   snakemake --profile profiles/local --configfile config/paper.yaml   # the paper's sizes
#
# The config is validated against workflow/schemas/config.schema.yaml before any job starts.
# Stages are included in the order the data flows (each reads only the stages before it);
# each ends with a target rule of its own name: `snakemake data` runs the data stage only.

import os

from snakemake.utils import min_version

min_version("9.0")

# profiles/slurm sends shards out as SLURM job arrays; keep the plugin from holding ready
# jobs back (its issue #473): see chshml/slurm_arrays.py. A no-op without the plugin.
from chshml.slurm_arrays import install as install_slurm_array_fix

install_slurm_array_fix()


configfile: os.path.join(workflow.basedir, "config.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/seesaw.smk"
include: "workflow/rules/certify.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.data.input,
        rules.models.input,
        rules.gauge_models.input,
        rules.seesaw.input if SEESAW_ENABLED else [],
        rules.certify.input if CERTIFY_ENABLED else [],
        rules.report.output.md,
        rules.report_partial.output.md if REPORT_CFG.get("partial", False) else [],
    log:
        "logs/targets/all.log",
    conda:
        "envs/ml-cpu.yaml"
    threads: 1
