#!/usr/bin/env bash
# test_fetch_mirrors.sh - datasets/fetch_datasets.sh's mirror list (datasets/lib_fetch.sh) against
# a local HTTP server on 127.0.0.1 (a tiny python3 server with Range support on a free port,
# logging each request), serving a small MVTec-layout tar.xz made here (empty files, the real
# per-category counts). Only 127.0.0.1 is contacted. Cases:
# 1. a first mirror that 404s, then a good one: success, the 404 named with its URL;
# 2. a truncated transfer (a .part holding the first half in place): resumed with a Range
#    request from the half, the result's sha256 is right and the data is extracted;
#    (2b: a complete .part, answered 416, is used; 2c: a stale .part is refused and refetched)
# 3. a mirror serving a file with the wrong sha256: refused (exit 1, clear message), nothing kept,
#    nothing extracted;
# 4. datasets/fetch_weights.sh: the tiny shared model and the vocabulary after a 404 each, converted;
#    a wrong pinned sha256 refused (needs build/winclip and ../shared, else SKIP after 1-3).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT=$ROOT/datasets/fetch_datasets.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/winclip-mirrors-XXXXXX")
SERVER_PID=""
cleanup() { [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
fail() { echo "FAIL test_fetch_mirrors: $*"; exit 1; }
command -v curl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 && command -v xz >/dev/null 2>&1 ||
  { echo "SKIP test_fetch_mirrors: needs curl, python3 and xz"; exit 77; } # 77: skipped (lib_fixtures.sh)

# ---- the archive: MVTec layout, one defect type per category, empty image files ----
mkdir -p "$TMP/src" "$TMP/www"
sed -n '/^MVTEC_COUNTS="/,/"$/p' "$SCRIPT" | tr -d '"' | sed 's/^MVTEC_COUNTS=//' >"$TMP/counts"
[ "$(wc -l <"$TMP/counts")" = 15 ] || fail "could not read MVTEC_COUNTS from $SCRIPT"
python3 - "$TMP/src" "$TMP/counts" <<'EOF' || fail "could not make the fixture tree"
import os, sys
root, counts = sys.argv[1], sys.argv[2]
for line in open(counts):
    c, tr, tg, td = line.split()
    for sub, n, suffix in (("train/good", tr, ""), ("test/good", tg, ""), ("test/crack", td, ""),
                           ("ground_truth/crack", td, "_mask")):
        d = os.path.join(root, c, sub)
        os.makedirs(d, exist_ok=True)
        for i in range(int(n)):
            open(os.path.join(d, "%03d%s.png" % (i, suffix)), "w").close()
EOF
tar -C "$TMP/src" -cJf "$TMP/www/mvtec.tar.xz" . || fail "tar -cJ failed"
echo "some other archive" | xz >"$TMP/www/other.tar.xz"
SHA=$(sha256sum "$TMP/www/mvtec.tar.xz" | cut -d' ' -f1)
SIZE=$(stat -c %s "$TMP/www/mvtec.tar.xz")

# ---- the server: 127.0.0.1, port 0 (the kernel picks), prints its port, logs Range headers ----
cat >"$TMP/server.py" <<'EOF'
import http.server, os, re, sys
root, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        rng = self.headers.get("Range", "")
        with open(log, "a") as f: f.write("GET %s range=%s\n" % (self.path, rng or "-"))
        p = os.path.join(root, os.path.basename(self.path))
        if not os.path.isfile(p):
            self.send_error(404); return
        data = open(p, "rb").read()
        m = re.match(r"bytes=(\d+)-$", rng)
        start = int(m.group(1)) if m else 0
        if start >= len(data) and m:
            self.send_response(416); self.send_header("Content-Range", "bytes */%d" % len(data))
            self.end_headers(); return
        self.send_response(206 if m else 200)
        if m: self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(data) - start)); self.end_headers()
        self.wfile.write(data[start:])
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
: >"$TMP/log"
python3 "$TMP/server.py" "$TMP/www" "$TMP/log" >"$TMP/port" 2>"$TMP/server.err" &
SERVER_PID=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$TMP/port")
[ -n "$PORT" ] || fail "the local server did not start: $(cat "$TMP/server.err")"
BASE=http://127.0.0.1:$PORT

run() { # DATA_DIR env... -> sets rc, out. No proxy, so only 127.0.0.1 is contacted.
  local data=$1; shift
  out=$(env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u all_proxy -u ALL_PROXY \
    NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 WINCLIP_DATA_DIR="$data" ONLY=mvtec WINCLIP_MVTEC_URL= \
    WINCLIP_MVTEC_SHA256="$SHA" "$@" timeout 120 bash "$SCRIPT" 2>&1); rc=$?
}

