#!/usr/bin/env bash
# bench_winclip.sh - WinCLIP / WinCLIP+ speed per test image on the full-size model (`make bench`).
#
# Model: $WINCLIP_BENCH_MODEL if set (e.g. the real ViT-B-16-plus-240 file), else a random-weight
# ViT-B-16-plus-240 written by `winclip make-random-model` into a temporary folder (834 MB,
# removed at exit). Images: the shared MVTec grid subset (test images scored, train/good as
# references). Each setting (zero-shot, K = 1, 2, 4) runs `winclip score --timings` twice on
# the same fresh feature cache folder: cold (every feature computed) and warm (every feature read).
#
# Printed per setting: wall seconds per test image (cold, warm), backbone seconds per computed
# image, and what runs beyond the backbone (text prototypes, memories, aggregation, memory
# search, upsampling) as a percentage of the backbone time -- over this run, and amortised
# over an average MVTec category (1725 / 15 = 115 test images; the text is built once per
# class and process). Then projections for the MVTec AD test set (1725 images).
# Targets: cold, beyond-backbone < 5 % of the backbone; warm, a 15-category K-shot evaluation
# (K = 1, 2, 4, 5 seeds + zero-shot) in minutes.
# Not a test: prints the figures; exits non-zero only if the binary fails.
set -euo pipefail
BIN=${WINCLIP_BIN:-build/winclip}
SHARED=${WINCLIP_SHARED:-../shared}
GRID=$SHARED/data/mvtec_ad_mini/grid
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

MODEL=${WINCLIP_BENCH_MODEL:-}
if [ -z "$MODEL" ]; then
    MODEL=$TMP/vit_b_16_plus_240_random.h5
    "$BIN" make-random-model --arch ViT-B-16-plus-240 --seed 1 "$MODEL"
fi
mapfile -t TEST < <(ls "$GRID"/test/*/*.png | head -n "${WINCLIP_BENCH_IMAGES:-6}")
mapfile -t REFS < <(ls "$GRID"/train/good/*.png | head -n 4)
N=${#TEST[@]}
echo "model $MODEL; $N test images; threads: OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}" \
     "OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}; $(nproc) cores"

# run LABEL CACHE K: one `winclip score`; prints "wall <s>" and the timings line fields.
run() {
    local cache=$1 k=$2 refs=()
    for ((i = 0; i < k; i++)); do refs+=(--ref "${REFS[$i]}"); done
    local t0 t1
    t0=$(date +%s.%N)
    "$BIN" score -m "$MODEL" --class grid --cache "$cache" --timings "${refs[@]}" "${TEST[@]}" \
        >/dev/null 2>"$TMP/err" || { cat "$TMP/err" >&2; exit 1; }
    t1=$(date +%s.%N)
    echo "wall $(echo "$t1 - $t0" | bc -l) $(grep '^timings:' "$TMP/err" | sed 's/^timings: //')"
}

# field NAME LINE: the number after NAME in a "name value name value ..." line.
field() { echo "$2" | awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit }}'; }

printf '%-9s %10s %10s %10s %10s %10s %9s %9s\n' setting cold_s/img warm_s/img backbone \
       score_ms beyond_% text_s init_s
declare -A COLD WARM BACKBONE
for k in 0 1 2 4; do
    cache=$TMP/cache_k$k
    cold=$(run "$cache" "$k")
    warm=$(run "$cache" "$k")
    # cold: every test image and the K references through the backbone once (cache_misses
    # counts components: full image + 2 window scales per image)
    per_bb=$(echo "$(field backbone "$cold") / ($N + $k)" | bc -l)
    text=$(field text "$cold")
    init=$(field init "$cold")
    # per test image beyond the backbone: scoring (aggregation, memory search, upsampling) and
    # memories spread over the run's images, plus the class's text spread over an average
    # MVTec category (115 test images; the prototypes are built once per class and process)
    score_ms=$(echo "1000 * $(field scoring "$cold") / $N" | bc -l)
    beyond=$(echo "100 * (($(field scoring "$cold") + $(field memory "$cold")) / $N + $text / 115) / $per_bb" | bc -l)
    # wall per test image without process start-up (init) and text prototypes
    cold_img=$(echo "($(field wall "$cold") - $init - $text) / $N" | bc -l)
    warm_img=$(echo "($(field wall "$warm") - $(field init "$warm") - $(field text "$warm")) / $N" | bc -l)
    COLD[$k]=$cold_img; WARM[$k]=$warm_img; BACKBONE[$k]=$per_bb; INIT=$init; TEXT=$text
    printf '%-9s %10.3f %10.4f %10.3f %10.2f %10.2f %9.2f %9.2f\n' \
        "$([ "$k" = 0 ] && echo zero-shot || echo "K=$k")" "$cold_img" "$warm_img" "$per_bb" \
        "$score_ms" "$beyond" "$text" "$init"
done
echo "(s/img: wall seconds per test image without process start-up (init: model load + sha256 +"
echo " tokenizer) and text prototypes (text_s, once per class); cold K>0 also computes the K"
echo " reference features; backbone: seconds per computed image; score_ms: winclip_score per"
echo " image; beyond_%: everything after the backbone per test image, text amortised over 115)"
echo

# MVTec AD: 1725 test images in 15 categories. `winclip run` is one process per experiment:
# start-up once, text prototypes once per class, every (K, seed) unit of a category in it.
echo "projections for MVTec AD (1725 test images, 15 categories), as \`winclip run\` does it:"
echo "  zero-shot, cold cache:  $(echo "(1725 * ${COLD[0]} + $INIT + 15 * $TEXT) / 60" | bc -l | xargs printf '%.1f') min" \
     "(one process: start-up once, text once per class)"
refs=$(echo "15 * 20 * ${BACKBONE[0]}" | bc -l)
echo "  few-shot references, cold: at most 20 distinct train images per category (5 nested seeds x K<=4):" \
     "$(echo "$refs / 60" | bc -l | xargs printf '%.1f') min, then cached"
warm_total=$(echo "1725 * (${WARM[0]} + 5 * (${WARM[1]} + ${WARM[2]} + ${WARM[4]})) + $INIT + 15 * $TEXT" | bc -l)
echo "  full evaluation from a warm cache (zero-shot + K=1,2,4 x 5 seeds = 240 units):" \
     "$(echo "$warm_total / 60" | bc -l | xargs printf '%.1f') min" \
     "(of which start-up + text $(echo "($INIT + 15 * $TEXT) / 60" | bc -l | xargs printf '%.1f') min)"
