#!/usr/bin/env bash
# start_slurm.sh - bring up a throw-away single-node Slurm cluster on localhost
# for CI and `make test` (adapted from ../shared/reference/cluster/; Debian 12 / Ubuntu, run as root; works without systemd as PID 1 and
# without a usable cgroup hierarchy).  Tested with Debian's slurm 22.05.8.
#
# Starts munged (unless a working munge is already running), optionally MariaDB
# + slurmdbd, then slurmctld and slurmd as ordinary daemons and records their
# PIDs in $SLURM_CI_DIR/*.pid so stop_slurm.sh can stop exactly those processes.
# If this script fails, still call stop_slurm.sh (it only stops what has a pid file).
#
# Environment knobs (all optional):
#   SLURM_CI_DIR        state/log/pid dir                [$TMPDIR/slurm-ci]
#   SLURM_CI_INSTALL    1 = apt-get install if missing   [1]
#   SLURM_CI_CPUS       CPUs advertised by the node      [$(nproc)]
#                       (> nproc is allowed: oversubscribes via config_overrides)
#   SLURM_CI_MEM_MB     RealMemory advertised            [physical MB - 512]
#   SLURM_CI_PARTITION  partition name (default part.)   [debug]
#   SLURM_CI_CLUSTER    ClusterName                      [ci]
#   SLURM_CI_TIMEOUT    seconds to wait for node idle    [60]
#   SLURM_CI_ACCOUNTING 1 = also run MariaDB + slurmdbd so that sacct works
#                       (submitit needs sacct to notice jobs that die without
#                       writing a result file)            [0]
#   SLURM_CI_DB_PORT    MariaDB TCP port on 127.0.0.1    [3307] (not 3306: avoid a system MySQL)
set -euo pipefail

SLURM_CI_DIR=${SLURM_CI_DIR:-${TMPDIR:-/tmp}/slurm-ci}
SLURM_CI_INSTALL=${SLURM_CI_INSTALL:-1}
SLURM_CI_PARTITION=${SLURM_CI_PARTITION:-debug}
SLURM_CI_CLUSTER=${SLURM_CI_CLUSTER:-ci}
SLURM_CI_TIMEOUT=${SLURM_CI_TIMEOUT:-60}
SLURM_CI_ACCOUNTING=${SLURM_CI_ACCOUNTING:-0}
SLURM_CI_DB_PORT=${SLURM_CI_DB_PORT:-3307}
SLURM_CONF_FILE=/etc/slurm/slurm.conf   # default path: every sbatch/squeue/sacct finds it without SLURM_CONF

