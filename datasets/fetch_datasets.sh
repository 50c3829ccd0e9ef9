#!/usr/bin/env bash
# fetch_datasets.sh - download, verify, extract and check MVTec AD and VisA; prepare VisA's 1cls tree.
#
# Called by `make datasets`. Resumable: every finished step leaves a stamp in $DATA/.stamps/ and is
# skipped next time. Downloads (datasets/lib_fetch.sh) try a list of mirrors in order, name each
# failure, resume a truncated transfer (curl -C - into a .part file) and check the sha256 whatever
# the mirror; when all fail they print the official page and where to put the archive by hand.
#
# Environment:
#   WINCLIP_DATA_DIR  where data goes (default: the folder of this script, i.e. datasets/)
#   ONLY=mvtec|visa   do one dataset only
#   WINCLIP_BIN       the winclip binary (for prepare-visa; default build/winclip)
#   WINCLIP_MVTEC_URL, WINCLIP_VISA_URL   a mirror tried first (the sha256 must still match)
#   WINCLIP_MVTEC_MIRRORS, WINCLIP_VISA_MIRRORS   space-separated mirror list replacing the default
#                     (set empty: only the *_URL one); WINCLIP_MVTEC_SHA256, WINCLIP_VISA_SHA256
#                     override the expected checksum (tests only)
#
# Result (see datasets/README.md):
#   $DATA/mvtec_anomaly_detection/<category>/{train,test,ground_truth}
#   $DATA/visa/<object>/Data/..., $DATA/visa/split_csv/1cls.csv
#   $DATA/visa_1cls/<object>/{train/good,test/good,test/bad,ground_truth/bad}
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA=${WINCLIP_DATA_DIR:-$HERE}
ONLY=${ONLY:-}
BIN=${WINCLIP_BIN:-$HERE/../build/winclip}
STAMPS=$DATA/.stamps

