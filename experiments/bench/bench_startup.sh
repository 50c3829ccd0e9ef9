#!/usr/bin/env bash
# bench_startup.sh - start-up of `winclip score` on one image, before / after the on-disk caches
# of issue 11 (weights sha256 once per file version, text prototypes per model + prompts).
#
# Run by `make bench` (WINCLIP_BIN set) or by hand: bash experiments/bench/bench_startup.sh.
# Three starts on one synthetic image, each timed whole (wall seconds) with --timings:
#   before    WINCLIP_CACHE_DIR=off: sha256 of the weights and the text tower on every start
#   cold      an empty cache folder: as before, plus writing the two cache records
#   warm      the same folder again: sha256 and text prototypes read back (the usual start)
# Model: the tiny random model (default, seconds) or, with BENCH_FULL=1, a random
# ViT-B-16-plus-240 (~834 MB written to a temp folder; minutes on 2 cores); BENCH_MODEL=path.h5
# uses that file (real weights). Threads: OMP_NUM_THREADS (default 2). REPEAT (default 3 tiny,
# 1 full) starts per row; the median is printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${WINCLIP_BIN:-$here/../../build/winclip}
shared=${WINCLIP_SHARED:-$here/../../../shared}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
[ -n "${WINCLIP_VOCAB:-}" ] || { [ -f "$shared/clip/bpe_simple_vocab_16e6.txt.gz" ] && export WINCLIP_VOCAB=$shared/clip/bpe_simple_vocab_16e6.txt.gz; } || true
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model=${BENCH_MODEL:-}
repeat=${REPEAT:-3}
if [ -z "$model" ] && [ "${BENCH_FULL:-0}" = 1 ]; then
  model=$tmp/random_vit_b_16_plus_240.h5
  "$bin" make-random-model --arch ViT-B-16-plus-240 --seed 1 --out "$model" >/dev/null
  repeat=${REPEAT:-1}
elif [ -z "$model" ]; then
  model=$tmp/tiny.h5
  "$bin" make-random-model --arch tiny --seed 1 --out "$model" >/dev/null
fi
"$bin" synth --out "$tmp/data" --categories 1 --size 240 --train 1 --test 1 >/dev/null
img=$(ls "$tmp"/data/*/test/good/*.png | head -1)
echo "== winclip score start-up, one image ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)), model $(basename "$model") ($(du -h "$model" | cut -f1))"

# one start: wall seconds and the --timings fields init, text, backbone
start() {
  local t0 t1 line
  t0=$(date +%s.%N)
  WINCLIP_CACHE_DIR=$1 "$bin" score -m "$model" --class synth_grid --timings "$img" >/dev/null 2>"$tmp/err"
  t1=$(date +%s.%N)
  line=$(grep '^timings: images' "$tmp/err")
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$line" | sed 's/.* init \([0-9.]*\) .* backbone \([0-9.]*\) text \([0-9.]*\) .*/\1 \3 \2/')"
}
median() { sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }
row() { # label cache-dir fresh(1: empty the folder before each start)
  local i out=
  for i in $(seq "$repeat"); do
    [ "$3" = 1 ] && rm -rf "$tmp/cache"
    out="$out$(start "$2")"$'\n'
  done
  printf '%-8s %8.3f %8.3f %8.3f %8.3f\n' "$1" \
    "$(printf '%s' "$out" | cut -d' ' -f1 | median)" "$(printf '%s' "$out" | cut -d' ' -f2 | median)" \
    "$(printf '%s' "$out" | cut -d' ' -f3 | median)" "$(printf '%s' "$out" | cut -d' ' -f4 | median)"
}
printf '%-8s %8s %8s %8s %8s   (seconds, median of %d)\n' start wall init text backbone "$repeat"
row before off 0
row cold "$tmp/cache" 1
row warm "$tmp/cache" 0
echo "init = model load + weights sha256 + tokenizer; text = prompts -> prototypes; start-up = wall - backbone"
