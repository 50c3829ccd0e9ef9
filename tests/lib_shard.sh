# lib_shard.sh - sourced by test_shard.sh and test_slurm.sh (not a test itself).
#
#     . "$REPO/tests/lib_shard.sh"
#     run_total computed LOG...      # sum of "winclip run: units computed: N" over the logs
#     same_results REF DIR LABEL N   # every file of REF identical in DIR, N units done
#
# run_total WHAT LOG...: the sum over the logs of `winclip run`'s final lines: WHAT = computed
# ("units computed: N"), skipped ("skipped: N") or passes ("backbone passes: N").
run_total() {
    local what=$1
    shift
    case $what in
    computed) sed -n 's/^winclip run: units computed: \([0-9]*\),.*/\1/p' "$@" ;;
    skipped) sed -n 's/^winclip run: units computed: [0-9]*, skipped: \([0-9]*\).*/\1/p' "$@" ;;
    passes) sed -n 's/^winclip run: backbone passes: \([0-9]*\),.*/\1/p' "$@" ;;
    esac | awk '{s += $1} END {print s + 0}'
}

# same_results REF DIR LABEL UNITS: the same unit files (<exp>/<dataset>/<category>/<unit>/...) and
# experiment.conf files under the results roots REF and DIR, each cmp-identical except provenance.txt
# and timing.tsv (wall times and date; timing.tsv's cache hits depend on who encoded first) and the
# done marker's lines for them; UNITS done markers; no temp files.
# Prints FAIL lines and returns 1 on any difference.
same_results() {
    local ref=$1 dir=$2 label=$3 units=$4 f rc=0
    local lf=${TMPDIR:-/tmp}/same_results.$$
    unit_files() { (cd "$1" && find . -type f \( -path './*/*/*/*/*' -o -path './*/experiment.conf' \) \
        -not -path './.locks/*' -not -path './cache/*' | sort); }
    unit_files "$ref" >"$lf.0"
    unit_files "$dir" >"$lf.1"
    cmp -s "$lf.0" "$lf.1" || { echo "FAIL $label: other files than the reference"; diff "$lf.0" "$lf.1" | head; rc=1; }
    while read -r f; do
        case $f in
        */provenance.txt | */timing.tsv) continue ;;
        */done) cmp -s <(grep -vE ' (provenance.txt|timing.tsv)$' "$ref/$f") <(grep -vE ' (provenance.txt|timing.tsv)$' "$dir/$f") ||
            { echo "FAIL $label: $f differs"; rc=1; } ;;
        *) [ -f "$dir/$f" ] && { cmp -s "$ref/$f" "$dir/$f" || { echo "FAIL $label: $f differs"; rc=1; }; } ;;
        esac
    done <"$lf.0"
    rm -f "$lf.0" "$lf.1"
    [ "$(find "$dir" -name done -not -path '*/.locks/*' | wc -l)" = "$units" ] || { echo "FAIL $label: not $units done markers"; rc=1; }
    local temps
    temps=$(find "$dir" -name '.*' -not -path "$dir/.locks" -not -path "$dir/.locks/*")
    [ -z "$temps" ] || { echo "FAIL $label: temp files left: $temps"; rc=1; }
    return $rc
}
