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
# h5_compact_no_storage.h5: /maps is compact with 0 bytes stored for 12 floats (libhdf5 copied from a
# NULL buffer: SIGSEGV in `winclip metrics`); h5_contiguous_past_eof.h5: /labels stored past the end
check_refused() { # FILE NEEDLE
  local err rc
  err=$("$BIN" metrics "$DIR/$1" 2>&1 >/dev/null); rc=$?
  if [ $rc != 1 ] || ! grep -qF "$1: $2" <<<"$err"; then echo "FAIL $1: rc $rc, $err"; fail=1; fi
}
check_refused h5_compact_no_storage.h5 "'/maps': compact storage smaller or larger than its shape"
check_refused h5_contiguous_past_eof.h5 "'/labels': contiguous data past the end of the file"
[ $fail = 0 ] && echo "test_fuzz_regressions.sh: ok"
exit $fail
