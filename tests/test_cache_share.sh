#!/usr/bin/env bash
# test_cache_share.sh - one feature cache shared by every window-scale ablation, and by runs at
# the same time: the demo experiment (experiments/demo.conf, synthetic data, the tiny model) with
# scales 2,3, then scales 2 and scales 3 into other results folders on the same cache run zero
# backbone passes and give the metrics of cold runs; {2,3} after {2} and {3} likewise; a
# truncated cache file is reported (naming it) and recomputed; two runs at once on one cache
# folder (one with --jobs 2) both succeed with the serial run's numbers, nothing moved aside or
# reported invalid, no temp file left; --jobs sums the children's counts.
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/lib_fixtures.sh"
[ -n "$SHARED" ] || need_fixture test_cache_share.sh "(WINCLIP_SHARED not set)"
SHARED=$(cd "$SHARED" && pwd)
export WINCLIP_VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
need_fixture test_cache_share.sh "$WINCLIP_VOCAB"
T=$(mktemp -d /tmp/winclip_cache_share.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

"$BIN" synth --out "$T/data" --categories 3 --size 64 --train 2 --test 3 >/dev/null || { echo "FAIL synth"; exit 1; }
MODEL=$SHARED/fixtures/tiny_clip/model.h5
if [ ! -f "$MODEL" ]; then
    MODEL=$T/model.h5
    "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null || { echo "FAIL make-random-model"; exit 1; }
fi
UNITS="synth_grid/k0 synth_grid/k1_s0 synth_grid/k2_s0 synth_fabric/k0 synth_fabric/k1_s0 synth_fabric/k2_s0"

# demo CACHE RESULTS SCALES [options]: the demo experiment into RESULTS with the cache in CACHE;
# stdout in RESULTS.out, stderr in RESULTS.err
demo() {
    local cache=$1 results=$2 scales=$3
    shift 3
    WINCLIP_CACHE_DIR=$cache "$BIN" run "$REPO/experiments/demo.conf" --results "$results" --set weights="$MODEL" \
        --set root="$T/data" --set categories=synth_grid,synth_fabric --set save_maps=false --set scales="$scales" \
        "$@" >"$results.out" 2>"$results.err"
}
# counts RESULTS: "passes hits misses" from the run's last summary line
counts() {
    grep -o 'backbone passes: [0-9]*, cache hits: [0-9]*, cache misses: [0-9]*$' "$1.out" | tail -n 1 |
        sed 's/backbone passes: \([0-9]*\), cache hits: \([0-9]*\), cache misses: \([0-9]*\)/\1 \2 \3/'
}
# same A B WHAT: every unit's metrics.tsv and scores.tsv identical
same() {
    for u in $UNITS; do
        for f in metrics.tsv scores.tsv; do
            cmp -s "$1/demo/synthetic/$u/$f" "$2/demo/synthetic/$u/$f" || bad "$3: $u/$f differs"
        done
    done
}
passes_of() { set -- $(counts "$1"); echo "${1:-none}"; }

# ---- {2,3} cold, then {2} and {3} from its cache: no backbone pass, the cold runs' numbers ----
demo "$T/C" "$T/A23" 2,3 || { bad "run scales 2,3"; cat "$T/A23.err"; exit 1; }
[ "$(tail -n 1 "$T/A23.out" | grep -c 'backbone passes: [0-9]*, cache hits: [0-9]*, cache misses: [0-9]*$')" = 1 ] ||
    bad "the run does not end with the backbone passes line: $(tail -n 1 "$T/A23.out")"
read -r p h m <<<"$(counts "$T/A23")"
# 2 categories x (6 test + 2 train images) = 16 images, 3 components each
[ "$p" = 16 ] && [ "$m" = 48 ] || bad "cold 2,3: expected 16 passes, 48 misses, got '$p' '$h' '$m'"
for s in 2 3; do
    demo "$T/C" "$T/S$s" $s || { bad "run scales $s"; cat "$T/S$s.err"; }
    read -r p h m <<<"$(counts "$T/S$s")"
    [ "$p" = 0 ] && [ "$m" = 0 ] && [ "${h:-0}" -gt 0 ] ||
        bad "scales $s after 2,3: expected 0 passes and 0 misses, got '$p' '$h' '$m'"
    demo "$T/cold$s" "$T/R$s" $s || bad "cold run scales $s"
    [ "$(passes_of "$T/R$s")" = 16 ] || bad "cold scales $s: 16 passes expected, got $(passes_of "$T/R$s")"
    same "$T/S$s" "$T/R$s" "scales $s from the 2,3 cache vs cold"
done

# ---- {2,3} after {2} and {3} on another cache: zero passes, the cold 2,3 numbers ----
demo "$T/C2" "$T/P2" 2 && demo "$T/C2" "$T/P3" 3 || bad "runs 2 then 3"
[ "$(passes_of "$T/P3")" = 16 ] || bad "scales 3 after 2: the windows k3 are new (16 passes), got $(passes_of "$T/P3")"
read -r p h m <<<"$(counts "$T/P3")"
[ "$m" = 16 ] || bad "scales 3 after 2: only the 16 k3 components miss, got $m"
demo "$T/C2" "$T/P23" 2,3 || bad "run 2,3 after 2 and 3"
[ "$(passes_of "$T/P23")" = 0 ] || bad "2,3 after 2 and 3: 0 passes expected, got $(passes_of "$T/P23")"
same "$T/P23" "$T/A23" "2,3 from the cache of 2 and 3 vs cold"
grep -q 'invalid' "$T"/*.err && bad "an entry was reported invalid: $(grep -h invalid "$T"/*.err | head -n 2)"

# ---- a truncated cache file: named, recomputed (one pass), same numbers ----
victim=$(ls "$T"/C/synthetic_synth_grid/*/*-windows-k3-s1.h5 | head -n 1)
truncate -s 600 "$victim"
demo "$T/C" "$T/V" 3 || { bad "run over a truncated entry"; cat "$T/V.err"; }
grep -q "feature cache: $victim (windows of .*): invalid, recomputed" "$T/V.err" ||
    { bad "the truncated entry is not reported by name"; cat "$T/V.err"; }