# Mirrors, tried in order after the user's WINCLIP_*_URL. MVTec's old link (last) returns 404
# (anomalib issues #3441, #3608, fixed in PR #3673); the first two serve the same file.
MVTEC_MIRRORS=${WINCLIP_MVTEC_MIRRORS-https://www.mydrive.ch/shares/150996/b52ecdcbf521176e9db9c731f2304b27/download/420938113-1629960298/mvtec_anomaly_detection.tar.xz \
https://www.mydrive.ch/shares/38536/3830184030e49fe74747669442f0f283/download/420938113-1629960298/mvtec_anomaly_detection.tar.xz \
https://www.mydrive.ch/shares/38536/3830184030e49fe74747669442f0f282/download/420938113-1629952094/mvtec_anomaly_detection.tar.xz}
MVTEC_SHA=${WINCLIP_MVTEC_SHA256:-cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d}
MVTEC_TAR=mvtec_anomaly_detection.tar.xz
MVTEC_PAGE=https://www.mvtec.com/company/research/datasets/mvtec-ad
VISA_MIRRORS=${WINCLIP_VISA_MIRRORS-https://amazon-visual-anomaly.s3.us-west-2.amazonaws.com/VisA_20220922.tar}
VISA_SHA=${WINCLIP_VISA_SHA256:-2eb8690c803ab37de0324772964100169ec8ba1fa3f7e94291c9ca673f40f362}
VISA_TAR=VisA_20220922.tar
VISA_PAGE=https://github.com/amazon-science/spot-diff

# category train test_good test_defective (datasets.md §1.2)
MVTEC_COUNTS="bottle 209 20 63
cable 224 58 92
capsule 219 23 109
carpet 280 28 89
grid 264 21 57
hazelnut 391 40 70
leather 245 32 92
metal_nut 220 22 93
pill 267 26 141
screw 320 41 119
tile 230 33 84
toothbrush 60 12 30
transistor 213 60 40
wood 247 19 60
zipper 240 32 119"
# object train_normal test_normal test_anomaly (datasets.md §2.2)
VISA_COUNTS="candle 900 100 100
capsules 542 60 100
cashew 450 50 100
chewinggum 453 50 100
fryum 450 50 100
macaroni1 900 100 100
macaroni2 900 100 100
pcb1 904 100 100
pcb2 901 100 100
pcb3 905 101 100
pcb4 904 101 100
pipe_fryum 450 50 100"

say() { echo "fetch_datasets: $*"; }
die() { echo "fetch_datasets: ERROR: $*" >&2; exit 1; }
stamp() { mkdir -p "$STAMPS"; date -u +%Y-%m-%dT%H:%M:%SZ > "$STAMPS/$1"; }
done_() { [ -f "$STAMPS/$1" ]; }

FETCH_NAME=fetch_datasets # message prefix used by lib_fetch.sh
# shellcheck source=datasets/lib_fetch.sh disable=SC2034
. "$HERE/lib_fetch.sh"

# download NAME FILE SHA PAGE URL...: DATA/FILE from the first mirror that works, sha256-checked
# (also a file placed by hand); a wrong file is refused and never extracted.
download() {
  local name=$1 file=$2 sha=$3 page=$4 dest=$DATA/$2 got; shift 4
  if done_ "$name.verified"; then return 0; fi
  local rerun="make datasets"; [ -z "$ONLY" ] || rerun="ONLY=$ONLY make datasets"
  if [ ! -f "$dest" ]; then
    command -v curl >/dev/null || die "curl not found (apt-get install curl). Or download $name by hand from
  $page
and place it at $dest (sha256 $sha), then rerun '$rerun'."
    fetch_mirrors "$name" "$dest" "$sha" "$page" "$rerun" "$@"
  else
    say "$name: verifying sha256 of $dest"
    got=$(sha256sum "$dest" | cut -d' ' -f1)
    [ "$got" = "$sha" ] || die "$dest: sha256 $got, expected $sha: refused (corrupt or different file: delete it and rerun '$rerun'; official page $page)"
  fi
  stamp "$name.verified"
}

# extract NAME FILE TARGET MARKER: unpack into TARGET.extracting, find the folder holding MARKER,
# move it to TARGET.
extract() {
  local name=$1 file=$DATA/$2 target=$DATA/$3 marker=$4
  if done_ "$name.extracted" && [ -d "$target" ]; then return 0; fi
  local tmp=$target.extracting
  rm -rf "$tmp" && mkdir -p "$tmp"
  say "$name: extracting $file (takes a few minutes)"
  tar -xf "$file" -C "$tmp" || die "$file: extraction failed (disk full? corrupt archive?)"
  local top
  top=$(find "$tmp" -maxdepth 3 -path "*/$marker" -print -quit)
  [ -n "$top" ] || die "$file: no '$marker' found after extraction in $tmp (unexpected archive layout)"
  top=${top%/"$marker"}
  rm -rf "$target"
  mv "$top" "$target"
  rm -rf "$tmp"
  stamp "$name.extracted"
}

count_images() { # folder -> number of image files directly inside (0 if absent)
  if [ -d "$1" ]; then find "$1" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' \) | wc -l; else echo 0; fi
}

check_mvtec() {
  done_ mvtec.checked && return 0
  local root=$DATA/mvtec_anomaly_detection bad=0 c tr tg td gotr gotg gotd nm
  while read -r c tr tg td; do
    gotr=$(count_images "$root/$c/train/good")
    gotg=$(count_images "$root/$c/test/good")
    gotd=$({ find "$root/$c/test" -mindepth 2 -maxdepth 2 -type f -iname '*.png' ! -path '*/good/*' 2>/dev/null || true; } | wc -l)
    nm=$({ find "$root/$c/ground_truth" -type f -iname '*_mask.png' 2>/dev/null || true; } | wc -l)
    if [ "$gotr $gotg $gotd $nm" != "$tr $tg $td $td" ]; then
      echo "  $c: train $gotr/$tr, test good $gotg/$tg, defective $gotd/$td, masks $nm/$td" >&2
      bad=1
    fi
  done <<< "$MVTEC_COUNTS"
  [ $bad = 0 ] || die "MVTec AD counts differ from datasets.md §1.2 (found/expected above) in $root"
  say "mvtec: 15 categories, counts as expected (3629 train, 467 good + 1258 defective test images)"
  stamp mvtec.checked
}

check_visa() {
  done_ visa.checked && return 0
  local root=$DATA/visa bad=0 o tr tn ta gotn gota gotm
  [ -f "$root/split_csv/1cls.csv" ] || die "$root/split_csv/1cls.csv missing after extraction"
  while read -r o tr tn ta; do
    gotn=$(count_images "$root/$o/Data/Images/Normal")
    gota=$(count_images "$root/$o/Data/Images/Anomaly")
    gotm=$(count_images "$root/$o/Data/Masks/Anomaly")
    if [ "$gotn" -lt $((tr + tn)) ] || [ "$gota" -lt "$ta" ] || [ "$gotm" -lt "$ta" ]; then
      echo "  $o: normal $gotn (split needs $((tr + tn))), anomaly $gota/$ta, masks $gotm/$ta" >&2
      bad=1
    fi
  done <<< "$VISA_COUNTS"
  [ $bad = 0 ] || die "VisA image counts are below the 1cls split's (datasets.md §2.2) in $root"
  say "visa: 12 objects present, enough images for the 1cls split"
  stamp visa.checked
}

prepare_visa() {
  done_ visa.prepared && return 0
  [ -x "$BIN" ] || die "$BIN not found: run 'make' first (or set WINCLIP_BIN)"
  say "visa: preparing the 1cls layout in $DATA/visa_1cls (resumable)"
  "$BIN" prepare-visa --root "$DATA/visa" --csv "$DATA/visa/split_csv/1cls.csv" --out "$DATA/visa_1cls"
  local bad=0 o tr tn ta g1 g2 g3 g4
  while read -r o tr tn ta; do
    g1=$(count_images "$DATA/visa_1cls/$o/train/good"); g2=$(count_images "$DATA/visa_1cls/$o/test/good")
    g3=$(count_images "$DATA/visa_1cls/$o/test/bad"); g4=$(count_images "$DATA/visa_1cls/$o/ground_truth/bad")
    if [ "$g1 $g2 $g3 $g4" != "$tr $tn $ta $ta" ]; then
      echo "  $o: train/good $g1/$tr, test/good $g2/$tn, test/bad $g3/$ta, masks $g4/$ta" >&2
      bad=1
    fi
  done <<< "$VISA_COUNTS"
  [ $bad = 0 ] || die "prepared VisA counts differ from the 1cls split (datasets.md §2.2) in $DATA/visa_1cls"
  stamp visa.prepared
}

case "$ONLY" in
  ""|mvtec|visa) ;;
  *) die "ONLY='$ONLY': expected mvtec or visa" ;;
esac
mkdir -p "$DATA"

if [ -z "$ONLY" ] || [ "$ONLY" = mvtec ]; then
  # shellcheck disable=SC2086 # the mirror lists are space-separated on purpose
  download mvtec "$MVTEC_TAR" "$MVTEC_SHA" "$MVTEC_PAGE" ${WINCLIP_MVTEC_URL:-} $MVTEC_MIRRORS
  extract mvtec "$MVTEC_TAR" mvtec_anomaly_detection bottle/train
  check_mvtec
fi
if [ -z "$ONLY" ] || [ "$ONLY" = visa ]; then
  # shellcheck disable=SC2086
  download visa "$VISA_TAR" "$VISA_SHA" "$VISA_PAGE" ${WINCLIP_VISA_URL:-} $VISA_MIRRORS
  extract visa "$VISA_TAR" visa split_csv/1cls.csv
  check_visa
  prepare_visa
fi
say "done (data in $DATA; archives may be deleted once the .stamps/*.extracted files exist)"
