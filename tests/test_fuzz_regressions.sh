#!/usr/bin/env bash
# test_fuzz_regressions.sh - inputs found by the libFuzzer harnesses (tests/fuzz/) stay refused with
# a clear error and no crash: each file in tests/data/fuzz/ is fed to the command that reads it.
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
DIR=$(cd "$(dirname "$0")" && pwd)/data/fuzz
fail=0
# h5_huge_element_type.h5: /labels declares 1.7e9-byte integers (HDF5 allocated 1.7 GB per read)
err=$("$BIN" metrics "$DIR/h5_huge_element_type.h5" 2>&1 >/dev/null); rc=$?
if [ $rc != 1 ] || ! grep -q "h5_huge_element_type.h5: '/labels': expected numbers of 1 to 8 bytes" <<<"$err"; then
  echo "FAIL h5_huge_element_type.h5: rc $rc, $err"; fail=1; fi
[ $fail = 0 ] && echo "test_fuzz_regressions.sh: ok"
exit $fail
