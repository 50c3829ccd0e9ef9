#!/usr/bin/env bash
# test_custom_data.sh - your own images (issue 11): a synthetic folder evaluated in both layouts
# (MVTec tree, CSV list), each with and without masks (pixel metrics n/a, never 0 or nan);
# grey and 16-bit images; an unreadable file named before any compute; a CSV path escaping its
# folder refused naming line and field; `winclip score --out` with a given threshold and with
# --threshold-from a run (the decisions reproduce the run's F1max), --masks; the text prototype
# cache reused, and invalidated by a prompt setting and by another model; the README's commands.
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/lib_fixtures.sh"
[ -n "$SHARED" ] || need_fixture test_custom_data.sh "(WINCLIP_SHARED not set)"
SHARED=$(cd "$SHARED" && pwd)
export WINCLIP_VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
need_fixture test_custom_data.sh "$WINCLIP_VOCAB"
command -v python3 >/dev/null || { echo "SKIP test_custom_data.sh: python3 missing"; exit 77; }
T=$(mktemp -d /tmp/winclip_custom.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
export WINCLIP_CACHE_DIR=$T/cache
fail=0
bad() { echo "FAIL $*"; fail=1; }

"$BIN" synth --out "$T/data" --categories 1 --size 64 --train 2 --test 3 >/dev/null || { echo "FAIL synth"; exit 1; }
MODEL=$SHARED/fixtures/tiny_clip/model.h5
[ -f "$MODEL" ] || { MODEL=$T/model.h5; "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null || exit 1; }
C=synth_grid
# one grey 16-bit normal image and one odd-aspect grey 8-bit defective one, written with zlib only
python3 - "$T/data/$C" <<'PY'
import struct, sys, zlib
def png(path, w, h, depth, rows):
    raw = b"".join(b"\0" + r for r in rows)
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, 0, 0, 0, 0)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
root = sys.argv[1]
png(root + "/test/good/grey16.png", 64, 64, 16, [b"".join(struct.pack(">H", (x * 997 + y * 31) % 65536) for x in range(64)) for y in range(64)])
png(root + "/test/hole/wide.png", 96, 48, 8, [bytes((x * 3 + y) % 256 for x in range(96)) for y in range(48)])
png(root + "/ground_truth/hole/wide_mask.png", 96, 48, 8, [bytes(255 if 40 < x < 60 and 10 < y < 30 else 0 for x in range(96)) for y in range(48)])
PY
# the four datasets: mvtec with / without masks, csv with / without masks
mkdir -p "$T/mv_masks" "$T/mv_nomask" "$T/csv_masks" "$T/csv_nomask"
cp -r "$T/data/$C" "$T/mv_masks/"
cp -r "$T/data/$C" "$T/mv_nomask/" && rm -rf "$T/mv_nomask/$C/ground_truth"
for d in csv_masks csv_nomask; do
    cp -r "$T/data/$C" "$T/$d/imgs"
    (cd "$T/$d" && {
        echo "path,label,mask"
        for f in imgs/train/good/*.png; do echo "$f,train,"; done
        for f in imgs/test/*/*.png; do
            t=$(basename "$(dirname "$f")"); s=$(basename "$f" .png)
            if [ "$t" = good ]; then echo "$f,good,"
            elif [ "$d" = csv_masks ]; then echo "$f,$t,imgs/ground_truth/$t/${s}_mask.png"
            else echo "$f,$t,"; fi
        done
    } >"$C.csv")
done
run_one() { # name root layout
    "$BIN" run "$REPO/experiments/custom.conf" --set root="$2" --set layout="$3" --set categories=$C \
        --set weights="$MODEL" --set k_shots=0,1 --results "$T/R_$1" >"$T/out_$1" 2>"$T/err_$1" ||
        { bad "$1: run"; cat "$T/err_$1"; return 1; }
    "$BIN" report --results "$T/R_$1" --tables "$T/tables_$1" custom >"$T/rep_$1" 2>&1 || { bad "$1: report"; cat "$T/rep_$1"; }
}
for spec in "mv_masks mvtec 1" "mv_nomask mvtec 0" "csv_masks csv 1" "csv_nomask csv 0"; do
    set -- $spec
    run_one "$1" "$T/$1" "$2" || continue
    U=$T/R_$1/custom/custom/$C/k0
    [ "$(tail -n +2 "$U/scores.tsv" | wc -l)" = 8 ] || bad "$1: 8 test images scored (grey16 and wide included)"
    grep -q "^image_auroc	0\.[0-9]" "$U/metrics.tsv" || grep -q "^image_auroc	1$" "$U/metrics.tsv" || bad "$1: image_auroc"
    grep -q "nan" "$U/metrics.tsv" "$T/R_$1/custom/summary.md" && bad "$1: 'nan' in metrics.tsv or summary.md"
    [ -s "$T/R_$1/custom/index.html" ] || bad "$1: index.html"
    if [ "$3" = 1 ]; then
        grep -q "^pixel_auroc	0\.[0-9]" "$U/metrics.tsv" || bad "$1: pixel_auroc computed with masks"
        grep -q "with ground-truth masks (pixel metrics): custom/$C\." "$T/R_$1/custom/index.html" || bad "$1: mask note"
    else
        for m in pixel_auroc pixel_f1max aupro_0.3 pixel_f1_threshold; do
            grep -q "^$m	n/a$" "$U/metrics.tsv" || bad "$1: $m should be n/a"
        done
        grep -q "| $C | [0-9.]* | [0-9.]* | [0-9.]* | n/a | n/a | n/a |" "$T/R_$1/custom/summary.md" || { bad "$1: n/a in the table"; cat "$T/R_$1/custom/summary.md"; }
        grep -q "p-AUROC n/a" "$T/out_$1" || bad "$1: run line says p-AUROC n/a"
        grep -q "without masks (image-level metrics only; pixel metrics n/a): custom/$C\." "$T/R_$1/custom/index.html" || bad "$1: mask note"
        grep -q "Without masks (image-level metrics only; pixel metrics n/a): custom/$C\." "$T/R_$1/custom/summary.md" || bad "$1: mask note in summary.md"
    fi
done
# the two layouts agree on the image scores (same images, same order of scores by name)
cut -f3 "$T/R_mv_masks/custom/custom/$C/k0/scores.tsv" | sort >"$T/s1"
cut -f3 "$T/R_csv_nomask/custom/custom/$C/k0/scores.tsv" | sort >"$T/s2"
cmp -s "$T/s1" "$T/s2" || bad "mvtec and csv layouts give other scores"

# ---- validation before any compute ----
cp -r "$T/csv_nomask" "$T/csv_bad"
head -c 100 "$T/csv_bad/imgs/test/good/000.png" >"$T/csv_bad/imgs/test/good/001.png" # truncated PNG
"$BIN" run "$REPO/experiments/custom.conf" --set root="$T/csv_bad" --set layout=csv --set categories=$C \
    --set weights="$MODEL" --results "$T/R_bad" >/dev/null 2>"$T/err"
[ $? != 0 ] || bad "truncated image: run should fail"
grep -q "imgs/test/good/001.png: image cannot be decoded" "$T/err" || { bad "truncated image not named"; cat "$T/err"; }
[ -z "$(find "$T/R_bad" -name scores.tsv 2>/dev/null)" ] || bad "truncated image: something was computed"
cp -r "$T/mv_nomask" "$T/mv_bad" && cp "$T/csv_bad/imgs/test/good/001.png" "$T/mv_bad/$C/test/good/001.png"
"$BIN" run "$REPO/experiments/custom.conf" --set root="$T/mv_bad" --set categories=$C --set weights="$MODEL" \
    --results "$T/R_bad" >/dev/null 2>"$T/err"
grep -q "$C/test/good/001.png: image cannot be decoded" "$T/err" || { bad "truncated image (mvtec layout) not named"; cat "$T/err"; }
printf 'path,label\n../outside.png,good\n' >"$T/csv_bad/$C.csv"
"$BIN" run "$REPO/experiments/custom.conf" --set root="$T/csv_bad" --set layout=csv --set categories=$C \
    --set weights="$MODEL" --results "$T/R_bad" >/dev/null 2>"$T/err"
grep -q "$C.csv:2: field 'path' = '../outside.png'" "$T/err" || { bad "escaping path: line and field"; cat "$T/err"; }
printf 'path,label\nimgs/test/good/000.png,goood?\n' >"$T/csv_bad/$C.csv"
"$BIN" run "$REPO/experiments/custom.conf" --set root="$T/csv_bad" --set layout=csv --set categories=$C \
    --set weights="$MODEL" --results "$T/R_bad" >/dev/null 2>"$T/err"
grep -q "$C.csv:2: field 'label' = 'goood?'" "$T/err" || { bad "bad label: line and field"; cat "$T/err"; }

# ---- score: a given threshold ----
TEST=$T/mv_masks/$C/test
"$BIN" score -m "$MODEL" --class $C --out "$T/sc1" --threshold 0.5 "$TEST" >"$T/out" 2>"$T/err" || { bad "score --threshold"; cat "$T/err"; }
[ "$(head -1 "$T/sc1/scores.csv")" = "path,score,decision" ] || bad "scores.csv header"
[ "$(tail -n +2 "$T/sc1/scores.csv" | wc -l)" = 8 ] || bad "scores.csv: 8 rows (folder expanded)"
awk -F, 'NR > 1 { want = ($2 >= 0.5) ? "anomalous" : "normal"; if ($3 != want) bad = 1 } END { exit bad }' "$T/sc1/scores.csv" || bad "decision != (score >= 0.5)"
grep -q "^image_threshold = 0.5$" "$T/sc1/threshold.txt" && grep -q "^source = command line$" "$T/sc1/threshold.txt" || bad "threshold.txt (given)"
[ "$(ls "$T/sc1/overlays"/*.png | wc -l)" = 8 ] || bad "8 overlays"
"$BIN" score -m "$MODEL" --class $C --out "$T/sc2" "$TEST/good/000.png" >/dev/null 2>&1 || bad "score without threshold"
[ "$(head -1 "$T/sc2/scores.csv")" = "path,score" ] && [ ! -e "$T/sc2/threshold.txt" ] || bad "no decision column without a threshold"
"$BIN" score -m "$MODEL" --class $C --masks --out "$T/sc3" "$TEST" >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "pixel threshold" "$T/err" || bad "--masks without a pixel threshold: usage error"
"$BIN" score -m "$MODEL" --class $C --threshold 0.5 "$TEST" >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "need --out" "$T/err" || bad "--threshold without --out: usage error"

# ---- score: thresholds from a run reproduce its F1max ----
RUN=$T/R_mv_masks/custom/custom/$C/k0
printf 'path\n' >"$T/list.csv"; tail -n +2 "$RUN/scores.tsv" | cut -f1 | sed "s|^$T/||" >>"$T/list.csv"
"$BIN" score -m "$MODEL" --class $C --out "$T/sc4" --threshold-from "$RUN" --masks "$T/list.csv" >"$T/out" 2>"$T/err" || { bad "score --threshold-from"; cat "$T/err"; }
thr=$(awk -F'\t' '$1 == "image_f1_threshold" { print $2 }' "$RUN/metrics.tsv")
f1=$(awk -F'\t' '$1 == "image_f1max" { print $2 }' "$RUN/metrics.tsv")
grep -q "^image_threshold = " "$T/sc4/threshold.txt" && grep -q "^pixel_threshold = [0-9]" "$T/sc4/threshold.txt" &&
    grep -q "^source = $RUN/metrics.tsv" "$T/sc4/threshold.txt" || { bad "threshold.txt (from run)"; cat "$T/sc4/threshold.txt"; }
paste -d, <(tail -n +2 "$RUN/scores.tsv" | cut -f2) <(tail -n +2 "$T/sc4/scores.csv") >"$T/joined"
# scores are float32 printed with 9 digits (%.9g, exact for float32), the threshold is the same
# float32 with 17: compare both at 9 digits, or a score equal to the threshold (always one: the
# F1-max threshold is a score) reads as below it whenever its 9-digit form rounds down
awk -F, -v f1="$f1" -v thr="$thr" 'BEGIN { thr = sprintf("%.9g", thr) + 0 } { tp += ($1 == 1 && $4 == "anomalous"); fp += ($1 == 0 && $4 == "anomalous");
    fn += ($1 == 1 && $4 == "normal"); if (($3 >= thr) != ($4 == "anomalous")) bad = 1 }
    END { got = 2 * tp / (2 * tp + fp + fn); if (bad || got - f1 > 1e-9 || f1 - got > 1e-9) { print "F1 " got " vs " f1; exit 1 } }' \
    "$T/joined" || bad "decisions from the run's threshold do not reproduce its i-F1max"
