#!/usr/bin/env bash
# Start a real single-node SLURM (Debian's slurm-wlm + munge) for the tests; no systemd needed.
#
# Partitions: cpu (default) and gpu; the node advertises SLURM_GPUS fake GPUs (gres "gpu",
# no device files) so that the profile's GPU request (--gres=gpu:1) is scheduled for real.
# Run as root.  Environment:
#   SLURM_CPUS=N   CPUs to advertise (default 8: > nproc works with config_overrides, so that
#                  grouped shard jobs asking for several CPUs do not stay PENDING forever)
#   SLURM_GPUS=N   fake GPUs on the node (default 2)
#   WITH_DBD=1     also start MariaDB + slurmdbd so that sacct works (not needed by the tests:
#                  the profiles use `slurm-status-command: squeue`)
# Idempotent: a running cluster is stopped (tests/cluster/slurm_down.sh) and started afresh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
WITH_DBD=${WITH_DBD:-0}
CPUS=${SLURM_CPUS:-8}
GPUS=${SLURM_GPUS:-2}
HOST=$(hostname -s)
MEM=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)

pkgs="munge slurm-wlm"
[ "$WITH_DBD" = 1 ] && pkgs="$pkgs mariadb-server slurmdbd"
if ! dpkg -s $pkgs >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
fi
"$here/slurm_down.sh" >/dev/null 2>&1 || true
t0=$(date +%s.%N)

if [ "$WITH_DBD" = 1 ]; then
  acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"
else
  acct="AccountingStorageType=accounting_storage/none"
fi

mkdir -p /etc/slurm
cat > /etc/slurm/slurm.conf <<CONF
# written by tests/cluster/slurm_up.sh
ClusterName=ci
SlurmctldHost=${HOST}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
${acct}
ReturnToService=2
SlurmdParameters=config_overrides
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/lib/slurm/slurmd
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
InactiveLimit=0
KillWait=5
# squeue must still list finished jobs when the Snakemake plugin polls (>= 3 x init seconds)
MinJobAge=300
GresTypes=gpu
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM} Gres=gpu:${GPUS} State=UNKNOWN
PartitionName=cpu Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=${HOST} MaxTime=INFINITE State=UP
CONF
# fake GPU "devices": plain files are enough for slurmd to count them (nothing opens them)
install -d -m 0755 /run/slurm-fake-gpu
for i in $(seq 0 $((GPUS - 1))); do : > "/run/slurm-fake-gpu/gpu$i"; done
cat > /etc/slurm/gres.conf <<CONF
NodeName=${HOST} Name=gpu File=/run/slurm-fake-gpu/gpu[0-$((GPUS - 1))]
CONF

install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
install -d -m 0755 /var/log/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
rm -rf /var/lib/slurm/slurmctld/* /var/lib/slurm/slurmd/*   # fresh job ids and state
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
runuser -u munge -- /usr/sbin/munged
munge -n | unmunge >/dev/null

if [ "$WITH_DBD" = 1 ]; then
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  /usr/sbin/mariadbd --user=mysql --skip-networking --socket=/run/mysqld/mysqld.sock \
    --pid-file=/run/mysqld/mysqld.pid --log-error=/var/log/slurm/mariadb.err >/dev/null 2>&1 &
  for _ in $(seq 1 120); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 0.25; done
  mariadb <<'SQL'
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
SQL
  cat > /etc/slurm/slurmdbd.conf <<'CONF'
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=slurmpw
CONF
  chmod 600 /etc/slurm/slurmdbd.conf
  /usr/sbin/slurmdbd
  for _ in $(seq 1 120); do (exec 3<>/dev/tcp/127.0.0.1/6819) 2>/dev/null && break; sleep 0.25; done
fi

/usr/sbin/slurmctld
/usr/sbin/slurmd

state=none
for _ in $(seq 1 120); do
  state=$(sinfo -h -N -n "$HOST" -o '%T' 2>/dev/null | head -1 || true)
  case "$state" in idle*|mixed*|allocated*) break ;; esac
  sleep 0.25
done
case "$state" in
  idle*|mixed*|allocated*) ;;
  *) echo "slurm_up: node not ready (state '$state')" >&2
     tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2
     exit 1 ;;
esac

if [ "$WITH_DBD" = 1 ]; then
  for _ in $(seq 1 120); do
    sacctmgr -n list cluster format=cluster 2>/dev/null | grep -qw ci && break; sleep 0.25
  done
  sacctmgr -i add account ci Description=ci Organization=ci >/dev/null || true
  sacctmgr -i add user "$(id -un)" Account=ci DefaultAccount=ci >/dev/null || true
  sacct -n -X >/dev/null
fi
sinfo -o '%P %a %D %c %G %T'
echo "slurm_up: ready in $(awk "BEGIN {printf \"%.1f\", $(date +%s.%N) - $t0}") s" \
     "(cpus=$CPUS gpus=$GPUS dbd=$WITH_DBD)"
