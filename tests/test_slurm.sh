#!/usr/bin/env bash
# test_slurm.sh - experiments/slurm/ on a real single-node Slurm started by this test: munged,
# slurmctld and slurmd (Debian's packages; `make test` installs them) with a key, a config
# (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none: no systemd, no cgroups) and state
# folders in a temp folder; the demo-shaped experiment (3 categories x k0, k1_s0, k2_s0) is
# submitted by submit.sh as a 3-task array plus the dependent report job; the results equal an
# unsharded run (cmp, lib_shard.sh) and the report ran. Then a task is cancelled mid-run
# (scancel while it waits for a unit lock this test holds: k0 of its category done, k1_s0 not),
# the report job's dependency can no longer be met, and a resubmission completes with identical
# results, skipping what was finished. The daemons this test started are stopped by pid.
# Also (without root): `make reproduce-slurm` dry run prints the two sbatch commands.
# Needs root (the daemons run as root): else skipped (exit 77). ~1 min on 2 cores.
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/lib_fixtures.sh"
. "$REPO/tests/lib_shard.sh"
fail=0
bad() { echo "FAIL $*"; fail=1; }

# ---- make reproduce-slurm, dry run: no Slurm needed ----
out=$(make -s -C "$REPO" reproduce-slurm-submit SHARDS=4 PARTITION=cpu ACCOUNT=lab TIME=2:00:00 MEM=3G CPUS=8 \
      WINCLIP_SLURM_DRY_RUN=1 EXPERIMENTS="E01_zero_shot_mvtec E03_few_shot_mvtec" 2>&1)
for want in "--array=0-3" "--partition=cpu" "--account=lab" "--time=2:00:00" "--mem=3G" "--cpus-per-task=8" \
            "--dependency=afterok:<array id>" "experiments: E01_zero_shot_mvtec E03_few_shot_mvtec; shards: 4"; do
    grep -q -- "$want" <<<"$out" || { bad "make reproduce-slurm dry run: '$want' missing"; echo "$out"; }
done
bash "$REPO/experiments/slurm/submit.sh" 0 demo >/dev/null 2>&1
[ $? = 2 ] || bad "submit.sh 0 demo: usage error expected"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP test_slurm.sh: needs root to start munged, slurmctld and slurmd (CI runs it as root)"
    [ $fail = 0 ] && exit 77 || exit 1
fi
for tool in munged slurmctld slurmd sbatch squeue scontrol scancel sinfo flock; do
    command -v $tool >/dev/null && continue
    if [ "${WINCLIP_REQUIRE_FIXTURES:-}" = 1 ]; then echo "FAIL test_slurm.sh: $tool not found (make deps installs it)"; exit 1; fi
    echo "SKIP test_slurm.sh: $tool not found (make deps installs slurmctld slurmd munge slurm-client)"
    [ $fail = 0 ] && exit 77 || exit 1
done
[ -n "$SHARED" ] || need_fixture test_slurm.sh "(WINCLIP_SHARED not set)"
SHARED=$(cd "$SHARED" && pwd)
export WINCLIP_VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
need_fixture test_slurm.sh "$WINCLIP_VOCAB"

