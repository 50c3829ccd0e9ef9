#!/usr/bin/env bash
# test_run_stale.sh - `winclip run` reuses a finished unit only when it was computed with the same
# settings and is intact: --set temperature after a finished run stops before any compute naming
# every stale unit and the key (old -> new); --rerun recomputes exactly those (numbers change);
# `winclip report` refuses a row mixing settings; a unit whose metrics.tsv was deleted or changed
# is recomputed (said so); temp files left by kill -9 are removed; an empty train/good is fine for
# K = 0 only; a read-only results folder holding a finished run can be rerun.
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/lib_fixtures.sh"
[ -n "$SHARED" ] || need_fixture test_run_stale.sh "(WINCLIP_SHARED not set)"
SHARED=$(cd "$SHARED" && pwd)
export WINCLIP_VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
need_fixture test_run_stale.sh "$WINCLIP_VOCAB"
T=$(mktemp -d /tmp/winclip_run_stale.XXXXXX)
trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

"$BIN" synth --out "$T/data" --categories 2 --size 64 --train 2 --test 3 >/dev/null || { echo "FAIL synth"; exit 1; }
MODEL=$SHARED/fixtures/tiny_clip/model.h5
if [ ! -f "$MODEL" ]; then
    MODEL=$T/model.h5
    "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null || { echo "FAIL make-random-model"; exit 1; }
fi
cat >"$T/st.conf" <<EOF2
include   = $REPO/configs/dataset/synthetic.conf
include   = $REPO/configs/method/winclip_few_shot.conf
table     = demo
weights   = $MODEL
root      = $T/data
categories = synth_grid,synth_fabric
k_shots   = 0,1
seeds     = 0
temperature = 0.01
EOF2
R=$T/R
U=$R/st/synthetic
"$BIN" run "$T/st.conf" --results "$R" >/dev/null 2>"$T/err" || { bad "first run"; cat "$T/err"; exit 1; }
[ -s "$U/synth_grid/k0/settings.txt" ] || bad "settings.txt missing"
grep -q '^file: [0-9]* [0-9a-f]\{64\} metrics.tsv$' "$U/synth_grid/k0/done" || bad "done lists metrics.tsv with its sha256"
cp "$U/synth_grid/k0/metrics.tsv" "$T/m_old"

# ---- other settings: an error before any compute, naming every unit and the key ----
"$BIN" run "$T/st.conf" --results "$R" --set temperature=0.07 >"$T/out" 2>"$T/err"
[ $? = 1 ] || bad "stale: exit status 1 expected"
for u in synth_grid/k0 synth_grid/k1_s0 synth_fabric/k0 synth_fabric/k1_s0; do
    grep -q "$U/$u: temperature 0.01 -> 0.07" "$T/err" || { bad "stale: $u not named with temperature 0.01 -> 0.07"; cat "$T/err"; }
done
grep -q "4 finished units were computed with other settings" "$T/err" || bad "stale: one error with 4 units"
cmp -s "$T/m_old" "$U/synth_grid/k0/metrics.tsv" || bad "stale: a unit was rewritten"
[ -z "$(find "$R" -name '.*.new')" ] || bad "stale: compute started"

# ---- --rerun recomputes exactly the stale units; report refuses a mixed row ----
"$BIN" run "$T/st.conf" --results "$R" --set temperature=0.07 --only synth_grid --rerun >/dev/null 2>"$T/err" ||
    { bad "--rerun"; cat "$T/err"; }
[ "$(grep -c 'recomputed (--rerun)' "$T/err")" = 2 ] || { bad "--rerun: 2 units recomputed"; cat "$T/err"; }
cmp -s "$T/m_old" "$U/synth_grid/k0/metrics.tsv" && bad "--rerun: numbers did not change"
grep -q '^temperature = 0.07' "$U/synth_grid/k0/settings.txt" || bad "--rerun: settings.txt not replaced"
[ -z "$(find "$U" -name '.*')" ] || bad "--rerun left temp folders: $(find "$U" -name '.*')"
"$BIN" report --results "$R" --tables "$T/tables" st >/dev/null 2>"$T/err"
[ $? = 1 ] || bad "report of mixed settings: exit 1 expected"
grep -q "temperature" "$T/err" && grep -q "synth_fabric" "$T/err" && grep -q "synth_grid" "$T/err" ||
    { bad "report: mixed-settings error names the units and the key"; cat "$T/err"; }
