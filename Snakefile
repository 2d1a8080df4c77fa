# chshml workflow: sample -> label (sharded) -> merge -> models -> report.
#
#   snakemake -n --profile profiles/local                     # plan the default study
#   snakemake --profile profiles/local                        # run it on this machine
#   snakemake --profile profiles/slurm                        # same run through SLURM
#   snakemake --profile profiles/local --configfile config/paper.yaml   # the paper's sizes
#
# The config is validated against workflow/schemas/config.schema.yaml before any job starts.
# Each workflow/rules/*.smk adds its final files to TARGETS; `snakemake data` runs the data
# stage only.

import glob
import os

from snakemake.utils import min_version

min_version("9.0")

# profiles/slurm sends shards out as SLURM job arrays; keep the plugin from holding ready
# jobs back (its issue #473): see chshml/slurm_arrays.py. A no-op without the plugin.
from chshml.slurm_arrays import install as install_slurm_array_fix

install_slurm_array_fix()


configfile: os.path.join(workflow.basedir, "config.yaml")


include: "workflow/rules/common.smk"


for _smk in sorted(glob.glob(os.path.join(workflow.basedir, "workflow", "rules", "*.smk"))):
    if os.path.basename(_smk) != "common.smk":

        include: _smk


rule all:
    default_target: True
    input:
        TARGETS,
