#!/usr/bin/env bash
# test_fetch_datasets_offline.sh - datasets/fetch_datasets.sh fails at once, and helpfully, when
# it cannot download: the message names the URL and where to place the archive by hand; a wrong
# archive placed by hand is caught by its sha256; ONLY is checked. Never downloads anything.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT=$HERE/../datasets/fetch_datasets.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL test_fetch_datasets_offline: $*"; exit 1; }

run() { # env... -> sets rc, out
  out=$(env WINCLIP_DATA_DIR="$TMP/data" "$@" timeout 60 bash "$SCRIPT" 2>&1); rc=$?
}

# 1. an unreachable mirror (connection refused on localhost): fails fast, names URL and path
start=$(date +%s)
run ONLY=mvtec WINCLIP_MVTEC_URL=http://127.0.0.1:9/mvtec_anomaly_detection.tar.xz
[ $rc -ne 0 ] || fail "exit 0 without network"
echo "$out" | grep -q "http://127.0.0.1:9/mvtec_anomaly_detection.tar.xz" || fail "URL not named: $out"
echo "$out" | grep -q "$TMP/data/mvtec_anomaly_detection.tar.xz" || fail "hand-placement path not named: $out"
echo "$out" | grep -q "cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d" || fail "sha256 not named: $out"
[ $(( $(date +%s) - start )) -le 20 ] || fail "took more than 20 s to fail"

# 2. the real URLs, only when they are unreachable (never download in a test)
for ds in mvtec visa; do
  if [ $ds = mvtec ]; then url=https://www.mydrive.ch/shares/38536/3830184030e49fe74747669442f0f282/download/420938113-1629952094/mvtec_anomaly_detection.tar.xz
  else url=https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA_20220922.tar; fi
  if curl -s -o /dev/null -r 0-0 --connect-timeout 5 --max-time 10 "$url"; then
    echo "SKIP real-URL offline check for $ds: the network is reachable"
    continue
  fi
  run ONLY=$ds
  [ $rc -ne 0 ] || fail "$ds: exit 0 offline"
  echo "$out" | grep -qF "$url" || fail "$ds: message does not name $url: $out"
done

# 3. a wrong archive placed by hand: sha256 mismatch, no extraction
mkdir -p "$TMP/data"
echo "not an archive" > "$TMP/data/VisA_20220922.tar"
run ONLY=visa WINCLIP_VISA_URL=http://127.0.0.1:9/VisA_20220922.tar
[ $rc -ne 0 ] || fail "accepted a wrong archive"
echo "$out" | grep -q "sha256 .*expected 2eb8690c803ab37de0324772964100169ec8ba1fa3f7e94291c9ca673f40f362" || fail "no sha256 mismatch message: $out"
[ ! -d "$TMP/data/visa" ] || fail "extracted a wrong archive"

# 4. ONLY is checked
run ONLY=kolektor
[ $rc -ne 0 ] && echo "$out" | grep -q "ONLY='kolektor'" || fail "bad ONLY accepted: $out"
echo "test_fetch_datasets_offline: ok"