log() { echo "[start_slurm $(date +%T)] $*" >&2; }
die() {
    log "ERROR: $*"
    for f in slurmctld.log slurmd.log slurmdbd.log mysql-run/mariadb.log; do
        [ -f "$SLURM_CI_DIR/$f" ] && { echo "--- $f" >&2; tail -n 30 "$SLURM_CI_DIR/$f" >&2; }
    done
    exit 1
}
now() { date +%s.%N; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
T0=$(now)

# ---------------------------------------------------------------- install
PKGS="slurmctld slurmd slurm-client munge"
BINS="slurmctld slurmd munged sbatch"
if [ "$SLURM_CI_ACCOUNTING" = 1 ]; then PKGS="$PKGS slurmdbd mariadb-server"; BINS="$BINS slurmdbd mariadbd"; fi
missing=0
for b in $BINS; do command -v "$b" >/dev/null || missing=1; done
if [ "$missing" = 1 ]; then
    [ "$SLURM_CI_INSTALL" = 1 ] || die "slurm/munge not installed and SLURM_CI_INSTALL=0"
    log "installing $PKGS"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
fi
T1=$(now)

# refuse to start twice
for d in slurmctld slurmd slurmdbd mariadb; do
    if [ -f "$SLURM_CI_DIR/$d.pid" ] && kill -0 "$(cat "$SLURM_CI_DIR/$d.pid")" 2>/dev/null; then
        die "$d already running (pid $(cat "$SLURM_CI_DIR/$d.pid")); run stop_slurm.sh first"
    fi
done
mkdir -p "$SLURM_CI_DIR"
chmod 755 "$SLURM_CI_DIR"

# ---------------------------------------------------------------- munge
# munged is strict about ownership/permissions of its key and directories.
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if munge_ok; then
    log "munge already working, not starting munged"
    rm -f "$SLURM_CI_DIR/munged.pid"
else
    install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge
    install -d -o munge -g munge -m 0711 /var/lib/munge
    install -d -o munge -g munge -m 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        log "creating munge key"
        if command -v mungekey >/dev/null; then mungekey --create --force --keyfile=/etc/munge/munge.key
        else dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none; fi
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid   # forks, writes pid file
    for _ in $(seq 50); do munge_ok && break; sleep 0.1; done
    munge_ok || { tail -n 20 /var/log/munge/munged.log >&2 || true; die "munged did not come up"; }
    cp /run/munge/munged.pid "$SLURM_CI_DIR/munged.pid"
fi
T2=$(now)

# ---------------------------------------------------------------- slurm.conf
NODE=$(hostname -s)                      # slurmd/slurmctld compare against the short hostname
NPROC=$(nproc)
CPUS=${SLURM_CI_CPUS:-$NPROC}
HW_MEM=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)
MEM=${SLURM_CI_MEM_MB:-$((HW_MEM > 1024 ? HW_MEM - 512 : HW_MEM))}
OVERRIDES=""
if [ "$CPUS" -gt "$NPROC" ] || [ "$MEM" -gt "$HW_MEM" ]; then
    OVERRIDES="SlurmdParameters=config_overrides"   # advertise more than the hardware has
fi
if [ "$SLURM_CI_ACCOUNTING" = 1 ]; then
    ACCT_CONF="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819"
else
    ACCT_CONF="AccountingStorageType=accounting_storage/none"
fi

mkdir -p "$SLURM_CI_DIR/ctld" "$SLURM_CI_DIR/d" /etc/slurm
rm -rf "${SLURM_CI_DIR:?}/ctld/"* "${SLURM_CI_DIR:?}/d/"*          # always a cold, empty cluster
if [ -f "$SLURM_CONF_FILE" ] && ! grep -q "generated by start_slurm.sh" "$SLURM_CONF_FILE"; then
    cp "$SLURM_CONF_FILE" "$SLURM_CONF_FILE.bak.$(date +%s)"
fi
cat > "$SLURM_CONF_FILE" <<EOF
# generated by start_slurm.sh - single-node CI cluster
ClusterName=$SLURM_CI_CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# no cgroups: usually unavailable or read-only in containers / microVMs
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
$ACCT_CONF
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_CI_DIR/jobcomp.log
ReturnToService=2
StateSaveLocation=$SLURM_CI_DIR/ctld
SlurmdSpoolDir=$SLURM_CI_DIR/d
SlurmctldPidFile=$SLURM_CI_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_CI_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_CI_DIR/slurmctld.log
SlurmdLogFile=$SLURM_CI_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldPort=6817
SlurmdPort=6818
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=2,sched_min_interval=0,batch_sched_delay=0
# cancel jobs whose afterok dependency failed instead of leaving them PENDING
# (DependencyNeverSatisfied) forever - datatrove's merge_stats job depends afterok on the array
DependencyParameters=kill_invalid_depend
# reject (instead of leaving PENDING forever) jobs that can never fit: fail fast in CI
EnforcePartLimits=ALL
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# keep finished jobs visible to 'scontrol show job' for 10 min
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
MaxArraySize=10001
$OVERRIDES
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=$SLURM_CI_PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
# a second partition with a time limit: the submission-time check of a too-long --time is tested on it
PartitionName=short Nodes=$NODE MaxTime=00:10:00 State=UP OverSubscribe=NO
EOF
chmod 644 "$SLURM_CONF_FILE"
[ -f /etc/slurm/cgroup.conf ] || echo "CgroupPlugin=autodetect" > /etc/slurm/cgroup.conf

