#!/usr/bin/env bash
# bench_cache.sh - one feature cache for every window-scale ablation (`make bench`): backbone
# passes of E01 and then E10-E13 from the cache E01 left (warm), next to what each would cost
# on a cold cache.
#
# Runs the real experiment files (experiments/E01_zero_shot_mvtec.conf, E10_scales_2,
# E11_scales_3, E12_scales_2_3, E13_scales_full) with their method settings, but on SYNTHETIC
# data (`winclip synth`, 3 categories, 64 px) and the TINY RANDOM model (2 + 2 layers, the
# shared fixture or `winclip make-random-model --arch tiny`): the real weights and MVTec AD are
# not needed, and the pass counts are what matters (a pass costs the same whatever the data).
# WINCLIP_BENCH_CACHE_TEST / _TRAIN set the images per category (default 10 / 2).
# Expected: E01 one pass per test image; E10-E13 zero (their features are subsets of E01's).
# Not a test (tests/test_cache_share.sh is): prints the figures; non-zero only if a run fails.
set -euo pipefail
BIN=${WINCLIP_BIN:-build/winclip}
SHARED=${WINCLIP_SHARED:-../shared}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export WINCLIP_VOCAB=${WINCLIP_VOCAB:-$SHARED/clip/bpe_simple_vocab_16e6.txt.gz}
MODEL=$SHARED/fixtures/tiny_clip/model.h5
if [ ! -f "$MODEL" ]; then
    MODEL=$TMP/tiny.h5
    "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null
fi
"$BIN" synth --out "$TMP/data" --categories 3 --size 64 --train "${WINCLIP_BENCH_CACHE_TRAIN:-2}" \
    --test "${WINCLIP_BENCH_CACHE_TEST:-10}" >/dev/null
CATS=synth_grid,synth_fabric,synth_disc
echo "model: $MODEL (tiny, RANDOM weights); data: synthetic, 3 categories (not MVTec AD)"

# run EXPERIMENT CACHE RESULTS: prints "passes hits misses seconds"
run() {
    local t0 t1
    t0=$(date +%s.%N)
    WINCLIP_CACHE_DIR=$2 "$BIN" run "$REPO/experiments/$1.conf" --results "$3" --set weights="$MODEL" \
        --set expected_sha256= --set dataset=synthetic --set root="$TMP/data" --set categories=$CATS \
        >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    grep -o 'backbone passes: [0-9]*, cache hits: [0-9]*, cache misses: [0-9]*$' "$TMP/out" | tail -n 1 |
        sed 's/[^0-9 ]//g' | awk -v s="$(echo "$t1 - $t0" | bc -l)" '{printf "%s %s %s %.1f\n", $1, $2, $3, s}'
}

printf '%-22s %-12s %14s %11s %13s %9s %15s\n' experiment scales "backbone passes" "cache hits" "cache misses" \
    "wall s" "cold: passes"
for e in E01_zero_shot_mvtec E10_scales_2 E11_scales_3 E12_scales_2_3 E13_scales_full; do
    # the experiment's own scales line, else the method default it includes
    scales=$(grep -h '^scales' "$REPO/experiments/$e.conf" "$REPO/configs/method/winclip_zero_shot.conf" |
        head -n 1 | awk '{print $3}')
    read -r p h m s <<<"$(run "$e" "$TMP/cache" "$TMP/warm")"
    read -r cp _ <<<"$(run "$e" "$TMP/cold_$e" "$TMP/cold_r_$e")"
    printf '%-22s %-12s %14s %11s %13s %9s %15s\n' "$e" "$scales" "$p" "$h" "$m" "$s" "$cp"
done
echo "(one shared cache, E01 first: E10-E13 need no backbone pass; 'cold: passes' is each experiment"
echo " alone on an empty cache. hits / misses count component lookups: full image + each window scale.)"
