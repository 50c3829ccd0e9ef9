#!/usr/bin/env bash
# test_metrics_cli.sh - `winclip metrics` command line: help, usage errors, missing files.
# (Output values vs the library and bad HDF5 contents: tests/check_metrics.c cli_* tests.)
set -u
BIN=${WINCLIP_BIN:?WINCLIP_BIN not set}
fail=0
check() { # description, expected status, command...
    local what=$1 want=$2; shift 2
    "$@" >/tmp/winclip_metrics_out.$$ 2>/tmp/winclip_metrics_err.$$
    local got=$?
    if [ "$got" != "$want" ]; then echo "FAIL $what: exit $got, want $want"; cat /tmp/winclip_metrics_err.$$; fail=1; fi
}
check "help" 0 "$BIN" metrics --help
grep -q "usage: winclip metrics FILE.h5" /tmp/winclip_metrics_out.$$ || { echo "FAIL help text"; fail=1; }
grep -q -- "--pro-limit" /tmp/winclip_metrics_out.$$ || { echo "FAIL help lists --pro-limit"; fail=1; }
check "no file" 2 "$BIN" metrics
check "unknown option" 2 "$BIN" metrics x.h5 --bogus
grep -q "unknown option '--bogus'" /tmp/winclip_metrics_err.$$ || { echo "FAIL unknown option message"; fail=1; }
check "bad limit" 2 "$BIN" metrics x.h5 --pro-limit 1.5
check "bad connectivity" 2 "$BIN" metrics x.h5 --connectivity 6
check "missing file" 1 "$BIN" metrics /nonexistent/metrics_input.h5
grep -q "/nonexistent/metrics_input.h5" /tmp/winclip_metrics_err.$$ || { echo "FAIL missing file message"; fail=1; }
check "bench help" 0 "$BIN" bench-metrics --help
check "bench tiny run" 0 "$BIN" bench-metrics --images 4 --size 16 20 --repeat 1
grep -q "^seconds" /tmp/winclip_metrics_out.$$ || { echo "FAIL bench output"; fail=1; }
rm -f /tmp/winclip_metrics_out.$$ /tmp/winclip_metrics_err.$$
exit $fail
