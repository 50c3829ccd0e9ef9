#!/usr/bin/env bash
# test_shard.sh - `winclip run --shard I/N` and the per-unit / per-category locks: N = 1, 2, 3
# shards of the demo-shaped experiment (3 categories x k0, k1_s0, k2_s0), run one after another
# and then concurrently, give results identical to one unsharded run (every file cmp-identical,
# except provenance.txt with its time and date and the done marker's line for it), every unit
# computed exactly once (the runs' "units computed" lines sum to 9) and the same backbone passes
# in total; `--plan --shards N` lists every category once and matches the passes; two concurrent
# unsharded runs on one results folder both succeed and compute each unit once; a run that finds
# a unit's lock held waits for it (said so); a shard killed with kill -9 is rerun to identical
# results; bad --shard values are usage errors.
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/lib_fixtures.sh"
. "$REPO/tests/lib_shard.sh"
[ -n "$SHARED" ] || need_fixture test_shard.sh "(WINCLIP_SHARED not set)"
SHARED=$(cd "$SHARED" && pwd)
export WINCLIP_VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
need_fixture test_shard.sh "$WINCLIP_VOCAB"
T=$(mktemp -d /tmp/winclip_shard.XXXXXX)
holder=
trap '[ -n "$holder" ] && kill $holder 2>/dev/null; rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

"$BIN" synth --out "$T/data" --categories 3 --size 64 --train 3 --test 3 >/dev/null || { echo "FAIL synth"; exit 1; }
MODEL=$SHARED/fixtures/tiny_clip/model.h5
if [ ! -f "$MODEL" ]; then
    MODEL=$T/model.h5
    "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null || { echo "FAIL make-random-model"; exit 1; }
fi
cat >"$T/sh.conf" <<EOF2
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

check_same() { same_results "$T/R0" "$1" "$2" $UNITS || fail=1; }

# ---- the reference: one unsharded run ----
"$BIN" run "$T/sh.conf" --results "$T/R0" >"$T/log0" 2>"$T/err0" || { bad "unsharded run"; cat "$T/err0"; exit 1; }
P0=$(run_total passes "$T/log0")
[ "$(run_total computed "$T/log0")" = $UNITS ] || bad "unsharded: $UNITS units computed"
[ "$P0" -gt 0 ] || bad "unsharded: no backbone passes counted"
[ "$(find "$T/R0/sh" -name metrics.tsv | wc -l)" = $UNITS ] || bad "unsharded: $UNITS metrics.tsv expected"

for N in 1 2 3; do
    # ---- the plan: every category in exactly one shard, the passes as run ----
    "$BIN" run --plan "$T/sh.conf" --shards $N >"$T/plan$N" 2>&1 || { bad "--plan --shards $N"; cat "$T/plan$N"; }
    for c in synth_grid synth_fabric synth_disc; do
        [ "$(grep -c "^    synthetic/$c: k0 k1_s0 k2_s0" "$T/plan$N")" = 1 ] || bad "plan $N: $c not in exactly one shard"
    done
    [ "$(grep -c '^  shard [0-9]*/'$N': ' "$T/plan$N")" = $N ] || bad "plan $N: $N shards listed"
    grep -q "total: $P0 backbone passes" "$T/plan$N" || { bad "plan $N: total passes != $P0 (the run's)"; cat "$T/plan$N"; }

    # ---- one after another ----
    for ((i = 0; i < N; i++)); do
        "$BIN" run "$T/sh.conf" --results "$T/S$N" --shard $i/$N >"$T/s$N.$i" 2>"$T/se$N.$i" ||
            { bad "shard $i/$N"; cat "$T/se$N.$i"; }
    done
    [ "$(run_total computed "$T"/s$N.*)" = $UNITS ] || bad "sequential $N shards: units computed $(run_total computed "$T"/s$N.*) != $UNITS"
    [ "$(run_total passes "$T"/s$N.*)" = "$P0" ] || bad "sequential $N shards: backbone passes $(run_total passes "$T"/s$N.*) != $P0"
    check_same "$T/S$N" "sequential $N shards"

    # ---- concurrently ----
    pids=
    for ((i = 0; i < N; i++)); do
        "$BIN" run "$T/sh.conf" --results "$T/C$N" --shard $i/$N >"$T/c$N.$i" 2>"$T/ce$N.$i" &
        pids="$pids $!"
    done
    for p in $pids; do wait $p || bad "concurrent $N shards: a shard failed"; done
    [ "$(run_total computed "$T"/c$N.*)" = $UNITS ] || bad "concurrent $N shards: units computed $(run_total computed "$T"/c$N.*) != $UNITS"
    [ "$(run_total passes "$T"/c$N.*)" = "$P0" ] || bad "concurrent $N shards: backbone passes $(run_total passes "$T"/c$N.*) != $P0"
    check_same "$T/C$N" "concurrent $N shards"