# ---- 1. a 404 first, then the good mirror ----
run "$TMP/d1" WINCLIP_MVTEC_MIRRORS="$BASE/gone/missing.tar.xz $BASE/mvtec.tar.xz"
[ $rc = 0 ] || fail "404 then good mirror: exit $rc: $out"
echo "$out" | grep -qF "$BASE/gone/missing.tar.xz: HTTP 404" || fail "the 404 is not named with its URL: $out"
echo "$out" | grep -q "15 categories, counts as expected" || fail "extracted data not checked: $out"
[ "$(sha256sum "$TMP/d1/mvtec_anomaly_detection.tar.xz" | cut -d' ' -f1)" = "$SHA" ] || fail "case 1: wrong archive kept"
[ -d "$TMP/d1/mvtec_anomaly_detection/bottle/train/good" ] || fail "case 1: not extracted"
[ ! -e "$TMP/d1/mvtec_anomaly_detection.tar.xz.part" ] || fail "case 1: .part left behind"

# ---- 2. a truncated transfer resumes from the .part ----
mkdir -p "$TMP/d2"
HALF=$((SIZE / 2))
head -c "$HALF" "$TMP/www/mvtec.tar.xz" >"$TMP/d2/mvtec_anomaly_detection.tar.xz.part"
: >"$TMP/log"
run "$TMP/d2" WINCLIP_MVTEC_MIRRORS="$BASE/mvtec.tar.xz"
[ $rc = 0 ] || fail "resume: exit $rc: $out"
grep -qx "GET /mvtec.tar.xz range=bytes=$HALF-" "$TMP/log" || fail "no Range request from byte $HALF: $(cat "$TMP/log")"
[ "$(grep -c . "$TMP/log")" = 1 ] || fail "resume: more than one request: $(cat "$TMP/log")"
echo "$out" | grep -q "resuming at byte $HALF" || fail "resume not reported: $out"
[ "$(sha256sum "$TMP/d2/mvtec_anomaly_detection.tar.xz" | cut -d' ' -f1)" = "$SHA" ] || fail "resumed file has the wrong sha256"
[ -d "$TMP/d2/mvtec_anomaly_detection/zipper/ground_truth" ] || fail "case 2: not extracted"

# ---- 2b. a complete .part left by an interrupted run (server answers 416): used as it is ----
mkdir -p "$TMP/d2b"
cp "$TMP/www/mvtec.tar.xz" "$TMP/d2b/mvtec_anomaly_detection.tar.xz.part"
: >"$TMP/log"
run "$TMP/d2b" WINCLIP_MVTEC_MIRRORS="$BASE/mvtec.tar.xz"
[ $rc = 0 ] || fail "complete .part: exit $rc: $out"
grep -qx "GET /mvtec.tar.xz range=bytes=$SIZE-" "$TMP/log" || fail "complete .part: $(cat "$TMP/log")"
[ -d "$TMP/d2b/mvtec_anomaly_detection/bottle" ] || fail "case 2b: not extracted"

# ---- 2c. a stale .part from another file: the resumed result is refused, refetched from byte 0 ----
mkdir -p "$TMP/d2c"
head -c "$HALF" /dev/zero >"$TMP/d2c/mvtec_anomaly_detection.tar.xz.part"
: >"$TMP/log"
run "$TMP/d2c" WINCLIP_MVTEC_MIRRORS="$BASE/mvtec.tar.xz"
[ $rc = 0 ] || fail "stale .part: exit $rc: $out"
echo "$out" | grep -q "refused" || fail "stale .part: the bad result was not refused: $out"
[ "$(sed -n 2p "$TMP/log")" = "GET /mvtec.tar.xz range=-" ] || fail "stale .part: no fresh refetch: $(cat "$TMP/log")"
[ "$(sha256sum "$TMP/d2c/mvtec_anomaly_detection.tar.xz" | cut -d' ' -f1)" = "$SHA" ] || fail "case 2c: wrong sha256"