[ "$(ls "$T/sc4/masks"/*.png | wc -l)" = 8 ] || bad "8 masks"
cmp -s <(tail -n +2 "$RUN/scores.tsv" | cut -f3) <(tail -n +2 "$T/sc4/scores.csv" | cut -d, -f2) || bad "k0: scores differ from the run's"
python3 - "$T/sc4/masks" <<'PY' || bad "masks are not binary 0/255 PNGs"
import sys, os, zlib, struct
for n in os.listdir(sys.argv[1]):
    b = open(os.path.join(sys.argv[1], n), "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, ctype = struct.unpack(">IIBB", b[16:26])
    assert depth == 8 and ctype == 0, (n, depth, ctype)
    i, data = 8, b""
    while i < len(b):
        ln = struct.unpack(">I", b[i:i + 4])[0]; t = b[i + 4:i + 8]
        if t == b"IDAT": data += b[i + 8:i + 8 + ln]
        i += 12 + ln
    raw = zlib.decompress(data)
    vals = set(raw[r * (w + 1) + 1 + c] for r in range(h) for c in range(w) if raw[r * (w + 1)] == 0)
    assert vals <= {0, 255}, (n, vals)
PY
# a K = 1 unit: its references and settings are taken over, the scores are the run's
RUN1=$T/R_mv_masks/custom/custom/$C/k1_s0
"$BIN" score -m "$MODEL" --class $C --out "$T/sc8" --threshold-from "$RUN1" "$T/list.csv" >/dev/null 2>"$T/err" || { bad "score --threshold-from k1"; cat "$T/err"; }
cmp -s <(tail -n +2 "$RUN1/scores.tsv" | cut -f3) <(tail -n +2 "$T/sc8/scores.csv" | cut -d, -f2) || bad "k1: scores differ from the run's"
"$BIN" score -m "$MODEL" --class $C --set temperature=0.07 --out "$T/sc5" --threshold-from "$RUN" "$TEST" >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "temperature" "$T/err" || { bad "--threshold-from with other settings: exit 2 naming the key"; cat "$T/err"; }
"$BIN" score -m "$MODEL" --class $C --out "$T/sc6" --threshold-from "$T/R_mv_nomask/custom/custom/$C/k0" --masks "$TEST" >/dev/null 2>"$T/err"
[ $? = 1 ] && grep -q "no pixel threshold" "$T/err" || { bad "--masks from a run without masks"; cat "$T/err"; }
head -c 50 "$TEST/good/000.png" >"$T/trunc.png"
"$BIN" score -m "$MODEL" --class $C --out "$T/sc7" "$TEST/good/000.png" "$T/trunc.png" >"$T/out" 2>"$T/err"
[ $? = 1 ] && grep -q "trunc.png" "$T/err" && [ ! -s "$T/out" ] || bad "unreadable input: named, nothing scored"

# ---- text prototype cache: reused, invalidated by prompt settings and by the model ----
export WINCLIP_CACHE_DIR=$T/cache2
t() { "$BIN" score -m "$1" --class $C --timings "${@:2}" "$TEST/good/000.png" 2>&1 >/dev/null | grep text_cache_hits; }
t "$MODEL" | grep -q "text_cache_hits 0 text_cache_misses 1 sha256_cached 0" || bad "text cache: first start computes"
t "$MODEL" | grep -q "text_cache_hits 1 text_cache_misses 0 sha256_cached 1" || bad "text cache: second start reuses (and the sha256)"
t "$MODEL" --set prompts=single | grep -q "text_cache_hits 0 text_cache_misses 1" || bad "text cache: prompts change -> recompute"
t "$MODEL" --set prototypes=mean | grep -q "text_cache_hits 0 text_cache_misses 1" || bad "text cache: prototypes change -> recompute"
t "$MODEL" --set extra_anomalous_states=bent | grep -q "text_cache_hits 0" || bad "text cache: extra states -> recompute"
t "$MODEL" --set class_name=widget | grep -q "text_cache_hits 0" || bad "text cache: class word -> recompute"
t "$MODEL" --set temperature=0.07 | grep -q "text_cache_hits 1" || bad "text cache: temperature does not change prototypes"
"$BIN" make-random-model --arch tiny --seed 7 --out "$T/model2.h5" >/dev/null 2>&1 || "$BIN" make-random-model --arch tiny --out "$T/model2.h5" >/dev/null
t "$T/model2.h5" | grep -q "text_cache_hits 0 text_cache_misses 1" || bad "text cache: another model -> recompute"
s_cached=$("$BIN" score -m "$MODEL" --class $C "$TEST/good/000.png" 2>/dev/null | cut -f2)
for f in "$T/cache2"/text/text-*.bin; do printf 'X' | dd of="$f" bs=1 seek=300 conv=notrunc 2>/dev/null; done
"$BIN" score -m "$MODEL" --class $C --timings "$TEST/good/000.png" >"$T/out" 2>"$T/err"
grep -q "text_cache_hits 0" "$T/err" && grep -q "text cache .*: recomputed" "$T/err" || { bad "text cache: a corrupt file is recomputed, said so"; cat "$T/err"; }
[ "$(cut -f2 "$T/out")" = "$s_cached" ] || bad "text cache: recomputed score differs"
WINCLIP_CACHE_DIR=off "$BIN" score -m "$MODEL" --class $C --timings "$TEST/good/000.png" 2>&1 >/dev/null | grep -q "text_cache_hits 0 text_cache_misses 0" || bad "WINCLIP_CACHE_DIR=off"
"$BIN" score -m "$MODEL" --class $C --cache "$T/fc/feat.h5" "$TEST/good/000.png" >/dev/null 2>&1
ls "$T/fc/text"/text-*.bin >/dev/null 2>&1 || bad "text cache beside the feature cache"

# ---- the README's three commands, from a copy of the project root (weights: the test model) ----
mkdir -p "$T/root" && cp -r "$REPO/paper-tables" "$T/root/" && ln -s "$REPO/experiments" "$REPO/configs" "$T/root/"
mkdir -p "$T/new" && cp "$TEST/good/000.png" "$T/new/good.png" && cp "$TEST/hole/000.png" "$T/new/hole.png"
(cd "$T/root" &&
    "$BIN" run experiments/custom.conf --set root="$T/mv_masks" --set categories=$C --set weights="$MODEL" >/dev/null 2>&1 &&
    "$BIN" report custom >/dev/null 2>&1 &&
    "$BIN" score -m "$MODEL" --class $C --out scored --threshold-from results/custom/custom/$C/k0 --masks "$T/new/" >/dev/null 2>&1) ||
    bad "the README commands"
[ -s "$T/root/results/custom/index.html" ] && [ -s "$T/root/results/custom/summary.md" ] || bad "README: report outputs"
[ "$(tail -n +2 "$T/root/scored/scores.csv" | wc -l)" = 2 ] && [ -s "$T/root/scored/threshold.txt" ] &&
    [ "$(ls "$T/root/scored/masks" | wc -l)" = 2 ] || bad "README: score outputs"

[ $fail = 0 ] && echo "test_custom_data.sh: ok"
exit $fail