T=$(mktemp -d /tmp/winclip_slurm.XXXXXX)
chmod 755 "$T"
daemons= holder= jobs=
stop_all() {
    [ -n "$holder" ] && kill "$holder" 2>/dev/null
    [ -n "$jobs" ] && scancel $jobs 2>/dev/null
    for _ in $(seq 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
    for p in $daemons; do kill "$p" 2>/dev/null; done
    for p in $daemons; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap stop_all EXIT

# ---- munge with its own key and socket ----
mkdir -p "$T/munge" "$T/etc" "$T/state" "$T/spool" "$T/log"
chmod 700 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
munged -F -f --socket="$T/munge/munge.socket" --key-file="$T/munge/munge.key" --pid-file="$T/munge/munged.pid" \
    --log-file="$T/log/munged.log" --seed-file="$T/munge/munged.seed" >"$T/log/munged.out" 2>&1 & daemons="$daemons $!"
for _ in $(seq 100); do [ -S "$T/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.socket" ] || { echo "FAIL munged did not start"; cat "$T/log/munged.log"; exit 1; }

# ---- slurmctld + slurmd on free ports, this host as the only node, 2 CPUs ----
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=16817
while ! port_free $port || ! port_free $((port + 1)); do port=$((port + 2)); done
node=$(hostname -s)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 / 2)}' /proc/meminfo)
cat >"$T/etc/slurm.conf" <<EOF2
ClusterName=winclip-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem_mb State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF2
export SLURM_CONF=$T/etc/slurm.conf
slurmctld -D -c -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 & daemons="$daemons $!"
slurmd -D -f "$SLURM_CONF" -N "$node" >"$T/log/slurmd.out" 2>&1 & daemons="$daemons $!"
for _ in $(seq 150); do [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break; sleep 0.2; done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] ||
    { echo "FAIL slurm did not come up"; sinfo; tail -20 "$T/log/slurmctld.log" "$T/log/slurmd.log" "$T"/log/*.out; exit 1; }

# ---- the experiment and its unsharded reference ----
"$BIN" synth --out "$T/data" --categories 3 --size 64 --train 3 --test 3 >/dev/null || { echo "FAIL synth"; exit 1; }
MODEL=$SHARED/fixtures/tiny_clip/model.h5
[ -f "$MODEL" ] || { MODEL=$T/model.h5; "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null; }
cat >"$T/sl.conf" <<EOF2
include   = $REPO/configs/dataset/synthetic.conf
include   = $REPO/configs/method/winclip_few_shot.conf
table     = demo
weights   = $MODEL
root      = $T/data
k_shots   = 0,1,2
seeds     = 0
save_maps = true
EOF2
UNITS=9
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$BIN" run "$T/sl.conf" --results "$T/R0" >/dev/null 2>"$T/err0" ||
    { echo "FAIL unsharded run"; cat "$T/err0"; exit 1; }

# submit SHARDS RESULTS: submit.sh through the make target's variables; sets ARRAY and REPORT
submit() {
    local out
    out=$(WINCLIP_RESULTS=$2 WINCLIP_BIN=$BIN WINCLIP_SLURM_MEM= WINCLIP_SLURM_CPUS=1 WINCLIP_SLURM_TIME=0:10:00 \
          WINCLIP_SLURM_REPORT_TIME=0:05:00 WINCLIP_REPORT_ARGS="--tables $2/tables" \
          bash "$REPO/experiments/slurm/submit.sh" "$1" "$T/sl.conf" 2>&1) || { echo "FAIL submit.sh: $out"; exit 1; }
    ARRAY=$(sed -n 's/^winclip slurm: array job \([0-9]*\) .*/\1/p' <<<"$out")
    REPORT=$(sed -n 's/^winclip slurm: report job \([0-9]*\) .*/\1/p' <<<"$out")
    [ -n "$ARRAY" ] && [ -n "$REPORT" ] || { echo "FAIL submit.sh printed no job ids: $out"; exit 1; }
    jobs="$jobs $ARRAY $REPORT"
}
# wait_gone JOBID... : until squeue lists none of them (bounded: 120 s)
wait_gone() {
    local ids
    ids=$(tr ' ' ',' <<<"$*")
    for _ in $(seq 600); do [ -z "$(squeue -h -j "$ids" 2>/dev/null)" ] && return 0; sleep 0.2; done
    echo "FAIL jobs $* still queued after 120 s"; squeue; return 1
}
# computed_units LOG...: "N once" when the logs' unit lines (one per computed unit, also from a
# task killed before its final line) name N units, none twice; else "N, twice: ..."
computed_units() {
    local dirs twice
    dirs=$(grep -h '  i-AUROC' "$@" | awk '{print $1}' | sort)
    twice=$(uniq -d <<<"$dirs" | tr '\n' ' ')
    if [ -n "$twice" ]; then echo "$(grep -c . <<<"$dirs"), twice: $twice"; else echo "$(grep -c . <<<"$dirs") once"; fi
}
# task_states ARRAY: "COMPLETED COMPLETED ..." of its tasks
task_states() { scontrol -o show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort | tr '\n' ' '; }