done

# ---- a plan over two experiments counts the features they share once (as the cache does) ----
sed 's/^seeds .*/seeds = 0\ntemperature = 0.07/' "$T/sh.conf" >"$T/sh2.conf"
"$BIN" run --plan "$T/sh.conf" "$T/sh2.conf" --shards 2 >"$T/plan2x" 2>&1 || { bad "--plan of two experiments"; cat "$T/plan2x"; }
grep -q "^  total: $P0 backbone passes; largest shard" "$T/plan2x" || { bad "plan of two: shared features not counted once"; cat "$T/plan2x"; }
cp -a "$T/R0" "$T/R0x"
"$BIN" run "$T/sh2.conf" --results "$T/R0x" >"$T/log2x" 2>&1 || { bad "second experiment"; cat "$T/log2x"; }
[ "$(run_total passes "$T/log2x")" = 0 ] || bad "second experiment over the same features: $(run_total passes "$T/log2x") backbone passes, 0 expected"

# ---- the plan follows the per-component cache: scales 2 after scales 2,3 needs no pass, 2,3
# after 2 alone needs one pass per image (the k = 3 windows), as the runs do ----
printf 'include = %s\nscales = 2\n' "$T/sh.conf" >"$T/sh_k2.conf"
"$BIN" run --plan "$T/sh.conf" "$T/sh_k2.conf" >"$T/plan_sub" 2>&1 || { bad "--plan subset"; cat "$T/plan_sub"; }
grep -q "^  total: $P0 backbone passes; largest shard" "$T/plan_sub" || { bad "plan: scales 2 after 2,3 not free"; cat "$T/plan_sub"; }
cp -a "$T/R0" "$T/R0k2"
"$BIN" run "$T/sh_k2.conf" --results "$T/R0k2" >"$T/logk2" 2>&1 || { bad "scales 2 run"; cat "$T/logk2"; }
[ "$(run_total passes "$T/logk2")" = 0 ] || bad "scales 2 after 2,3: $(run_total passes "$T/logk2") backbone passes, 0 expected"
k2=$("$BIN" run --plan "$T/sh_k2.conf" 2>&1 | sed -n 's/^  total: \([0-9]*\) backbone passes.*/\1/p')
"$BIN" run --plan "$T/sh_k2.conf" "$T/sh.conf" >"$T/plan_sup" 2>&1 || { bad "--plan superset"; cat "$T/plan_sup"; }
both=$(sed -n 's/^  total: \([0-9]*\) backbone passes; largest.*/\1/p' "$T/plan_sup")
[ -n "$k2" ] && [ "$both" -gt "$k2" ] || bad "plan: scales 2,3 after 2 should add passes ($k2 -> $both)"

# ---- two experiments sharing the feature cache, concurrently (issue 9, fault 6): no cache file is
# taken for corrupt, each image is encoded once ----
"$BIN" run "$T/sh.conf" --results "$T/F" >"$T/f1" 2>"$T/fe1" & p1=$!
"$BIN" run "$T/sh2.conf" --results "$T/F" >"$T/f2" 2>"$T/fe2" & p2=$!
wait $p1 || { bad "shared cache: run 1 failed"; cat "$T/fe1"; }
wait $p2 || { bad "shared cache: run 2 failed"; cat "$T/fe2"; }
[ "$(run_total computed "$T/f1" "$T/f2")" = $((2 * UNITS)) ] || bad "shared cache: $((2 * UNITS)) units expected"
[ "$(run_total passes "$T/f1" "$T/f2")" = "$P0" ] || bad "shared cache: backbone passes $(run_total passes "$T/f1" "$T/f2") != $P0"
[ -z "$(find "$T/F" -name '*.corrupt')" ] || bad "shared cache: cache files moved aside as corrupt"
grep -qi "corrupt" "$T/fe1" "$T/fe2" && bad "shared cache: a run reported a corrupt cache"
for u in k0 k1_s0 k2_s0; do
    cmp -s "$T/R0/sh/synthetic/synth_grid/$u/metrics.tsv" "$T/F/sh/synthetic/synth_grid/$u/metrics.tsv" ||
        bad "shared cache: sh $u differs"
    cmp -s "$T/R0x/sh2/synthetic/synth_grid/$u/metrics.tsv" "$T/F/sh2/synthetic/synth_grid/$u/metrics.tsv" ||
        bad "shared cache: sh2 $u differs"
done

# ---- --jobs: the forked children's units and passes are summed in the final lines ----
"$BIN" run "$T/sh.conf" --results "$T/J" --jobs 3 >"$T/j" 2>&1 || { bad "--jobs 3"; cat "$T/j"; }
[ "$(run_total computed "$T/j")" = $UNITS ] || bad "--jobs 3: units computed $(run_total computed "$T/j") != $UNITS"
[ "$(run_total passes "$T/j")" = "$P0" ] || bad "--jobs 3: backbone passes $(run_total passes "$T/j") != $P0"
check_same "$T/J" "--jobs 3"

