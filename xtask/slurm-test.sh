#!/usr/bin/env bash
# slurm-test.sh: runs the example queue on a real, throw-away, single-node Slurm cluster and checks
# that the sharded + merged result is byte-identical to a one-machine run.
#
#   xtask/slurm-test.sh [BT]         BT: the bt binary (or env BT; default
#                                    ${CARGO_TARGET_DIR:-target}/debug/bt); it is not built here
#   xtask/slurm-test.sh --cluster-only   bring the cluster up, run a trivial array + dependent job
#                                    (to tell a cluster problem from a bt problem)
#
# What it does:
#   1. installs Slurm and MUNGE from Debian's packages if missing (needs root and apt);
#   2. starts munged, slurmctld and slurmd on 127.0.0.1 with a private key, socket, config, state
#      and logs under one temp dir (nothing in /etc, /run or systemd; free ports are picked);
#   3. `bt slurm script` -> the user-facing driver, run as is: a 4-task array job + merge (afterok);
#   4. checks every task and the merge COMPLETED (scontrol show job) and cmp's summary.csv with a
#      one-machine `bt run` of the same queue;
#   5. resume: truncates shard 1 mid-line, deletes shard 3, resubmits only `--array=1,3` plus the
#      merge, and compares again (what docs/distributed.md tells users to do);
#   6. stops every daemon it started, by pid, and removes the temp dir, on success or failure.
# Prints one `slurm-test: PASS ...` or `slurm-test: FAIL ...` line at the end (exit 0 / 1).
# Tested with Slurm 22.05 + MUNGE 0.5 (Debian 12), as root, without systemd.
set -euo pipefail

SHARDS=4
JOB_TIMEOUT=120 # seconds to wait for each batch of jobs
PREFIX=bt-slurm-test

T0=$(date +%s.%N)
TMP=
STATUS=FAIL
DAEMON_LOGS=1 # show the daemons' logs on failure: while starting, or when jobs hang

