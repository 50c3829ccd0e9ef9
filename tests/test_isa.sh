#!/bin/bash
# test_isa.sh - WINCLIP_ISA caps the kernel path `winclip version` reports; a bad value is
# ignored with a message naming the variable, the value and the accepted ones.
set -u
BIN=${WINCLIP_BIN:-build/winclip}
fail() { echo "test_isa.sh: $*" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

cpu=$(WINCLIP_ISA= "$BIN" version | sed -n 's/^kernels .*(cpu: \([a-z0-9]*\);.*/\1/p')
case "$cpu" in scalar|avx2|avx512) ;; *) fail "version does not name the cpu's path: $("$BIN" version)";; esac
out=$(WINCLIP_ISA=scalar "$BIN" version) || fail "version exited $?"
echo "$out" | grep -q '^kernels scalar ' || fail "WINCLIP_ISA=scalar not taken: $out"
# avx2 is taken when the CPU has it, else the widest the CPU has
want=avx2; [ "$cpu" = scalar ] && want=scalar
WINCLIP_ISA=avx2 "$BIN" version | grep -q "^kernels $want " || fail "WINCLIP_ISA=avx2 should give $want"
# a cap above the CPU is the CPU's path
WINCLIP_ISA=avx512 "$BIN" version | grep -q "^kernels $cpu " || fail "WINCLIP_ISA=avx512 should give $cpu"
WINCLIP_ISA=sse9 "$BIN" version >/dev/null 2>"$TMP/err" || fail "a bad WINCLIP_ISA must not stop the program"
grep -q "WINCLIP_ISA: expected scalar, avx2 or avx512, found 'sse9'" "$TMP/err" || fail "bad value message: $(cat "$TMP/err")"
echo "test_isa.sh: ok (cpu: $cpu)"