# ---- more shards than categories: the extra shard has nothing to do ----
"$BIN" run "$T/sh.conf" --results "$T/S4" --shard 3/4 >"$T/s4" 2>&1 || bad "shard 3/4 (empty) failed"
grep -q "nothing to do" "$T/s4" || { bad "empty shard: not said"; cat "$T/s4"; }

# ---- two concurrent unsharded runs on one results folder: both finish, each unit once ----
"$BIN" run "$T/sh.conf" --results "$T/L" >"$T/l1" 2>"$T/le1" & p1=$!
"$BIN" run "$T/sh.conf" --results "$T/L" >"$T/l2" 2>"$T/le2" & p2=$!
wait $p1 || { bad "concurrent run 1 failed"; cat "$T/le1"; }
wait $p2 || { bad "concurrent run 2 failed"; cat "$T/le2"; }
[ "$(run_total computed "$T/l1" "$T/l2")" = $UNITS ] || bad "two concurrent runs: $(run_total computed "$T/l1" "$T/l2") units computed, $UNITS expected"
[ "$(run_total skipped "$T/l1" "$T/l2")" = $UNITS ] || bad "two concurrent runs: each unit skipped by one of them"
[ "$(run_total passes "$T/l1" "$T/l2")" = "$P0" ] || bad "two concurrent runs: backbone passes $(run_total passes "$T/l1" "$T/l2") != $P0"
check_same "$T/L" "two concurrent runs"

# ---- a unit whose lock another process holds is waited for, then computed once ----
rm -rf "$T/W" && mkdir -p "$T/W/.locks/sh/synthetic/synth_fabric"
mkfifo "$T/go"
lock=$T/W/.locks/sh/synthetic/synth_fabric/k1_s0.lock
flock -x "$lock" -c "echo 'pid 1234 on testhost' >'$lock'; read x <'$T/go'" & holder=$!
for _ in $(seq 100); do [ -s "$lock" ] && break; sleep 0.1; done
"$BIN" run "$T/sh.conf" --results "$T/W" --only synth_fabric >"$T/w" 2>"$T/we" & runner=$!
for _ in $(seq 300); do grep -q "being computed by pid 1234 on testhost: waiting" "$T/we" && break; sleep 0.1; done
grep -q "synth_fabric/k1_s0: being computed by pid 1234 on testhost: waiting for it" "$T/we" ||
    { bad "held unit lock: no 'being computed by ... waiting' message"; cat "$T/we"; }
[ -e "$T/W/sh/synthetic/synth_fabric/k1_s0/done" ] && bad "held unit lock: the unit was computed while locked"
echo go >"$T/go"; wait $holder; holder=
wait $runner || { bad "run after the lock was released"; cat "$T/we"; }
[ "$(run_total computed "$T/w")" = 3 ] || bad "held unit lock: 3 units computed after the wait"
for u in k0 k1_s0 k2_s0; do
    cmp -s "$T/R0/sh/synthetic/synth_fabric/$u/metrics.tsv" "$T/W/sh/synthetic/synth_fabric/$u/metrics.tsv" ||
        bad "held unit lock: $u differs"
done

# ---- a shard killed with kill -9 mid-run is simply rerun ----
: >"$T/k0"
"$BIN" run "$T/sh.conf" --results "$T/K" --shard 0/2 >"$T/k0" 2>&1 & victim=$!
for _ in $(seq 300); do grep -q "i-AUROC" "$T/k0" && break; sleep 0.02; done
kill -9 $victim 2>/dev/null; wait $victim 2>/dev/null
for i in 0 1; do
    "$BIN" run "$T/sh.conf" --results "$T/K" --shard $i/2 >"$T/k$i.b" 2>&1 || { bad "rerun of killed shard $i/2"; cat "$T/k$i.b"; }
done
check_same "$T/K" "killed shard rerun"

# ---- usage errors ----
for bad_spec in 3/3 -1/2 1 a/b 0/0 "1/2x"; do
    "$BIN" run "$T/sh.conf" --results "$T/X" --shard "$bad_spec" >/dev/null 2>"$T/ue"
    [ $? = 2 ] && grep -q -- "--shard '$bad_spec': expected I/N" "$T/ue" || { bad "--shard $bad_spec: usage error expected"; cat "$T/ue"; }
done
"$BIN" run "$T/sh.conf" --shards 2 >/dev/null 2>&1
[ $? = 2 ] || bad "--shards without --plan: usage error expected"
[ ! -e "$T/X" ] || bad "a usage error wrote results"

exit $fail
