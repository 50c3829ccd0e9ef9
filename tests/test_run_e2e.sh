#!/usr/bin/env bash
# test_run_e2e.sh - `winclip run` end to end on a tiny synthetic dataset and the tiny model:
# unit files, metrics == `winclip metrics` on the saved maps.h5, `winclip report`, kill -9 and
# resume gives byte-identical files, --jobs 2 == --jobs 1, --only, and validation errors (corrupt
# config, missing category, missing weights, wrong expected_sha256, missing vocabulary) before
# any compute (no unit folder written).
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
. "$REPO/tests/lib_fixtures.sh"
[ -n "$SHARED" ] || need_fixture test_run_e2e.sh "(WINCLIP_SHARED not set)"
need_fixture test_run_e2e.sh "$VOCAB"
SHARED=$(cd "$SHARED" && pwd)   # absolute: the vocabulary test below changes folder
VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
export WINCLIP_VOCAB=$VOCAB
T=$(mktemp -d /tmp/winclip_run_e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

"$BIN" synth --out "$T/data" --categories 2 --size 64 --train 3 --test 3 >/dev/null || { echo "FAIL synth"; exit 1; }
MODEL=$SHARED/fixtures/tiny_clip/model.h5
if [ ! -f "$MODEL" ]; then
    MODEL=$T/model.h5
    "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null || { echo "FAIL make-random-model"; exit 1; }
fi

cat >"$T/e2e.conf" <<EOF
# test experiment: synthetic data, tiny model
include   = $REPO/configs/dataset/synthetic.conf
include   = $REPO/configs/method/winclip_few_shot.conf
title     = run e2e test
table     = demo
weights   = $MODEL
root      = $T/data
categories = synth_grid,synth_fabric
k_shots   = 0,1,2
seeds     = 0
save_maps = true
EOF
UNITS="synth_grid/k0 synth_grid/k1_s0 synth_grid/k2_s0 synth_fabric/k0 synth_fabric/k1_s0 synth_fabric/k2_s0"

# ---- an uninterrupted run ----
"$BIN" run "$T/e2e.conf" --results "$T/A" >"$T/out" 2>"$T/err" || { bad "run A"; cat "$T/err"; exit 1; }
for u in $UNITS; do
    d=$T/A/e2e/synthetic/$u
    for f in scores.tsv metrics.tsv metrics.json config.resolved provenance.txt references.txt maps.h5 done \
             roc.dat pr.dat overlays; do
        [ -e "$d/$f" ] || bad "run A: $d/$f missing"
    done
done
[ "$(wc -l <"$T/A/e2e/synthetic/synth_grid/k2_s0/references.txt")" = 2 ] || bad "k2 references.txt: 2 lines"
[ "$(wc -l <"$T/A/e2e/synthetic/synth_grid/k0/scores.tsv")" = 7 ] || bad "scores.tsv: header + 6 images"
grep -q '^title = "run e2e test"' "$T/A/e2e/experiment.conf" || bad "experiment.conf title"
grep -q '^unit.k_shot = 2' "$T/A/e2e/synthetic/synth_grid/k2_s0/config.resolved" || bad "config.resolved unit keys"

# metrics.tsv agrees with `winclip metrics` on the unit's maps.h5 (both to 10 significant digits)
for u in $UNITS; do
    d=$T/A/e2e/synthetic/$u
    "$BIN" metrics "$d/maps.h5" | sed 's/^pixel_aupro\t/aupro_0.3\t/' | sort >"$T/m_cli" || bad "winclip metrics $u"
    awk -F'\t' 'NR > 1 && $1 ~ /^(image_auroc|image_ap|image_f1max|pixel_auroc|pixel_ap|pixel_f1max|aupro_0.3)$/ {
        printf "%s\t%.10g\n", $1, $2 }' "$d/metrics.tsv" | sort >"$T/m_run"
    [ "$(wc -l <"$T/m_run")" = 7 ] || bad "$u: metrics.tsv lacks the 7 main metrics"
    cmp -s "$T/m_cli" "$T/m_run" || { bad "$u: metrics.tsv != winclip metrics maps.h5"; diff "$T/m_cli" "$T/m_run"; }
