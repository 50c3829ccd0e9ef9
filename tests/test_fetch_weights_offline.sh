#!/usr/bin/env bash
# test_fetch_weights_offline.sh - datasets/fetch_weights.sh (`make weights`) without internet.
#
# 1. With the network forced off (a proxy on a closed local port, so this also holds on a
#    machine that is online) the script stops at once, naming the URL that failed and where
#    to put the file by hand, for both models.
# 2. A hand-placed file that is too small is rejected before any download.
# 3. The whole flow (download, sha256 record, convert, vocabulary check, idempotent rerun,
#    expected_sha256 mismatch) on the tiny fixture through file:// URLs.
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-../shared}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRIPT=$ROOT/datasets/fetch_weights.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/winclip-fetch-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_fetch_weights_offline.sh: FAIL: $*" >&2; exit 1; }
. "$ROOT/tests/lib_fixtures.sh"
command -v curl >/dev/null 2>&1 || { echo "SKIP test_fetch_weights_offline.sh: no curl"; exit "$WINCLIP_SKIP"; }

# Every curl request goes to a proxy that refuses connections: offline, whatever the machine.
offline() {
  env -u no_proxy -u NO_PROXY https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 WINCLIP_BIN="$BIN" "$@"
}
PLUS_URL=https://huggingface.co/timm/vit_base_patch16_plus_clip_240.laion400m_e31/resolve/main/open_clip_model.safetensors
OPENAI_URL=https://huggingface.co/timm/vit_base_patch16_clip_224.openai/resolve/main/open_clip_model.safetensors

# ---- 1. offline: fail fast, name the URL and the by-hand path ----
start=$(date +%s)
if offline WINCLIP_WEIGHTS_DIR="$tmp/w" bash "$SCRIPT" >"$tmp/out" 2>"$tmp/err"; then fail "offline run succeeded"; fi
[ $(( $(date +%s) - start )) -le 10 ] || fail "offline failure took more than 10 s"
grep -qF "$PLUS_URL" "$tmp/err" || fail "message does not name the URL: $(cat "$tmp/err")"
grep -qF "$tmp/w/vit_b_16_plus_240_laion400m_e31.safetensors" "$tmp/err" || fail "message does not name the path: $(cat "$tmp/err")"
grep -qF 'rerun `make weights`' "$tmp/err" || fail "message does not say to rerun make weights"
[ -z "$(ls -A "$tmp/w")" ] || fail "offline run left files: $(ls "$tmp/w")"

if offline MODEL=openai WINCLIP_WEIGHTS_DIR="$tmp/w" bash "$SCRIPT" >"$tmp/out" 2>"$tmp/err"; then fail "offline openai run succeeded"; fi
grep -qF "$OPENAI_URL" "$tmp/err" || fail "openai: message does not name the URL: $(cat "$tmp/err")"
grep -qF "$tmp/w/vit_b_16_openai.safetensors" "$tmp/err" || fail "openai: no by-hand path: $(cat "$tmp/err")"
grep -qF 'rerun `MODEL=openai make weights`' "$tmp/err" || fail "openai: rerun hint: $(cat "$tmp/err")"

if offline WINCLIP_WEIGHTS_DIR="$tmp/w" bash "$SCRIPT" nosuchmodel >"$tmp/out" 2>"$tmp/err"; then fail "unknown model accepted"; fi
grep -q "unknown model 'nosuchmodel'" "$tmp/err" || fail "unknown model: $(cat "$tmp/err")"

# ---- 2. a hand-placed file that is too small: rejected without touching the network ----
printf 'not a model' >"$tmp/w/vit_b_16_plus_240_laion400m_e31.safetensors"
if offline WINCLIP_WEIGHTS_DIR="$tmp/w" bash "$SCRIPT" >"$tmp/out" 2>"$tmp/err"; then fail "small file accepted"; fi
grep -q "is 11 bytes, expected more than 800000000" "$tmp/err" || fail "size check: $(cat "$tmp/err")"
rm -f "$tmp/w/"*

# ---- 3. the whole flow from a local mirror (file:// URLs) ----
MODEL_ST=$SHARED/fixtures/tiny_clip/model.safetensors
VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
need_fixture "test_fetch_weights_offline.sh part 3 (parts 1-2 passed)" "$MODEL_ST" "$VOCAB"
MODEL_ST=$(cd "$(dirname "$MODEL_ST")" && pwd)/model.safetensors
VOCAB=$(cd "$(dirname "$VOCAB")" && pwd)/bpe_simple_vocab_16e6.txt.gz
cat >"$tmp/tiny.conf" <<CONF
# test model: the shared tiny fixture through a file:// URL
weights = datasets/weights/tiny.h5
arch = tiny   # comment
source_url = file://$MODEL_ST
expected_sha256 =
CONF
run_mirror() { offline WINCLIP_WEIGHTS_DIR="$tmp/w" WINCLIP_VOCAB_URL="file://$VOCAB" bash "$SCRIPT" "$@"; }
run_mirror "$tmp/tiny.conf" >"$tmp/out" 2>"$tmp/err" || fail "mirror run failed: $(cat "$tmp/out" "$tmp/err")"
sha=$(sha256sum "$MODEL_ST" | cut -d' ' -f1)
grep -q "sha256 $sha" "$tmp/out" || fail "sha256 not printed: $(cat "$tmp/out")"
grep -q "^$sha  tiny.safetensors\$" "$tmp/w/SHA256SUMS" || fail "SHA256SUMS lacks the model: $(cat "$tmp/w/SHA256SUMS")"
grep -q "^924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a  bpe_simple_vocab_16e6.txt.gz\$" \
  "$tmp/w/SHA256SUMS" || fail "SHA256SUMS lacks the vocabulary"
[ -f "$tmp/w/tiny.h5" ] && [ -f "$tmp/w/bpe_simple_vocab_16e6.txt.gz" ] || fail "outputs missing: $(ls "$tmp/w")"
ls "$tmp/w" | grep -q '\.part$\|\.tmp$' && fail "partial files left: $(ls "$tmp/w")"
# rerun: nothing downloaded or converted again
run_mirror "$tmp/tiny.conf" >"$tmp/out" 2>"$tmp/err" || fail "rerun failed: $(cat "$tmp/err")"
grep -q "downloading" "$tmp/out" && fail "rerun downloaded again: $(cat "$tmp/out")"
grep -q "converted file present and verified" "$tmp/out" || fail "rerun converted again: $(cat "$tmp/out")"
grep -q "vocabulary present and verified" "$tmp/out" || fail "rerun fetched the vocabulary again"
# a pinned sha256 that does not match
sed -i "s/^expected_sha256 =.*/expected_sha256 = $(printf '0%.0s' $(seq 64))/" "$tmp/tiny.conf"
if run_mirror "$tmp/tiny.conf" >"$tmp/out" 2>"$tmp/err"; then fail "sha256 mismatch accepted"; fi
grep -q "does not match expected_sha256" "$tmp/err" || fail "sha mismatch message: $(cat "$tmp/err")"
echo "test_fetch_weights_offline.sh: ok"