"$BIN" run "$T/st.conf" --results "$R" --set temperature=0.07 >/dev/null 2>"$T/err" && bad "rerun without --rerun: error"
grep -q "synth_fabric/k0: temperature 0.01 -> 0.07" "$T/err" || bad "second stale run names synth_fabric only"
grep -q "synth_grid/k0:" "$T/err" && bad "synth_grid (already recomputed) named as stale"
"$BIN" run "$T/st.conf" --results "$R" --set temperature=0.07 --rerun >/dev/null 2>"$T/err" || bad "rerun fabric"
[ "$(grep -c 'done, skipped' "$T/err")" = 2 ] || bad "--rerun skips the units with the same settings"
"$BIN" report --results "$R" --tables "$T/tables" st >/dev/null 2>"$T/err" || { bad "report after --rerun"; cat "$T/err"; }

# ---- fault 8: a unit whose metrics.tsv was deleted or changed is recomputed, not skipped ----
cp "$U/synth_grid/k0/metrics.tsv" "$T/m_new"
rm "$U/synth_grid/k0/metrics.tsv"
echo "changed" >>"$U/synth_fabric/k1_s0/scores.tsv"
"$BIN" report --results "$R" --tables "$T/tables" st >/dev/null 2>"$T/err" && bad "report with a deleted metrics.tsv: error"
grep -q "is not intact (" "$T/err" || { bad "report names the broken unit"; cat "$T/err"; }
"$BIN" run "$T/st.conf" --results "$R" --set temperature=0.07 >/dev/null 2>"$T/err" || { bad "resume broken"; cat "$T/err"; }
grep -q "synth_grid/k0: not intact (metrics.tsv is missing): recomputed" "$T/err" || { bad "deleted metrics.tsv: said so"; cat "$T/err"; }
grep -q "synth_fabric/k1_s0: not intact (scores.tsv has" "$T/err" || { bad "changed scores.tsv: said so"; cat "$T/err"; }
[ "$(grep -c 'done, skipped' "$T/err")" = 2 ] || bad "the 2 intact units are skipped"
cmp -s "$T/m_new" "$U/synth_grid/k0/metrics.tsv" || bad "recomputed metrics.tsv differs"

# ---- fault 9: temp files left by kill -9 are removed (a running writer's are kept) ----
mkdir -p "$U/synth_grid/.k1_s0.2147483646.new" && echo x >"$U/synth_grid/.k1_s0.2147483646.new/scores.tsv"
echo x >"$U/synth_grid/k0/.metrics.tsv.2147483646.AbC123"
sleep 60 & live=$!
echo x >"$U/synth_grid/k0/.scores.tsv.$live.XyZ789"
"$BIN" run "$T/st.conf" --results "$R" --set temperature=0.07 >/dev/null 2>"$T/err" || { bad "run with temp files"; cat "$T/err"; }
[ ! -e "$U/synth_grid/.k1_s0.2147483646.new" ] && [ ! -e "$U/synth_grid/k0/.metrics.tsv.2147483646.AbC123" ] ||
    bad "stale temp files not removed"
[ -e "$U/synth_grid/k0/.scores.tsv.$live.XyZ789" ] || bad "a running process's temp file was removed"
grep -q "removed 2 temp files left by an interrupted run" "$T/err" || bad "temp removal not said"
kill $live; wait $live 2>/dev/null
rm -f "$U/synth_grid/k0/.scores.tsv.$live.XyZ789"

# ---- fault 9: a read-only results folder holding a finished run ----
chmod -R a-w "$R"
"$BIN" run "$T/st.conf" --results "$R" --set temperature=0.07 >/dev/null 2>"$T/err" || { bad "read-only finished run"; cat "$T/err"; }
[ "$(grep -c 'done, skipped' "$T/err")" = 4 ] || bad "read-only: 4 units skipped"
chmod -R u+w "$R"

# ---- fault 9: an empty train/good is fine for K = 0 only ----
rm -f "$T"/data/synth_grid/train/good/*
"$BIN" run "$T/st.conf" --results "$T/Z" --set k_shots=0 --only synth_grid >/dev/null 2>"$T/err" ||
    { bad "empty train/good, K = 0: refused"; cat "$T/err"; }
[ -e "$T/Z/st/synthetic/synth_grid/k0/done" ] || bad "empty train/good, K = 0: no unit"
"$BIN" run "$T/st.conf" --results "$T/Z" --set k_shots=0,1 --only synth_grid >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "k_shots asks for 1 references but train/good has 0 images" "$T/err" ||
    { bad "empty train/good, K = 1: error"; cat "$T/err"; }

exit $fail