done

# a rerun skips every finished unit and changes nothing
cp "$T/A/e2e/synthetic/synth_grid/k0/provenance.txt" "$T/prov0"
"$BIN" run "$T/e2e.conf" --results "$T/A" >/dev/null 2>"$T/err" || bad "rerun A"
[ "$(grep -c 'done, skipped' "$T/err")" = 6 ] || bad "rerun: 6 units skipped"
cmp -s "$T/prov0" "$T/A/e2e/synthetic/synth_grid/k0/provenance.txt" || bad "rerun rewrote a finished unit"

# report reads the results
"$BIN" report --results "$T/A" --tables "$T/tables" e2e >"$T/out" 2>"$T/err" || { bad "report"; cat "$T/err"; }
grep -q "synth_grid" "$T/A/e2e/summary.md" 2>/dev/null || bad "summary.md lists synth_grid"
# report's figures: ROC / PR panels and AUROC bars per K (.dat + .gp always, .png with gnuplot)
P=$T/A/e2e/plots
for k in 0 1 2; do
    for f in roc_image roc_pixel pr_image pr_pixel bars_image_auroc bars_pixel_auroc; do
        for ext in dat gp; do [ -s "$P/synthetic_${f}_k$k.$ext" ] || bad "report: $P/synthetic_${f}_k$k.$ext missing"; done
        if command -v "${WINCLIP_GNUPLOT:-gnuplot}" >/dev/null 2>&1; then
            [ -s "$P/synthetic_${f}_k$k.png" ] || bad "report: $P/synthetic_${f}_k$k.png missing"
        fi
    done
