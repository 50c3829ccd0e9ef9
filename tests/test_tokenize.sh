#!/bin/bash
# test_tokenize.sh - `winclip tokenize`: arguments, stdin mode, --vocab, errors and exit codes.
set -u
BIN=${WINCLIP_BIN:-build/winclip}
SHARED=${WINCLIP_SHARED:-../shared}
VOCAB=$SHARED/clip/bpe_simple_vocab_16e6.txt.gz
. "$(dirname "$0")/lib_fixtures.sh"
need_fixture test_tokenize.sh "$VOCAB"
fail() { echo "test_tokenize.sh: $*" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
pad() { local s="$1" n; n=$(echo "$s" | wc -w); while [ "$n" -lt 77 ]; do s="$s 0"; n=$((n+1)); done; echo "$s"; }

BOTTLE=$(pad "49406 320 1125 539 320 5392 269 49407")
EMPTY=$(pad "49406 49407")

# arguments: one line per text
out=$("$BIN" tokenize --vocab "$VOCAB" "a photo of a bottle." "") || fail "args mode exited $?"
[ "$out" = "$BOTTLE"$'\n'"$EMPTY" ] || fail "args mode output: $out"

# stdin: one text per line, CRLF stripped; default vocabulary found through WINCLIP_SHARED
out=$(printf 'a photo of a bottle.\r\n\nA PHOTO OF A BOTTLE.\n' | WINCLIP_SHARED=$SHARED "$BIN" tokenize -) || fail "stdin mode exited $?"
[ "$out" = "$BOTTLE"$'\n'"$EMPTY"$'\n'"$BOTTLE" ] || fail "stdin mode output: $out"

# every line has 77 ids
n=$(printf 'x\ny\n' | "$BIN" tokenize --vocab "$VOCAB" - | awk '{print NF}' | sort -u)
[ "$n" = 77 ] || fail "expected 77 ids per line, got $n"

# errors: special token (exit 1, message names it), missing vocabulary, usage
"$BIN" tokenize --vocab "$VOCAB" "a <|endoftext|>" >/dev/null 2>"$TMP/err" && fail "special token accepted"
grep -q "special token" "$TMP/err" || fail "special token message: $(cat "$TMP/err")"
"$BIN" tokenize --vocab "$TMP/none.gz" "a" >/dev/null 2>"$TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "$TMP/none.gz" "$TMP/err" || fail "missing vocab: rc $rc, $(cat "$TMP/err")"
printf 'a\n\xff\n' | "$BIN" tokenize --vocab "$VOCAB" - >/dev/null 2>"$TMP/err" && fail "invalid UTF-8 accepted"
grep -q "stdin line 2" "$TMP/err" || fail "invalid UTF-8 message: $(cat "$TMP/err")"
# bad lines are skipped and reported, the others still printed (issue 9 fault 9)
out=$(printf 'a photo of a bottle.\n\xff\na <|endoftext|>\nA PHOTO OF A BOTTLE.\n' | "$BIN" tokenize --vocab "$VOCAB" - 2>"$TMP/err"); rc=$?
[ $rc = 1 ] || fail "bad lines: exit $rc, want 1"
[ "$out" = "$BOTTLE"$'\n'"$BOTTLE" ] || fail "bad lines: good lines not all printed: $out"
grep -q "stdin line 2: .*skipped" "$TMP/err" && grep -q "stdin line 3: .*skipped" "$TMP/err" \
  && grep -q "2 of 4 texts skipped" "$TMP/err" || fail "bad lines message: $(cat "$TMP/err")"
out=$(printf 'x\n\0y\nx\n' | "$BIN" tokenize --vocab "$VOCAB" - 2>"$TMP/err"); rc=$?
[ $rc = 1 ] && [ "$(echo "$out" | wc -l)" = 2 ] && grep -q "stdin line 2: contains a NUL byte; skipped" "$TMP/err" \
  || fail "NUL line: rc $rc, $(cat "$TMP/err")"
"$BIN" tokenize >/dev/null 2>&1; [ $? = 2 ] || fail "no TEXT should be a usage error (2)"
"$BIN" tokenize --bogus x >/dev/null 2>&1; [ $? = 2 ] || fail "unknown option should be a usage error (2)"
"$BIN" tokenize --help | grep -q "usage: winclip tokenize" || fail "--help"
echo "test_tokenize.sh: ok"
