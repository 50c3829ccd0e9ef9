# lib_fixtures.sh - sourced by the shell tests (not a test itself: the Makefile runs test_*.sh).
#
#     . "$(dirname "$0")/lib_fixtures.sh"
#     need_fixture test_convert.sh "$IN" "$REF"
#
# need_fixture NAME PATH...: returns if every PATH exists. Otherwise, with
# WINCLIP_REQUIRE_FIXTURES=1 (CI) the test fails naming the missing path; without it the test
# prints SKIP and exits 77, which `make test-shell` counts as skipped (not passed).
WINCLIP_SKIP=77

need_fixture() {
    local name=$1 p
    shift
    for p in "$@"; do
        [ -e "$p" ] && continue
        if [ "${WINCLIP_REQUIRE_FIXTURES:-}" = 1 ]; then
            echo "$name: FAIL: fixture missing: $p (WINCLIP_REQUIRE_FIXTURES=1; set WINCLIP_SHARED)" >&2
            exit 1
        fi
        echo "SKIP $name: $p not found (set WINCLIP_SHARED)"
        exit "$WINCLIP_SKIP"
    done
}
