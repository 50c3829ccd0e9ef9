#!/usr/bin/env bash
# test_layers.sh - the include-direction check passes on src/ and fails on a copy of src/
# with one deliberately wrong-way include (util including a clip header) and one unqualified one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/check_layers.sh" "$here/../src" >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp -r "$here/../src" "$tmp/src"
echo '#include "clip/ops.h"' >> "$tmp/src/util/base.c"
if bash "$here/check_layers.sh" "$tmp/src" 2>"$tmp/err"; then echo "test_layers: a util -> clip include was accepted" >&2; exit 1; fi
grep -q "util/base.c:[0-9]*: layer 'util' includes \"clip/ops.h\" of layer 'clip'" "$tmp/err" \
  || { echo "test_layers: unexpected message:" >&2; cat "$tmp/err" >&2; exit 1; }
cp "$here/../src/util/base.c" "$tmp/src/util/base.c"
echo '#include "ops.h"' >> "$tmp/src/clip/gemm.c"
if bash "$here/check_layers.sh" "$tmp/src" 2>"$tmp/err"; then echo "test_layers: an unqualified include was accepted" >&2; exit 1; fi
grep -q 'not path-qualified' "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
echo "test_layers: ok (wrong-way and unqualified includes are refused)"
