#!/usr/bin/env bash
# Stop the single-node SLURM started by slurm_up.sh: cancel jobs, stop the daemons by pid file.
# Leaves the packages installed. Safe to run when nothing is running.
set -uo pipefail
command -v scancel >/dev/null 2>&1 && scancel --full --quiet --user="$(id -un)" 2>/dev/null
stop() {  # stop <pidfile> <name>: TERM, wait up to 10 s, then KILL
  local pidfile=$1 pid
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
  echo "slurm_down: stopped $2 ($pid)"
}
stop /run/slurmd.pid slurmd
stop /run/slurmctld.pid slurmctld
stop /run/slurmdbd.pid slurmdbd
stop /run/mysqld/mysqld.pid mariadbd
stop /run/munge/munged.pid munged
exit 0