# ---- 3. a wrong checksum is refused, nothing is kept or extracted ----
run "$TMP/d3" WINCLIP_MVTEC_MIRRORS="$BASE/other.tar.xz"
[ $rc != 0 ] || fail "a wrong checksum was accepted: $out"
bad=$(sha256sum "$TMP/www/other.tar.xz" | cut -d' ' -f1)
echo "$out" | grep -qF "$BASE/other.tar.xz: sha256 $bad, expected $SHA" || fail "no clear sha256 message: $out"
echo "$out" | grep -q "refused" || fail "message does not say the file was refused: $out"
echo "$out" | grep -qF "$TMP/d3/mvtec_anomaly_detection.tar.xz" || fail "by-hand path not named: $out"
echo "$out" | grep -qF "https://www.mvtec.com/company/research/datasets/mvtec-ad" || fail "official page not named: $out"
[ ! -e "$TMP/d3/mvtec_anomaly_detection" ] && [ ! -e "$TMP/d3/mvtec_anomaly_detection.extracting" ] ||
  fail "data extracted from a refused archive"
[ ! -e "$TMP/d3/mvtec_anomaly_detection.tar.xz" ] && [ ! -e "$TMP/d3/mvtec_anomaly_detection.tar.xz.part" ] ||
  fail "refused file kept: $(ls "$TMP/d3")"
[ ! -e "$TMP/d3/.stamps/mvtec.verified" ] || fail "refused file stamped verified"

# ---- 4. weights and vocabulary (datasets/fetch_weights.sh) from the same server ----
SHARED=${WINCLIP_SHARED:-$ROOT/../shared}
. "$ROOT/tests/lib_fixtures.sh"
BIN=${WINCLIP_BIN:-$ROOT/build/winclip}
[ -x "$BIN" ] || { echo "SKIP test_fetch_mirrors part 4 (parts 1-3 passed): $BIN not built"; exit "$WINCLIP_SKIP"; }
need_fixture "test_fetch_mirrors part 4 (parts 1-3 passed)" "$SHARED/fixtures/tiny_clip/model.safetensors" \
  "$SHARED/clip/bpe_simple_vocab_16e6.txt.gz"
ln -s "$(cd "$SHARED" && pwd)/fixtures/tiny_clip/model.safetensors" "$TMP/www/model.safetensors"
ln -s "$(cd "$SHARED" && pwd)/clip/bpe_simple_vocab_16e6.txt.gz" "$TMP/www/bpe_simple_vocab_16e6.txt.gz"
printf 'weights = datasets/weights/tiny.h5\narch = tiny\nsource_url = http://127.0.0.1:9/never-used\n' >"$TMP/tiny.conf"
runw() { # WEIGHTS_DIR env... -> rc, out
  local dir=$1; shift
  out=$(env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u all_proxy -u ALL_PROXY \
    NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 WINCLIP_BIN="$BIN" WINCLIP_WEIGHTS_DIR="$dir" WINCLIP_VOCAB_URL= \
    WINCLIP_WEIGHTS_URL= WINCLIP_WEIGHTS_MIRRORS="$BASE/gone.safetensors $BASE/model.safetensors" \
    WINCLIP_VOCAB_MIRRORS="$BASE/gone.txt.gz $BASE/bpe_simple_vocab_16e6.txt.gz" "$@" \
    timeout 120 bash "$ROOT/datasets/fetch_weights.sh" "$TMP/tiny.conf" 2>&1); rc=$?
}
runw "$TMP/w1"
[ $rc = 0 ] || fail "weights from the local mirrors: exit $rc: $out"
echo "$out" | grep -qF "$BASE/gone.safetensors: HTTP 404" || fail "weights: the 404 is not named: $out"
echo "$out" | grep -qF "$BASE/gone.txt.gz: HTTP 404" || fail "vocabulary: the 404 is not named: $out"
[ -f "$TMP/w1/tiny.h5" ] && [ -f "$TMP/w1/bpe_simple_vocab_16e6.txt.gz" ] || fail "weights: outputs missing: $(ls "$TMP/w1")"
runw "$TMP/w2" WINCLIP_WEIGHTS_SHA256=0000000000000000000000000000000000000000000000000000000000000000
[ $rc != 0 ] || fail "weights: a wrong checksum was accepted: $out"
echo "$out" | grep -q "model.safetensors: sha256 [0-9a-f]*, expected 0000" || fail "weights: no sha256 message: $out"
[ ! -e "$TMP/w2/tiny.safetensors" ] && [ ! -e "$TMP/w2/tiny.safetensors.part" ] && [ ! -e "$TMP/w2/tiny.h5" ] ||
  fail "weights: refused file kept or converted: $(ls "$TMP/w2")"

# every request went to this server (a request elsewhere would have failed the cases above)
grep -v "^GET /" "$TMP/log" && fail "unexpected server log lines"
echo "test_fetch_mirrors: ok"
