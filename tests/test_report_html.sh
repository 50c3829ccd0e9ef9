#!/usr/bin/env bash
# test_report_html.sh - `winclip report` writes results/<exp>/index.html, and a real headless
# browser (Debian's chromium) loads it: every <img> it references exists inside the experiment
# folder and decodes (naturalWidth > 0, checked by a probe script added to a copy of the page),
# no console message, no network or script needed, and a screenshot is not blank (distinct
# colours counted). Skipped (77) without
# chromium (`make test` installs it).
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/tests/lib_fixtures.sh"
[ -n "$SHARED" ] || need_fixture test_report_html.sh "(WINCLIP_SHARED not set)"
SHARED=$(cd "$SHARED" && pwd)
export WINCLIP_VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
need_fixture test_report_html.sh "$WINCLIP_VOCAB"
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then echo "SKIP test_report_html.sh: chromium not installed (make test installs it)"; exit 77; fi
command -v python3 >/dev/null || { echo "SKIP test_report_html.sh: python3 missing"; exit 77; }
T=$(mktemp -d /tmp/winclip_html.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
export WINCLIP_CACHE_DIR=$T/cache
fail=0
bad() { echo "FAIL $*"; fail=1; }

"$BIN" synth --out "$T/data" --categories 2 --size 64 --train 2 --test 3 >/dev/null || { echo "FAIL synth"; exit 1; }
rm -rf "$T/data/synth_fabric/ground_truth" # one category without masks
MODEL=$SHARED/fixtures/tiny_clip/model.h5
[ -f "$MODEL" ] || { MODEL=$T/model.h5; "$BIN" make-random-model --arch tiny --out "$MODEL" >/dev/null || exit 1; }
"$BIN" run "$REPO/experiments/custom.conf" --set root="$T/data" --set categories=synth_grid,synth_fabric \
    --set weights="$MODEL" --set k_shots=0,1 --results "$T/R" >/dev/null 2>"$T/err" || { echo "FAIL run"; cat "$T/err"; exit 1; }
"$BIN" report --results "$T/R" --tables "$T/tables" custom >"$T/out" 2>&1 || { echo "FAIL report"; cat "$T/out"; exit 1; }
E=$T/R/custom
H=$E/index.html
[ -s "$H" ] || { echo "FAIL no index.html"; exit 1; }
grep -q "wrote $E/index.html" "$T/out" || bad "report names index.html"
grep -qi "<script" "$H" && bad "index.html has a script"
grep -qiE "(src|href)=\"(https?:|//)" "$H" && bad "index.html links the network"
grep -q "with ground-truth masks (pixel metrics): custom/synth_grid\." "$H" || bad "mask note: synth_grid has masks"
grep -q "without masks (image-level metrics only; pixel metrics n/a): custom/synth_fabric\." "$H" || bad "mask note: synth_fabric"
grep -q "<td>synth_fabric</td>.*<td>n/a</td>" "$H" || bad "n/a cells for the category without masks"
grep -q "highest-scoring normal images" "$H" && grep -q "lowest-scoring defective images" "$H" || bad "gallery headings"
# every image the page names exists inside the experiment folder
n_img=0
for src in $(grep -o 'src="[^"]*"' "$H" | sed 's/^src="//; s/"$//'); do
    n_img=$((n_img + 1))
    case "$src" in /*|*..*) bad "image outside the experiment folder: $src";; esac
    [ -f "$E/$src" ] || bad "missing image $src"
done
[ $n_img -ge 10 ] || bad "only $n_img images on the page"
grep -q 'overlays/good_[0-9]*\.png' "$H" && grep -q 'plots/custom_roc_image_k0.png' "$H" && grep -q 'plots/custom_bars_image_auroc_k0.png' "$H" ||
    bad "overlays, ROC panel and bars on the page"
grep -q "score [0-9]" "$H" || bad "scores under the overlays"

# ---- the browser: DOM with decoded images, console, screenshot ----
# The page itself has no script; the test loads a copy (same folder, so the same relative links)
# with a probe appended that logs every image the browser could not decode (naturalWidth 0) and
# marks the DOM when all decoded; chromium logs console messages as INFO:CONSOLE lines.
flags="--headless --disable-gpu --no-sandbox --no-first-run --disable-extensions --disable-background-networking --enable-logging=stderr --v=0 --user-data-dir=$T/profile"
P=$E/.probe_index.html
sed 's|</body></html>||' "$H" >"$P"
cat >>"$P" <<'PROBE'
<script>
window.addEventListener("load", function () {
  var bad = 0, imgs = document.images;
  for (var i = 0; i < imgs.length; i++)
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) { bad++; console.error("missing image " + imgs[i].getAttribute("src")); }
  var p = document.createElement("p"); p.id = "probe"; p.textContent = "probe: " + imgs.length + " images, " + bad + " missing";
  document.body.appendChild(p);
});
</script></body></html>
PROBE
timeout 120 "$CHROME" $flags --virtual-time-budget=10000 --dump-dom "file://$P" >"$T/dom.html" 2>"$T/dom.err" || bad "chromium --dump-dom failed"
rm -f "$P"
grep -q "<h1>WinCLIP on your own images</h1>" "$T/dom.html" || bad "rendered DOM lacks the title"
grep -q "probe: $n_img images, 0 missing" "$T/dom.html" || { bad "browser: images not all decoded"; grep -o 'probe: [^<]*' "$T/dom.html"; }
grep "INFO:CONSOLE" "$T/dom.err" >"$T/console"
[ ! -s "$T/console" ] || { bad "browser console messages"; cat "$T/console"; }
timeout 120 "$CHROME" $flags --window-size=1200,3000 --screenshot="$T/shot.png" "file://$H" >/dev/null 2>"$T/shot.err" || bad "chromium --screenshot failed"
grep "INFO:CONSOLE" "$T/shot.err" >"$T/console2"
[ ! -s "$T/console2" ] || { bad "browser console messages (screenshot)"; cat "$T/console2"; }
python3 - "$T/shot.png" <<'PY' || bad "screenshot blank or unreadable"
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h, depth, ctype = struct.unpack(">IIBB", b[16:26])
i, data = 8, b""
while i < len(b):
    n = struct.unpack(">I", b[i:i + 4])[0]
    if b[i + 4:i + 8] == b"IDAT": data += b[i + 8:i + 8 + n]
    i += 12 + n
raw = zlib.decompress(data)
bpp = {2: 3, 6: 4, 0: 1, 4: 2}[ctype] * depth // 8
stride = w * bpp
# undo the PNG filters to count colours
prev = bytearray(stride); colours = set()
for y in range(h):
    f = raw[y * (stride + 1)]; line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0; up = prev[x]; c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + up) & 255
        elif f == 3: line[x] = (line[x] + (a + up) // 2) & 255
        elif f == 4:
            p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
    if y % 4 == 0:
        for x in range(0, stride, bpp * 2): colours.add(bytes(line[x:x + 3]))
    prev = line
print("screenshot %dx%d, %d distinct colours (sampled)" % (w, h, len(colours)))
assert len(colours) > 50, "blank screenshot"
PY
[ $fail = 0 ] && echo "test_report_html.sh: ok"
exit $fail
