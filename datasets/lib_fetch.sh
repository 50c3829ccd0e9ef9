# shellcheck shell=bash
# lib_fetch.sh - download one file from a list of mirrors, resumable, sha256-checked (sourced by
# datasets/fetch_datasets.sh and datasets/fetch_weights.sh; needs bash and curl).
#
# fetch_mirrors LABEL DEST SHA256 PAGE RERUN URL...
#   Tries each URL in order. The transfer goes into DEST.part and resumes with `curl -C -` (a
#   .part left by an earlier run is resumed from the first mirror). Each failure is named
#   (URL + HTTP status or curl's reason). When SHA256 is set, the file is checked whatever the
#   mirror: a mismatch is removed and never used (a resumed transfer is retried once from
#   scratch before moving on). Success: DEST exists (and matches). All mirrors failing: prints
#   the official page PAGE and the exact path DEST to place the file at by hand, then exit 1.
# Caller defines say() and sets FETCH_NAME (the message prefix). Reference: curl(1) (--continue-at, --write-out %{http_code}).

_fetch_size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo 0; fi; }

# _fetch_one URL PART: one curl transfer (resuming PART); sets FETCH_WHY on failure.
_fetch_one() {
  local url=$1 part=$2 rc=0 w code msg
  w=$(curl -fL -sS --connect-timeout 15 --speed-limit 1024 --speed-time 60 -C - \
        -w '%{http_code}|%{errormsg}' -o "$part" "$url" 2>/dev/null) || rc=$?
  code=${w%%|*}; msg=${w#*|}
  FETCH_WHY=""
  [ "$rc" = 0 ] && return 0
  if [ "$rc" = 22 ] && [ -n "$code" ] && [ "$code" != 000 ]; then FETCH_WHY="HTTP $code"
  else FETCH_WHY="curl exit $rc${msg:+: $msg}"; fi
  return "$rc"
}

# _fetch_mirror URL PART: one mirror, resuming a broken transfer while it makes progress (5 tries).
_fetch_mirror() {
  local url=$1 part=$2 attempt rc before after
  for attempt in 1 2 3 4 5; do
    before=$(_fetch_size "$part")
    if [ "$before" = 0 ]; then say "downloading $url"; else say "downloading $url (resuming at byte $before)"; fi
    rc=0; _fetch_one "$url" "$part" || rc=$?
    [ "$rc" = 0 ] && return 0
    after=$(_fetch_size "$part")
    case $rc in
      22) if [ "$FETCH_WHY" = "HTTP 416" ] && [ "$before" -gt 0 ]; then
            say "  $url: HTTP 416 at byte $before: the .part is already complete"; return 0
          fi; return "$rc" ;;
      33) say "  $url: $FETCH_WHY (no resume support): restarting from byte 0"; rm -f "$part" ;;
      18|28|52|55|56|92) [ "$after" -gt "$before" ] || return "$rc"
        say "  transfer broke after $after bytes ($FETCH_WHY); resuming (try $attempt/5)"; sleep 2 ;;
      *) return "$rc" ;;
    esac
  done
  return 1
}

fetch_mirrors() {
  local label=$1 dest=$2 sha=$3 page=$4 rerun=$5; shift 5
  local part=$dest.part url got n=0 fails="" resumed
  for url in "$@"; do
    n=$((n + 1))
    resumed=$(_fetch_size "$part")
    if _fetch_mirror "$url" "$part"; then
      got=$(sha256sum "$part" | cut -d' ' -f1)
      if [ -z "$sha" ] || [ "$got" = "$sha" ]; then
        mv "$part" "$dest"
        say "$label: sha256 $got${sha:+ (as expected)} from $url"
        return 0
      fi
      rm -f "$part"
      say "  $url: sha256 $got, expected $sha: refused (file removed)"
      if [ "$resumed" != 0 ] && _fetch_mirror "$url" "$part"; then
        got=$(sha256sum "$part" | cut -d' ' -f1)
        [ "$got" = "$sha" ] && { mv "$part" "$dest"; say "$label: sha256 $got (as expected) from $url"; return 0; }
        rm -f "$part"
      fi
      FETCH_WHY="sha256 $got, expected $sha (refused, not used)"
    fi
    say "  mirror $n/$# failed: $url: $FETCH_WHY"
    fails="$fails
  $url: $FETCH_WHY"
  done
  [ -f "$part" ] && [ "$(_fetch_size "$part")" -gt 0 ] && fails="$fails
(a partial download stays in $part and resumes next time)"
  cat >&2 <<EOF
${FETCH_NAME:-fetch}: ERROR: cannot download $label from any mirror:${fails:-
  (no mirror configured)}
Download it by hand from the official page
  $page
and place it, unrenamed, at
  $dest
${sha:+(sha256 $sha) }then rerun \`$rerun\`: a file in place is verified, not downloaded.
EOF
  exit 1
}