log() { printf 'slurm-test: %s\n' "$*" >&2; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
fail() {
  log "error: $*"
  exit 1
}

# --- arguments ----------------------------------------------------------------------------------
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER_ONLY=0
if [ "${1:-}" = --cluster-only ]; then
  CLUSTER_ONLY=1
  shift
fi
BT=${1:-${BT:-}}
if [ "$CLUSTER_ONLY" = 0 ]; then
  if [ -z "$BT" ]; then
    target=${CARGO_TARGET_DIR:-target}
    case $target in /*) ;; *) target=$ROOT/$target ;; esac
    BT=$target/debug/bt
  fi
  [ -x "$BT" ] || fail "no bt binary at $BT: build it (cargo build -p bt-cli) and pass its path"
  BT=$(cd "$(dirname "$BT")" && pwd)/$(basename "$BT")
  for f in data/queues/example.ron data/GOOG.csv; do
    [ -f "$ROOT/$f" ] || fail "missing $ROOT/$f"
  done
fi

if [ "$(id -u)" != 0 ]; then
  # munged must run as user munge and slurmd as root.
  command -v sudo >/dev/null || fail "run as root (it installs packages and starts Slurm daemons)"
  exec sudo -E "$0" "$@"
fi

# A private cluster must not pick up the caller's Slurm settings (or an enclosing job's).
while IFS= read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SQUEUE|SALLOC|SRUN)_' || true)

# --- stopping daemons by pid ----------------------------------------------------------------------
# stop_pid PIDFILE COMM: TERM (then KILL) the pid recorded in PIDFILE if it is still that program.
stop_pid() {
  local f=$1 comm=$2 pid _
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# stop_cluster DIR: cancel its jobs, shut Slurm down, stop the daemons recorded under DIR.
stop_cluster() {
  local dir=$1 _
  if [ -f "$dir/slurm.conf" ] && [ -s "$dir/slurmctld.pid" ] &&
    kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    # The cluster is private: every job in it is ours.
    SLURM_CONF=$dir/slurm.conf scancel --quiet --user=root 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(SLURM_CONF=$dir/slurm.conf squeue -h 2>/dev/null)" ] && break
      sleep 0.1
    done
    SLURM_CONF=$dir/slurm.conf scontrol shutdown >/dev/null 2>&1 || true
  fi
  stop_pid "$dir/slurmd.pid" slurmd
  stop_pid "$dir/slurmctld.pid" slurmctld
  stop_pid "$dir/munge/munged.pid" munged
}

# Leftovers of a run that was killed too hard to clean up (SIGKILL, power loss).
reap_stale() {
  local d
  for d in "${TMPDIR:-/tmp}/$PREFIX".*; do
    [ -d "$d" ] || continue
    if [ -s "$d/test.pid" ] && kill -0 "$(cat "$d/test.pid")" 2>/dev/null; then continue; fi
    log "removing the leftovers of an earlier run: $d"
    stop_cluster "$d"
    rm -rf "$d"
  done
}

on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$TMP" ]; then
    if [ "$rc" != 0 ] && [ "$DAEMON_LOGS" = 1 ] && [ -d "$TMP/log" ]; then
      log "last lines of the daemon logs:"
      tail -n 8 "$TMP"/log/*.log "$TMP"/munge/munged.log 2>/dev/null | sed 's/^/    /' >&2 || true
    fi
    stop_cluster "$TMP"
    rm -rf "$TMP"
  fi
  [ "$rc" = 0 ] && STATUS=PASS
  printf 'slurm-test: %s in %ss (wall time of the whole test)\n' "$STATUS" "$(elapsed "$T0")"
  exit "$rc"
}

# --- 1. install -------------------------------------------------------------------------------------
install_slurm() {
  local b missing=0
  for b in slurmctld slurmd sbatch munged; do command -v "$b" >/dev/null || missing=1; done
  [ -x /usr/sbin/munged ] || missing=1
  [ "$missing" = 0 ] && return 0
  local t
  t=$(date +%s.%N)
  log "installing slurmctld slurmd slurm-client munge from apt"
  # --no-install-recommends: 8 small packages instead of slurm-wlm's ~43.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
  log "installed in $(elapsed "$t")s"
}

# --- 2. cluster -------------------------------------------------------------------------------------
port_free() { ! ss -Htln "sport = :$1" | grep -q .; }

pick_ports() {
  local p
  for p in $(seq 6817 2 6899); do
    if port_free "$p" && port_free $((p + 1)); then
      CTLD_PORT=$p
      return 0
    fi
  done
  fail "no two free adjacent ports in 6817-6900"
}

start_cluster() {
  local t host hw st="" sock=$TMP/munge/munge.socket _
  t=$(date +%s.%N)
  host=$(hostname -s)
  mkdir -p "$TMP/state" "$TMP/spool" "$TMP/log" "$TMP/munge" "$TMP/out"
  chmod 755 "$TMP" # the munge user must reach its socket directory

  # MUNGE: a fresh key and socket of our own; munged runs as the packaged munge user.
  dd if=/dev/urandom of="$TMP/munge/munge.key" bs=1024 count=1 status=none
  chown -R munge:munge "$TMP/munge"
  chmod 711 "$TMP/munge"
  chmod 400 "$TMP/munge/munge.key"
  runuser -u munge -- /usr/sbin/munged --socket="$sock" --key-file="$TMP/munge/munge.key" \
    --pid-file="$TMP/munge/munged.pid" --log-file="$TMP/munge/munged.log" \
    --seed-file="$TMP/munge/munged.seed"
  for _ in $(seq 50); do
    munge -S "$sock" -n 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -S "$sock" -n | unmunge -S "$sock" >/dev/null || fail "munged does not answer on $sock"

  pick_ports
  # This machine's real topology, e.g. "CPUs=2 Boards=1 ... RealMemory=24105".
  hw=$(slurmd -C | head -1 | sed 's/^NodeName=[^ ]* //')
  # host(127.0.0.1) and NodeAddr: no DNS lookups (without them slurmd stalls minutes).
  # batch_sched_delay=0: else every scheduling wave waits ~3 s.
  # No cgroups, no accounting daemon: plain process tracking, sacct unavailable (use scontrol).
  cat >"$TMP/slurm.conf" <<EOF
ClusterName=bttest
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$((CTLD_PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/log/slurmctld.log
SlurmdLogFile=$TMP/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$TMP/slurm.conf
  slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start (see $TMP/log/slurmctld.log)"
  slurmd -f "$SLURM_CONF" -N "$host" || fail "slurmd did not start (see $TMP/log/slurmd.log)"
  for _ in $(seq 150); do
    st=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
    [ "$st" = idle ] && break
    sleep 0.2
  done
  [ "$st" = idle ] || fail "node $host is '$st', not idle after 30 s"
  DAEMON_LOGS=0
  log "cluster up in $(elapsed "$t")s: slurmctld pid $(cat "$TMP/slurmctld.pid"), slurmd pid" \
    "$(cat "$TMP/slurmd.pid"), munged pid $(cat "$TMP/munge/munged.pid"), port $CTLD_PORT"
}

# --- 3. jobs ----------------------------------------------------------------------------------------
# wait_jobs ID...: poll squeue until none of the jobs is pending or running.
wait_jobs() {
  local ids start
  ids=$(
    IFS=,
    echo "$*"
  )
  start=$(date +%s)
  while [ -n "$(squeue -h -j "$ids" 2>/dev/null)" ]; do
    if (($(date +%s) - start >= JOB_TIMEOUT)); then
      squeue >&2 || true
      DAEMON_LOGS=1
      fail "jobs $ids still queued or running after ${JOB_TIMEOUT}s"
    fi
    sleep 0.25
  done
}

# check_completed ID COUNT LOG: the job (all COUNT array tasks) ended COMPLETED; else show the
# failed tasks and the end of their logs (LOG, with %a for the array index).
check_completed() {
  local id=$1 count=$2 logpat=$3 lines bad task state code
  lines=$(scontrol -o show job "$id" 2>/dev/null) || fail "scontrol knows no job $id"
  bad=$(grep -v 'JobState=COMPLETED' <<<"$lines" || true)
  if [ -n "$bad" ]; then
    while IFS= read -r l; do
      task=$(grep -o 'ArrayTaskId=[0-9]*' <<<"$l" | cut -d= -f2 || true)
      state=$(grep -o 'JobState=[A-Z_]*' <<<"$l" | cut -d= -f2)
      code=$(grep -o ' ExitCode=[0-9:]*' <<<"$l" | cut -d= -f2)
      log "job $id${task:+ task $task}: $state (exit code $code); end of ${logpat//%a/$task}:"
      tail -n 5 "${logpat//%a/$task}" 2>/dev/null | sed 's/^/    /' >&2 || true
    done <<<"$bad"
    fail "job $id did not complete"
  fi
  [ "$(wc -l <<<"$lines")" = "$count" ] || fail "job $id: expected $count task(s), scontrol shows $(wc -l <<<"$lines")"
}

cluster_only() {
  local a m
  # shellcheck disable=SC2016 # expanded in the job
  a=$(sbatch --parsable --array=0-$((SHARDS - 1)) --mem=100M --output="$TMP/out/t-%a.out" \
    --wrap='echo "task $SLURM_ARRAY_TASK_ID of $SLURM_ARRAY_TASK_COUNT" > '"$TMP"'/out/task-$SLURM_ARRAY_TASK_ID')
  m=$(sbatch --parsable --dependency="afterok:$a" --kill-on-invalid-dep=yes --mem=100M \
    --output="$TMP/out/m.out" --wrap="cat $TMP/out/task-* > $TMP/out/all")
  wait_jobs "$a" "$m"
  check_completed "$a" "$SHARDS" "$TMP/out/t-%a.out"
  check_completed "$m" 1 "$TMP/out/m.out"
  [ "$(wc -l <"$TMP/out/all")" = "$SHARDS" ] || fail "the dependent job saw $(wc -l <"$TMP/out/all") task outputs"
  log "trivial array ($SHARDS tasks) + dependent job: COMPLETED"
}

bt_test() {
  local work=$TMP/work run=$TMP/work/run queue=$TMP/work/queues/example.ron t out a m
  # The example queue refers to ../GOOG.csv: keep that layout.
  mkdir -p "$work/queues"
  cp "$ROOT/data/queues/example.ron" "$work/queues/"
  cp "$ROOT/data/GOOG.csv" "$work/"

  t=$(date +%s.%N)
  "$BT" -q run "$queue" --out "$TMP/single" --no-report >/dev/null ||
    fail "the one-machine bt run failed"
  log "one-machine run: $(elapsed "$t")s"

  # The user-facing path: generate the driver and run it as a user would. Small frames in the
  # result logs (sbatch passes the environment on), so that cutting a log half way leaves
  # whole frames for the resume below.
  export BT_FRAME_RECORDS=8
  "$BT" slurm script "$queue" --shards "$SHARDS" --cpus-per-task 1 --mem 1G --time 00:10:00 \
    --out "$run" >"$TMP/submit.sh" || fail "bt slurm script failed"
  t=$(date +%s.%N)
  out=$(bash "$TMP/submit.sh") || fail "the generated driver failed: $out"
  log "driver: ${out%%$'\n'*}"
  a=$(sed -n 's/^submitted array job \([0-9]*\) .* merge job \([0-9]*\) .*/\1/p' <<<"$out")
  m=$(sed -n 's/^submitted array job \([0-9]*\) .* merge job \([0-9]*\) .*/\2/p' <<<"$out")
  if [ -z "$a" ] || [ -z "$m" ]; then fail "cannot read the job ids from the driver's output: $out"; fi
  wait_jobs "$a" "$m"
  check_completed "$a" "$SHARDS" "$run/slurm/logs/shard-%a.out"
  check_completed "$m" 1 "$run/slurm/logs/merge.out"
  log "array job $a ($SHARDS tasks) + merge job $m: COMPLETED in $(elapsed "$t")s"
  cmp "$TMP/single/summary.csv" "$run/summary.csv" ||
    fail "merged summary.csv differs from the one-machine run"
  log "merged summary.csv == one-machine summary.csv ($(($(wc -l <"$run/summary.csv") - 1)) rows, $(wc -c <"$run/summary.csv") bytes)"

  # Resume: shard 1 dies mid-write (its log cut half way, inside a frame), shard 3 is lost;
  # resubmit only those indices, as docs/distributed.md says, then the merge.
  local bytes
  bytes=$(stat -c %s "$run/shard-1/results.btr")
  truncate -s $((bytes / 2)) "$run/shard-1/results.btr"
  rm -rf "$run/shard-3" "$run/results.btr" "$run/summary.csv" "$run/summary.parquet"
  t=$(date +%s.%N)
  a=$(sbatch --parsable --array=1,3 "$run/slurm/shards.sbatch")
  m=$(sbatch --parsable --dependency="afterok:$a" --kill-on-invalid-dep=yes "$run/slurm/merge.sbatch")
  wait_jobs "$a" "$m"
  check_completed "$a" 2 "$run/slurm/logs/shard-%a.out"
  check_completed "$m" 1 "$run/slurm/logs/merge.out"
  local resumed
  resumed=$(sed -n 's/.*, \([0-9][0-9]*\) resumed.*/\1/p' "$run/slurm/logs/shard-1.out" | tail -n 1)
  [ -n "$resumed" ] && [ "$resumed" -gt 0 ] ||
    fail "shard 1 did not resume the simulations of its surviving frames (see its log)"
  cmp "$TMP/single/summary.csv" "$run/summary.csv" ||
    fail "after the resubmission, merged summary.csv differs from the one-machine run"
  log "resubmitted --array=1,3 (shard 1 resumed $resumed, torn frame dropped) + merge: COMPLETED in $(elapsed "$t")s, summary.csv identical again"
}

main() {
  reap_stale
  trap on_exit EXIT
  trap 'log interrupted; exit 130' INT
  trap 'log terminated; exit 143' TERM
  install_slurm
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$PREFIX.XXXXXX")
  echo $$ >"$TMP/test.pid"
  start_cluster
  if [ "$CLUSTER_ONLY" = 1 ]; then cluster_only; else bt_test; fi
}
main
