#!/usr/bin/env bash
# test_make_random_model.sh - `winclip make-random-model`: writes a loadable tiny model with the
# fixture's layout, is deterministic per seed, and rejects bad arguments with exit status 2.
set -euo pipefail
bin=${WINCLIP_BIN:?set WINCLIP_BIN}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" make-random-model --arch tiny --seed 5 "$tmp/a.h5" >/dev/null
"$bin" make-random-model --arch tiny --seed 5 "$tmp/b.h5" >/dev/null
"$bin" make-random-model --arch tiny --seed 6 "$tmp/c.h5" >/dev/null
if command -v h5dump >/dev/null 2>&1; then
  n=$(h5dump -H "$tmp/a.h5" | grep -c 'DATASET "')
  [ "$n" = 62 ] || { echo "expected 62 datasets, found $n"; exit 1; }
  h5dump -a config "$tmp/a.h5" | grep -q '"head_width": 32' || { echo "config attribute missing"; exit 1; }
  d1=$(h5dump -d visual/proj "$tmp/a.h5" | grep -v "^HDF5" | md5sum); d2=$(h5dump -d visual/proj "$tmp/b.h5" | grep -v "^HDF5" | md5sum)
  d3=$(h5dump -d visual/proj "$tmp/c.h5" | grep -v "^HDF5" | md5sum)
  [ "$d1" = "$d2" ] || { echo "same seed, different weights"; exit 1; }
  [ "$d1" != "$d3" ] || { echo "different seeds, same weights"; exit 1; }
fi
set +e
"$bin" make-random-model --arch ViT-Z "$tmp/z.h5" 2>"$tmp/err"; rc=$?
set -e
[ $rc = 2 ] && grep -q "unknown architecture 'ViT-Z'" "$tmp/err" || { echo "bad --arch: rc $rc"; cat "$tmp/err"; exit 1; }
set +e
"$bin" make-random-model --seed x "$tmp/z.h5" 2>/dev/null; rc1=$?
"$bin" make-random-model 2>/dev/null; rc2=$?
"$bin" make-random-model --arch tiny /nonexistent-dir/m.h5 2>"$tmp/err"; rc3=$?
set -e
[ $rc1 = 2 ] && [ $rc2 = 2 ] && [ $rc3 = 1 ] || { echo "exit codes $rc1 $rc2 $rc3"; exit 1; }
grep -q "/nonexistent-dir/m.h5" "$tmp/err" || { echo "error does not name the file"; exit 1; }
"$bin" help make-random-model | grep -q -- "--seed N" || { echo "help text"; exit 1; }
"$bin" help bench-clip | grep -q -- "--model" || { echo "bench-clip help text"; exit 1; }
echo "make-random-model: ok"
