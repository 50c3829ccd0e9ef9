#!/usr/bin/env bash
# test_require_fixtures.sh - a missing shared fixture is a skip on a user's machine and a failure
# in CI, and every run says how many tests skipped:
# 1. the check runner on a fixture-using suite (sha256, prompts) with WINCLIP_SHARED=/nonexistent
#    and WINCLIP_REQUIRE_FIXTURES=1 fails, naming the missing path;
# 2. without the variable the same run passes and reports "skipped: N" with N > 0 (forked and
#    CK_FORK=no);
# 3. tests/lib_fixtures.sh: a shell test exits 1 (required) or 77 (skipped, counted by make);
# 4. with the real shared folder, WINCLIP_REQUIRE_FIXTURES=1 passes with "skipped: 0".
set -u
CHECK=${WINCLIP_CHECK:?WINCLIP_CHECK not set (the check_winclip binary; make test-shell sets it)}
SHARED=${WINCLIP_SHARED:-../shared}
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/winclip-require-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "test_require_fixtures.sh: FAIL: $*" >&2; [ -f "$tmp/out" ] && cat "$tmp/out" >&2; exit 1; }
skipped_of() { sed -n 's/^skipped: \([0-9][0-9]*\) (fixtures missing).*/\1/p' "$tmp/out"; }

for suite in sha256 prompts; do
    # 1. required: fails, names the path, Check's summary stays visible
    if env WINCLIP_SHARED=/nonexistent WINCLIP_REQUIRE_FIXTURES=1 CK_RUN_SUITE=$suite "$CHECK" >"$tmp/out" 2>&1; then
        fail "$suite: a missing fixture passed with WINCLIP_REQUIRE_FIXTURES=1"
    fi
    grep -q "fixture missing: /nonexistent/" "$tmp/out" || fail "$suite: no 'fixture missing: <path>' message"
    grep -Eq "^[0-9]+%: Checks: [1-9][0-9]*, Failures: [1-9]" "$tmp/out" || fail "$suite: no failing Check summary"
    [ "$(skipped_of)" = 0 ] || fail "$suite: required run reports skipped: $(skipped_of), want 0"
    # 2. not required: passes, and says how many tests skipped (forked and in-process)
    for fork in yes no; do
        env -u WINCLIP_REQUIRE_FIXTURES WINCLIP_SHARED=/nonexistent CK_FORK=$fork CK_RUN_SUITE=$suite "$CHECK" \
            >"$tmp/out" 2>&1 || fail "$suite (CK_FORK=$fork): a missing fixture failed without WINCLIP_REQUIRE_FIXTURES"
        grep -Eq "^100%: Checks: [1-9][0-9]*, Failures: 0, Errors: 0" "$tmp/out" || fail "$suite: no Check summary"
        n=$(skipped_of)
        [ -n "$n" ] && [ "$n" -gt 0 ] || fail "$suite (CK_FORK=$fork): 'skipped: N' missing or 0 (got '$n')"
        [ "$n" = "$(grep -c '^SKIP ' "$tmp/out")" ] || fail "$suite: skipped: $n but $(grep -c '^SKIP ' "$tmp/out") SKIP lines"
    done
done
# a suite name that matches nothing is an error, not "0 checks, all passed"
if CK_RUN_SUITE=no_such_suite "$CHECK" >"$tmp/out" 2>&1; then fail "CK_RUN_SUITE=no_such_suite passed"; fi

# 3. the shell side
. "$HERE/lib_fixtures.sh"
( WINCLIP_REQUIRE_FIXTURES=1; need_fixture probe /nonexistent/x ) >"$tmp/out" 2>&1
rc=$?; [ $rc = 1 ] || fail "need_fixture with WINCLIP_REQUIRE_FIXTURES=1 exited $rc, want 1"
grep -q "fixture missing: /nonexistent/x" "$tmp/out" || fail "need_fixture: no path in the message"
( unset WINCLIP_REQUIRE_FIXTURES; need_fixture probe /nonexistent/x ) >"$tmp/out" 2>&1
rc=$?; [ $rc = 77 ] || fail "need_fixture without WINCLIP_REQUIRE_FIXTURES exited $rc, want 77"
( need_fixture probe "$HERE" ) >"$tmp/out" 2>&1 || fail "need_fixture on an existing path exited $?"

# 4. the real fixtures: nothing skipped
need_fixture test_require_fixtures.sh "$SHARED/clip/bpe_simple_vocab_16e6.txt.gz" \
    "$SHARED/fixtures/winclip_paper/reference.h5"
env WINCLIP_SHARED="$SHARED" WINCLIP_REQUIRE_FIXTURES=1 CK_RUN_SUITE=prompts "$CHECK" >"$tmp/out" 2>&1 \
    || fail "prompts with the shared fixtures failed"
[ "$(skipped_of)" = 0 ] || fail "with the shared fixtures: skipped: $(skipped_of), want 0"
echo "test_require_fixtures.sh: ok"
