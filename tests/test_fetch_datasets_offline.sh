#!/usr/bin/env bash
# test_fetch_datasets_offline.sh - datasets/fetch_datasets.sh fails at once, and helpfully, when
# it cannot download: the message names each mirror's URL and failure, the official page and where
# to place the archive by hand; a wrong archive placed by hand is caught by its sha256; ONLY is
# checked. Never downloads anything (tests/test_fetch_mirrors.sh covers a working local mirror).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRIPT=$HERE/../datasets/fetch_datasets.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL test_fetch_datasets_offline: $*"; exit 1; }

run() { # env... -> sets rc, out
  out=$(env "$@" WINCLIP_DATA_DIR="$TMP/data" timeout 60 bash "$SCRIPT" 2>&1); rc=$?
}

# 1. an unreachable mirror (connection refused on localhost), no other: fails fast, names URL and path
start=$(date +%s)
run ONLY=mvtec WINCLIP_MVTEC_MIRRORS= WINCLIP_MVTEC_URL=http://127.0.0.1:9/mvtec_anomaly_detection.tar.xz
[ $rc -ne 0 ] || fail "exit 0 without network"
echo "$out" | grep -q "http://127.0.0.1:9/mvtec_anomaly_detection.tar.xz: curl exit 7" || fail "URL and reason not named: $out"
echo "$out" | grep -q "$TMP/data/mvtec_anomaly_detection.tar.xz" || fail "hand-placement path not named: $out"
echo "$out" | grep -q "cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d" || fail "sha256 not named: $out"
[ $(( $(date +%s) - start )) -le 20 ] || fail "took more than 20 s to fail"

# 2. the default mirrors with every request sent to a proxy that refuses connections (offline
#    whatever the machine, so nothing is ever downloaded): each mirror is named with its reason,
#    then the official page and the by-hand path.
OFFLINE="-u no_proxy -u NO_PROXY https_proxy=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9"
for ds in mvtec visa; do
  if [ $ds = mvtec ]; then
    urls="https://www.mydrive.ch/shares/150996/b52ecdcbf521176e9db9c731f2304b27/download/420938113-1629960298/mvtec_anomaly_detection.tar.xz
https://www.mydrive.ch/shares/38536/3830184030e49fe74747669442f0f283/download/420938113-1629960298/mvtec_anomaly_detection.tar.xz"
    page=https://www.mvtec.com/company/research/datasets/mvtec-ad; file=mvtec_anomaly_detection.tar.xz
  else
    urls=https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA_20220922.tar
    page=https://github.com/amazon-science/spot-diff; file=VisA_20220922.tar
  fi
  # shellcheck disable=SC2086
  run $OFFLINE ONLY=$ds
  [ $rc -ne 0 ] || fail "$ds: exit 0 offline"
  for url in $urls; do
    echo "$out" | grep -qF "$url: curl exit" || fail "$ds: message does not name $url and why: $out"
  done
  echo "$out" | grep -qF "$page" || fail "$ds: official page $page not named: $out"
  echo "$out" | grep -qF "$TMP/data/$file" || fail "$ds: by-hand path not named: $out"
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
