#!/usr/bin/env bash
# test_convert.sh - `winclip convert` from the command line: the tiny fixture converts (sha256
# printed, every dataset equal to the fixture's model.h5), a corrupt file fails with a message
# naming it, and no OUT.h5 / OUT.h5.tmp is left behind by a failure.
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
SHARED=${WINCLIP_SHARED:-../shared}
IN=$SHARED/fixtures/tiny_clip/model.safetensors
REF=$SHARED/fixtures/tiny_clip/model.h5
. "$(dirname "$0")/lib_fixtures.sh"
need_fixture test_convert.sh "$IN" "$REF"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/winclip-convert-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_convert.sh: FAIL: $*" >&2; exit 1; }

# 1. success
"$BIN" convert "$IN" "$tmp/tiny.h5" >"$tmp/out" 2>"$tmp/err" || fail "convert failed: $(cat "$tmp/err")"
want_sha=$(sha256sum "$IN" | cut -d' ' -f1)
grep -q "sha256 $want_sha" "$tmp/out" || fail "sha256 $want_sha not printed: $(cat "$tmp/out")"
[ -f "$tmp/tiny.h5" ] || fail "no output file"
[ ! -e "$tmp/tiny.h5.tmp" ] || fail "tiny.h5.tmp left behind"
if command -v h5diff >/dev/null 2>&1; then
  # h5diff compares every dataset (values and shapes); only the config attribute differs.
  n=0
  for ds in $(h5ls -r "$REF" | awk '$2 == "Dataset" {print $1}'); do
    h5diff "$REF" "$tmp/tiny.h5" "$ds" "$ds" >/dev/null || fail "dataset $ds differs"
    n=$((n + 1))
  done
  [ "$n" = 62 ] || fail "compared $n datasets, want 62"
fi

# 2. a corrupt file: clear error naming the file, nothing written
head -c 5000000 "$IN" >"$tmp/cut.safetensors"
if "$BIN" convert "$tmp/cut.safetensors" "$tmp/cut.h5" >"$tmp/out" 2>"$tmp/err"; then fail "truncated file accepted"; fi
grep -q "cut.safetensors" "$tmp/err" || fail "error does not name the file: $(cat "$tmp/err")"
grep -q "truncated" "$tmp/err" || fail "error does not say truncated: $(cat "$tmp/err")"
[ ! -e "$tmp/cut.h5" ] && [ ! -e "$tmp/cut.h5.tmp" ] || fail "partial output left behind"

# 3. a valid file that is the wrong architecture: names the tensors, leaves nothing
if "$BIN" convert "$IN" "$tmp/wrong.h5" --arch ViT-B-16 >"$tmp/out" 2>"$tmp/err"; then fail "wrong --arch accepted"; fi
grep -q "'visual.proj' expected (768, 512), found (64, 32)" "$tmp/err" || fail "mismatch not named: $(cat "$tmp/err")"
[ ! -e "$tmp/wrong.h5" ] && [ ! -e "$tmp/wrong.h5.tmp" ] || fail "partial output left behind"

# 4. usage errors exit 2
"$BIN" convert "$IN" >/dev/null 2>&1; [ $? = 2 ] || fail "missing OUT should exit 2"
"$BIN" convert --help | grep -q "usage: winclip convert" || fail "no help text"
echo "test_convert.sh: ok"