[ "$(passes_of "$T/V")" = 1 ] || bad "truncated entry: 1 pass expected, got $(passes_of "$T/V")"
same "$T/V" "$T/R3" "scales 3 after a truncated entry vs cold"

# ---- two runs at once on one cache folder (one with --jobs 2): both fine, serial numbers ----
demo "$T/CC" "$T/X1" 2,3 &
pid1=$!
demo "$T/CC" "$T/X2" 2,3 --jobs 2 &
pid2=$!
wait $pid1 || { bad "concurrent run 1"; cat "$T/X1.err"; }
wait $pid2 || { bad "concurrent run 2 (--jobs 2)"; cat "$T/X2.err"; }
same "$T/X1" "$T/A23" "concurrent run 1 vs serial"
same "$T/X2" "$T/A23" "concurrent run 2 vs serial"
read -r p h m <<<"$(counts "$T/X2")"
[ -n "$p" ] && [ $((h + m)) = 126 ] || bad "--jobs 2: lookups summed over the children: expected 126, got '$h' + '$m'"
[ -z "$(find "$T/CC" -name '*.corrupt' -o -name '.*' -type f)" ] || bad "moved-aside or temp files: $(find "$T/CC" -name '.*')"
grep -qi 'corrupt\|invalid' "$T/X1.err" "$T/X2.err" && bad "concurrent runs reported: $(grep -hi 'corrupt\|invalid' "$T"/X?.err)"
# --jobs 2 over 3 categories: the third child starts after one ended; each sends only its own counts
demo "$T/CJ" "$T/J" 2,3 --set categories=synth_grid,synth_fabric,synth_disc --jobs 2 || bad "--jobs 2, 3 categories"
[ "$(passes_of "$T/J")" = 24 ] || bad "--jobs 2, 3 categories: 24 passes expected, got $(passes_of "$T/J")"
# afterwards the cache is complete for both
demo "$T/CC" "$T/X3" 2,3 || bad "run after the concurrent ones"
[ "$(passes_of "$T/X3")" = 0 ] || bad "after the concurrent runs: 0 passes expected, got $(passes_of "$T/X3")"

[ $fail = 0 ] && echo "test_cache_share.sh: ok"
exit $fail