done
# the panel holds both categories, read from the units' roc.dat (same points)
[ "$(grep -c '^# synth_' "$P/synthetic_roc_image_k0.dat")" = 2 ] || bad "roc panel: 2 categories"
awk 'BEGIN { b = -1 } /^#/ { b++ } b == 0 && !/^#/' "$T/A/e2e/synthetic/synth_fabric/k0/roc.dat" | grep . >"$T/c_unit"
awk 'BEGIN { b = -1 } /^# synth_fabric/ { b = 0; next } /^#/ { b = -1 } b == 0' "$P/synthetic_roc_image_k0.dat" | grep . >"$T/c_panel"
[ -s "$T/c_unit" ] && cmp -s "$T/c_unit" "$T/c_panel" || bad "roc panel: synth_fabric curve != unit roc.dat image curve"
grep -q 'seed 0' "$P/synthetic_roc_pixel_k1.gp" || bad "few-shot panel title names the seed"
[ "$(grep -c '^"synth_' "$P/synthetic_bars_image_auroc_k0.dat")" = 2 ] || bad "bars: 2 categories"
# no gnuplot: report still succeeds, says so, and writes the scripts
rm -rf "$P"
WINCLIP_GNUPLOT=/nonexistent/gnuplot "$BIN" report --results "$T/A" --tables "$T/tables" e2e >"$T/out" 2>"$T/err" \
    || { bad "report without gnuplot"; cat "$T/err"; }
grep -q "plots skipped" "$T/out" || bad "report without gnuplot: no 'plots skipped' line"
[ -s "$P/synthetic_roc_image_k0.gp" ] && [ ! -e "$P/synthetic_roc_image_k0.png" ] || bad "report without gnuplot: .gp / no .png"

# ---- kill -9 after the first finished unit, then resume: identical files ----
"$BIN" run "$T/e2e.conf" --results "$T/B" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 3000); do
    [ -e "$T/B/e2e/synthetic/synth_grid/k0/done" ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
done
{ kill -9 $pid; wait $pid; } 2>/dev/null
n_done=$(find "$T/B" -name done | wc -l)
[ "$n_done" -ge 1 ] && [ "$n_done" -lt 6 ] || echo "note: kill -9 left $n_done of 6 units done"
"$BIN" run "$T/e2e.conf" --results "$T/B" >/dev/null 2>"$T/err" || { bad "resume B"; cat "$T/err"; }
for u in $UNITS; do
    for f in scores.tsv metrics.tsv metrics.json references.txt config.resolved; do
        cmp -s "$T/A/e2e/synthetic/$u/$f" "$T/B/e2e/synthetic/$u/$f" || bad "killed+resumed $u/$f differs"
    done
done

# ---- --jobs 2 (one process per category) and --only give the same files ----
"$BIN" run "$T/e2e.conf" --results "$T/C" --jobs 2 >/dev/null 2>"$T/err" || { bad "--jobs 2"; cat "$T/err"; }
"$BIN" run "$T/e2e.conf" --results "$T/D" --only synth_fabric --set k_shots=1 >/dev/null 2>"$T/err" ||
    { bad "--only"; cat "$T/err"; }
for u in $UNITS; do
    cmp -s "$T/A/e2e/synthetic/$u/scores.tsv" "$T/C/e2e/synthetic/$u/scores.tsv" || bad "--jobs 2: $u/scores.tsv"
    cmp -s "$T/A/e2e/synthetic/$u/metrics.tsv" "$T/C/e2e/synthetic/$u/metrics.tsv" || bad "--jobs 2: $u/metrics.tsv"
done
[ "$(find "$T/D/e2e" -name done | wc -l)" = 1 ] || bad "--only synth_fabric --set k_shots=1: one unit"
cmp -s "$T/A/e2e/synthetic/synth_fabric/k1_s0/scores.tsv" "$T/D/e2e/synthetic/synth_fabric/k1_s0/scores.tsv" ||
    bad "--only: scores differ"

# ---- errors before any compute: exit 1, a message naming the problem, no unit folder ----
expect_error() { # name, pattern, command...
    local what=$1 pattern=$2 R=$T/E_$1
    shift 2
    "$@" --results "$R" >"$T/out" 2>"$T/err"
    local got=$?
    [ "$got" = 1 ] || bad "$what: exit $got, want 1"
    grep -q -- "$pattern" "$T/err" || { bad "$what: message lacks '$pattern'"; cat "$T/err"; }
    [ -z "$(find "$R" -name 'k*' 2>/dev/null)" ] || bad "$what: unit folders were created"
    [ ! -e "$R/cache" ] || bad "$what: feature cache was created"
}
printf 'include = %s\nthis line has no equals sign\n' "$T/e2e.conf" >"$T/corrupt.conf"
expect_error corrupt "corrupt.conf:2" "$BIN" run "$T/corrupt.conf"
printf 'include = %s\ntemprature = 0.07\n' "$T/e2e.conf" >"$T/typo.conf"
expect_error typo "unknown config key 'temprature'" "$BIN" run "$T/typo.conf"
expect_error bad_value "temperature" "$BIN" run "$T/e2e.conf" --set temperature=hot
expect_error category "synth_nope" "$BIN" run "$T/e2e.conf" --set categories=synth_grid,synth_nope
expect_error weights "$T/missing.h5" "$BIN" run "$T/e2e.conf" --set weights="$T/missing.h5"
expect_error two_problems "2 problems" "$BIN" run "$T/e2e.conf" --set weights="$T/missing.h5" \
    --set categories=synth_nope
expect_error sha256 "expected_sha256" "$BIN" run "$T/e2e.conf" --set expected_sha256=0000
expect_error too_many_shots "train/good has 3" "$BIN" run "$T/e2e.conf" --set k_shots=0,4
(cd "$T" && WINCLIP_VOCAB='' WINCLIP_SHARED=/nonexistent expect_error vocab "bpe_simple_vocab" "$BIN" run "$T/e2e.conf"
    exit $fail) || fail=1
"$BIN" run "$T/e2e.conf" --only nope --results "$T/E_only" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "only nope" "$T/err" || bad "--only nope: error"
"$BIN" run >/dev/null 2>&1
[ $? = 2 ] || bad "no EXPERIMENT: usage error 2"
"$BIN" run no_such_experiment_xyz >/dev/null 2>"$T/err"
grep -q "experiments/no_such_experiment_xyz.conf" "$T/err" || bad "unknown experiment name: message"
"$BIN" help run | grep -q -- "--only CAT" || bad "help run"

exit $fail