# ---------------------------------------------------------------- accounting (optional)
if [ "$SLURM_CI_ACCOUNTING" = 1 ]; then
    DB=$SLURM_CI_DIR/mysql; DBRUN=$SLURM_CI_DIR/mysql-run   # both must be writable by user mysql
    rm -rf "$DB" "$DBRUN"; mkdir -p "$DB" "$DBRUN"; chown mysql:mysql "$DB" "$DBRUN"
    mariadb-install-db --no-defaults --user=mysql --datadir="$DB" --skip-test-db \
        --auth-root-authentication-method=socket >"$SLURM_CI_DIR/mariadb-install.log" 2>&1 \
        || { cat "$SLURM_CI_DIR/mariadb-install.log" >&2; die "mariadb-install-db failed"; }
    # private instance: own datadir + socket, TCP on loopback only; $! is mariadbd itself
    nohup /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DB" \
        --socket="$DBRUN/mysql.sock" --pid-file="$DBRUN/mariadbd.pid" \
        --bind-address=127.0.0.1 --port="$SLURM_CI_DB_PORT" --skip-name-resolve \
        --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 \
        --log-error="$DBRUN/mariadb.log" >/dev/null 2>&1 &
    echo $! > "$SLURM_CI_DIR/mariadb.pid"
    for _ in $(seq 150); do
        mariadb --socket="$DBRUN/mysql.sock" -u root -e "select 1" >/dev/null 2>&1 && break; sleep 0.1
    done
    mariadb --socket="$DBRUN/mysql.sock" -u root <<SQL || die "mariadb not reachable"
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmci';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL
    cat > /etc/slurm/slurmdbd.conf <<EOF
# generated by start_slurm.sh
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$SLURM_CI_DB_PORT
StorageUser=slurm
StoragePass=slurmci
StorageLoc=slurm_acct_db
LogFile=$SLURM_CI_DIR/slurmdbd.log
PidFile=$SLURM_CI_DIR/slurmdbd.pid
EOF
    chmod 600 /etc/slurm/slurmdbd.conf          # slurmdbd refuses a config readable by others
    /usr/sbin/slurmdbd || die "slurmdbd failed to start"   # forks, writes PidFile
    for _ in $(seq 150); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 0.2; done
    sacctmgr -n list cluster >/dev/null 2>&1 || die "slurmdbd not answering"
    # register the cluster before slurmctld starts (otherwise it registers itself, a bit later)
    sacctmgr -i add cluster "$SLURM_CI_CLUSTER" >/dev/null 2>&1 || true
fi
T3=$(now)

# ---------------------------------------------------------------- slurmctld + slurmd
rm -f "$SLURM_CI_DIR/slurmctld.pid" "$SLURM_CI_DIR/slurmd.pid"
/usr/sbin/slurmctld -c -i || die "slurmctld failed to start"   # -c cold start, -i ignore bad state; forks
/usr/sbin/slurmd -N "$NODE" || die "slurmd failed to start"     # forks
T4=$(now)

deadline=$(( $(date +%s) + SLURM_CI_TIMEOUT ))
state=""
while [ "$(date +%s)" -lt "$deadline" ]; do
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.2
done
[ "$state" = idle ] || die "node $NODE not idle after ${SLURM_CI_TIMEOUT}s (state='$state')"
if [ "$SLURM_CI_ACCOUNTING" = 1 ]; then   # wait until slurmctld has registered with slurmdbd
    for _ in $(seq 100); do sacct -n -a -X -S now-1minute >/dev/null 2>&1 && break; sleep 0.2; done
fi
T5=$(now)

log "slurm up: node=$NODE cpus=$CPUS mem=${MEM}MB partition=$SLURM_CI_PARTITION accounting=$SLURM_CI_ACCOUNTING dir=$SLURM_CI_DIR"
log "$(awk -v a="$T0" -v b="$T1" -v c="$T2" -v d="$T3" -v e="$T4" -v f="$T5" 'BEGIN{printf "timings: install-check %.1fs, munge %.1fs, accounting %.1fs, slurm daemons %.1fs, wait-idle %.1fs, total %.1fs", b-a, c-b, d-c, e-d, f-e, f-a}')"
sinfo