# ---- a 3-task array and the report job ----
submit 3 "$T/R1"
wait_gone "$ARRAY" "$REPORT" || fail=1
[ "$(task_states "$ARRAY")" = "COMPLETED COMPLETED COMPLETED " ] || { bad "array tasks: $(task_states "$ARRAY")"; cat "$T"/R1/slurm-logs/*; }
[ "$(task_states "$REPORT")" = "COMPLETED " ] || { bad "report job: $(task_states "$REPORT")"; cat "$T"/R1/slurm-logs/report-*; }
[ "$(computed_units "$T"/R1/slurm-logs/shard-*.log)" = "$UNITS once" ] ||
    bad "array: $(computed_units "$T"/R1/slurm-logs/shard-*.log): $UNITS units expected, each once"
"$BIN" report --results "$T/R0" --tables "$T/R0/tables" sl >/dev/null 2>&1 || bad "report of the unsharded run"
cmp -s "$T/R0/sl/summary.tsv" "$T/R1/sl/summary.tsv" || bad "the report job's summary.tsv differs from the unsharded run's"
grep -q "threads" "$T/R1/slurm-logs/shard-${ARRAY}_0.log" || bad "shard log has no header"
same_results "$T/R0" "$T/R1" "slurm array" $UNITS || fail=1

# ---- a task cancelled mid-run, then a resubmission ----
mkdir -p "$T/R2/.locks/sl/synthetic/synth_fabric"
mkfifo "$T/go"
lock=$T/R2/.locks/sl/synthetic/synth_fabric/k1_s0.lock
flock -x "$lock" -c "echo 'pid 4321 on the test' >'$lock'; read x <'$T/go'" & holder=$!
for _ in $(seq 100); do [ -s "$lock" ] && break; sleep 0.1; done
submit 3 "$T/R2"
victim=
for _ in $(seq 600); do
    victim=$(grep -l "synth_fabric/k1_s0: being computed by pid 4321 on the test: waiting" "$T"/R2/slurm-logs/shard-*.log 2>/dev/null)
    [ -n "$victim" ] && break
    sleep 0.2
done
[ -n "$victim" ] || { echo "FAIL no task reached the held lock"; cat "$T"/R2/slurm-logs/*; exit 1; }
task=$(sed 's/.*_\([0-9]*\)\.log$/\1/' <<<"$victim")
[ -e "$T/R2/sl/synthetic/synth_fabric/k0/done" ] || bad "cancelled task: k0 of its category should be done before k1_s0"
scancel "${ARRAY}_$task"
wait_gone "${ARRAY}_$task" || fail=1
echo go >"$T/go"; wait $holder; holder=
for _ in $(seq 600); do [ "$(squeue -h -j "$ARRAY" 2>/dev/null)" = "" ] && break; sleep 0.2; done
[ -e "$T/R2/sl/synthetic/synth_fabric/k1_s0/done" ] && bad "the cancelled task's unit was finished anyway"
grep -q "CANCELLED" <<<"$(task_states "$ARRAY")" || bad "array after scancel: $(task_states "$ARRAY")"
state=$(squeue -h -j "$REPORT" -o "%T %r" 2>/dev/null)
case $state in "PENDING Dependency"*) ;; *) bad "report job after a cancelled task: '$state', PENDING on its dependency expected" ;; esac
scancel "$REPORT"
wait_gone "$REPORT" || fail=1
first=$ARRAY
submit 3 "$T/R2"
wait_gone "$ARRAY" "$REPORT" || fail=1
[ "$(task_states "$ARRAY")" = "COMPLETED COMPLETED COMPLETED " ] || { bad "resubmitted tasks: $(task_states "$ARRAY")"; cat "$T"/R2/slurm-logs/shard-"$ARRAY"_*; }
[ "$(task_states "$REPORT")" = "COMPLETED " ] || bad "resubmitted report job: $(task_states "$REPORT")"
[ "$(computed_units "$T"/R2/slurm-logs/shard-*.log)" = "$UNITS once" ] ||
    bad "cancelled + resubmitted: $(computed_units "$T"/R2/slurm-logs/shard-*.log): $UNITS units expected, each once"
grep -q "synth_fabric/k0: done, skipped" "$T"/R2/slurm-logs/shard-"$ARRAY"_"$task".log ||
    bad "resubmission: the cancelled task's finished unit was not skipped"
same_results "$T/R0" "$T/R2" "cancelled and resubmitted" $UNITS || fail=1
cmp -s "$T/R0/sl/summary.tsv" "$T/R2/sl/summary.tsv" || bad "resubmitted report: summary.tsv differs from the unsharded run's"
exit $fail
