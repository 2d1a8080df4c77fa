#!/usr/bin/env bash
# Run by Snakemake inside the new environment: install chshml from the working tree
# (the workflow's working directory is the repository root; CHSHML_SRC overrides it).
set -euo pipefail
python -m pip install --no-deps --quiet -e "${CHSHML_SRC:-$PWD}"
