#!/usr/bin/env bash
# test_experiments_all.sh - EVERY experiment file of experiments/ (E*, B*, demo) runs end to end
# on a tiny synthetic dataset with the tiny model, through `--set` overrides of the dataset, its
# root, the categories and the weights (one category; seeds = 0 and tiling_subset = 2 to stay
# fast), and `winclip report` reads them all. Then what the ablation settings must show:
# settings.txt of each variant, the tiling subset, timing.tsv, per-category extra state words,
# and that the default settings.txt carries none of the ablation keys (old units keep their hash).
set -u
export WINCLIP_GNUPLOT=${WINCLIP_GNUPLOT_ALL:-/nonexistent/gnuplot}   # figures are test_run_e2e.sh's business: skip them here
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/lib_fixtures.sh"
[ -n "$SHARED" ] || need_fixture test_experiments_all.sh "(WINCLIP_SHARED not set)"
VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
need_fixture test_experiments_all.sh "$VOCAB"
export WINCLIP_VOCAB=$VOCAB
T=$(mktemp -d /tmp/winclip_exp_all.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

# 8 train images (K = 8 experiments), 3 good + 3 defect test images
"$BIN" synth --out "$T/data" --categories 1 --size 64 --train 8 --test 3 >/dev/null || { echo "FAIL synth"; exit 1; }
MODEL=$SHARED/fixtures/tiny_clip/model.h5
if [ ! -f "$MODEL" ]; then
    MODEL=$T/model.h5
    "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null || { echo "FAIL make-random-model"; exit 1; }
fi
SETS=(--set dataset=synthetic --set layout=mvtec --set root="$T/data" --set categories=synth_grid
      --set weights="$MODEL" --set seeds=0 --set tiling_subset=2)

names=()
for f in "$REPO"/experiments/E*.conf "$REPO"/experiments/B*.conf "$REPO"/experiments/demo.conf; do
    n=$(basename "$f" .conf)
    names+=("$n")
    if ! "$BIN" run "$f" --results "$T/R" "${SETS[@]}" >"$T/$n.out" 2>"$T/$n.err"; then
        bad "$n: winclip run failed"; tail -3 "$T/$n.err"; continue
    fi
    units=$(find "$T/R/$n" -name done | wc -l)
    [ "$units" -ge 1 ] || bad "$n: no finished unit"
    for d in $(find "$T/R/$n" -name done -printf '%h\n'); do
        for x in metrics.tsv scores.tsv settings.txt timing.tsv; do [ -s "$d/$x" ] || bad "$n: $d/$x missing"; done
        grep -q '^ms_per_image	[0-9.]*$' "$d/timing.tsv" || bad "$n: timing.tsv lacks ms_per_image"
    done
done
[ "${#names[@]}" -ge 37 ] || bad "only ${#names[@]} experiment files found"

U() { echo "$T/R/$1/synthetic/synth_grid/$2"; }
has() { grep -qx -- "$2" "$1/settings.txt" || bad "$(basename "$(dirname "$(dirname "$(dirname "$1")")")"): settings.txt lacks '$2'"; }
has "$(U E20_cpe_one_class k0)" "prompts = one_class"
has "$(U E21_cpe_two_class k0)" "prompts = two_class"
has "$(U E22_cpe_states k0)" "prompts = states"
has "$(U E31_aggregation_mean_within k0)" "aggregation = mean"
has "$(U E31_aggregation_mean_within k0)" "fusion = harmonic"
has "$(U E32_aggregation_mean_across k0)" "aggregation = harmonic"
has "$(U E32_aggregation_mean_across k0)" "fusion = mean"
has "$(U E90_dense_patch_tokens k0)" "dense = patch_tokens"
has "$(U E91_dense_tiling k0)" "dense = tiling"
has "$(U E93_fewshot_k8_vision_only k8_s0)" "language = false"
has "$(U B03_maskclip_mvtec k0)" "dense = maskclip"
has "$(U B01_clip_ac_mvtec k0)" "scales = none"
# the tiling subset: 2 of the 6 test images (header + 2 rows), evenly spaced: one good, one defect
[ "$(wc -l <"$(U E91_dense_tiling k0)/scores.tsv")" = 3 ] || bad "E91: scores.tsv is not header + 2 images"
grep -q '^dense	tiling$' "$(U E91_dense_tiling k0)/timing.tsv" || bad "E91: timing.tsv dense"
grep -q '^dense	maskclip$' "$(U B03_maskclip_mvtec k0)/timing.tsv" || bad "B03: timing.tsv dense"
awk -F'\t' '$1 == "ms_per_image_dense" && $2 > 0 { ok = 1 } END { exit !ok }' "$(U E91_dense_tiling k0)/timing.tsv" ||
    bad "E91: ms_per_image_dense is not > 0"
# one change per step: E21 and E23 differ from their neighbours only in prompts
for pair in "E21_cpe_two_class E22_cpe_states" "E22_cpe_states E23_cpe_states_templates" \
            "E20_cpe_one_class E21_cpe_two_class" "E93_fewshot_k8_vision_only E94_fewshot_k8_language"; do
    set -- $pair
    k=k0; [ "$1" = E93_fewshot_k8_vision_only ] && k=k8_s0
    n=$(diff "$(U "$1" $k)/settings.txt" "$(U "$2" $k)/settings.txt" | grep -c '^<')
    [ "$n" = 1 ] || bad "$1 -> $2: $n settings lines differ (want 1)"
done
# default settings (E01 without the tiling override) write none of the ablation keys
"$BIN" run "$REPO/experiments/E01_zero_shot_mvtec.conf" --results "$T/D" "${SETS[@]:0:12}" >/dev/null 2>"$T/err" ||
    bad "E01 without tiling_subset"
grep -Eq '^(dense|language|one_class_score|tiling_subset) =' "$(echo "$T"/D/E01_zero_shot_mvtec/synthetic/synth_grid/k0)/settings.txt" &&
    bad "default settings.txt lists an ablation key"
# per-category extra anomalous states: appended for that category only, and they change the unit
"$BIN" run "$REPO/experiments/E95_visa_defect_states.conf" --results "$T/X" "${SETS[@]}" \
    --set "extra_anomalous_states.synth_grid={} with bad soldering, bent" >/dev/null 2>"$T/err" || { bad "E95 + synth_grid words"; cat "$T/err"; }
grep -qx 'extra_anomalous_states = {} with bad soldering, bent' "$T/X/E95_visa_defect_states/synthetic/synth_grid/k0/settings.txt" ||
    bad "E95: extra_anomalous_states.synth_grid not applied"
cmp -s "$T/X/E95_visa_defect_states/synthetic/synth_grid/k0/scores.tsv" "$(U E95_visa_defect_states k0)/scores.tsv" &&
    bad "E95: extra words did not change the scores"
"$BIN" run "$REPO/experiments/E95_visa_defect_states.conf" --results "$T/Y" "${SETS[@]}" \
    --set "extra_anomalous_states.synth_grid=a {{}}" >/dev/null 2>"$T/err" && bad "bad extra state accepted"
grep -q "extra_anomalous_states.synth_grid" "$T/err" || bad "bad extra state: message names the key"
# a dense ablation with references is refused, naming the setting
"$BIN" run "$REPO/experiments/E90_dense_patch_tokens.conf" --results "$T/Z" "${SETS[@]}" --set k_shots=1 \
    >/dev/null 2>"$T/err" && bad "dense = patch_tokens with K = 1 accepted"
grep -q "zero-shot ablation" "$T/err" || bad "dense with K > 0: message"

# the report reads every experiment
"$BIN" report --results "$T/R" --tables "$T/tables" "${names[@]}" >"$T/out" 2>"$T/err" || { bad "report"; tail -5 "$T/err"; }
[ -s "$T/tables/table4_ablations.md" ] || bad "report: no table4_ablations.md"
for v in one_class two_class states states_templates mean_within mean_across patch_tokens tiling windows \
         vision_only with_language defect_specific; do
    grep -q "| $v |" "$T/tables/table4_ablations.md" || bad "table 4 lacks the $v row"
done

exit $fail
