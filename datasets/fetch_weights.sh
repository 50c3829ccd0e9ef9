#!/usr/bin/env bash
# fetch_weights.sh - download, verify and convert the CLIP weights (`make weights`).
#
# Does: for one model (default: the WinCLIP backbone ViT-B-16-plus-240 laion400m_e31) read
# configs/model/<model>.conf (source_url, arch, weights, expected_sha256), download the
# open_clip safetensors file with curl (mirrors, resumable, retried), check its size and sha256
# (recorded in datasets/weights/SHA256SUMS; checked against expected_sha256 when the conf sets
# it), convert it with `winclip convert --arch` (which validates every tensor), and download +
# verify the CLIP BPE vocabulary. Files already present and verified are not fetched again.
# Does not: need Python or an account; install anything.
# Offline: once every mirror failed, names each URL, the official page and where to put the file
# by hand (then rerun `make weights`).
# Reference: shared/spec/clip.md §6 (formats), §7 (URLs).
#
# Usage: datasets/fetch_weights.sh [MODEL ...]     (or MODEL=openai make weights)
#   MODEL: plus240 (default; = vit_b_16_plus_240_laion400m_e31) | openai (= vit_b_16_openai)
#          | all | the name or path of any configs/model/*.conf with a source_url
# Environment: WINCLIP_BIN (winclip binary, default build/winclip), WINCLIP_WEIGHTS_DIR
#   (download folder, default datasets/weights), WINCLIP_WEIGHTS_URL / WINCLIP_VOCAB_URL (a mirror
#   tried first), WINCLIP_WEIGHTS_MIRRORS / WINCLIP_VOCAB_MIRRORS (space-separated list replacing
#   the default: source_url then its hf-mirror.com copy / OpenAI's then open_clip's vocabulary),
#   WINCLIP_WEIGHTS_SHA256 (overrides expected_sha256). Downloads: datasets/lib_fetch.sh (mirrors
#   in order, each failure named, resumed .part, sha256 checked whatever the mirror).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BIN=${WINCLIP_BIN:-$ROOT/build/winclip}
DIR=${WINCLIP_WEIGHTS_DIR:-datasets/weights}
# The vocabulary's mirrors: OpenAI's CLIP repository, then open_clip's copy (the same file).
VOCAB_MIRRORS=${WINCLIP_VOCAB_MIRRORS-https://github.com/openai/CLIP/raw/main/clip/bpe_simple_vocab_16e6.txt.gz \
https://github.com/mlfoundations/open_clip/raw/main/src/open_clip/bpe_simple_vocab_16e6.txt.gz}
VOCAB_PAGE=https://github.com/openai/CLIP/tree/main/clip
VOCAB_SHA256=924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a
SUMS=$DIR/SHA256SUMS
RERUN="make weights" # the command that resumes (set below from MODEL)

say() { echo "fetch_weights: $*"; }
die() { echo "fetch_weights: ERROR: $*" >&2; exit 1; }

# Value of `key` in a flat `key = value` conf file (comments stripped; empty if unset).
conf_get() {
  local key=$1 file=$2
  sed -n "s/^[[:space:]]*$key[[:space:]]*=[[:space:]]*//p" "$file" | tail -n 1 |
    sed -e 's/^#.*//' -e 's/[[:space:]]#.*//' -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/'
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
size_of() { stat -c %s "$1"; }

# Record "<sha>  <file name>" in SHA256SUMS (one line per file name).
record_sum() {
  local sha=$1 name=$2
  touch "$SUMS"
  grep -v "  $name\$" "$SUMS" >"$SUMS.new" || true
  echo "$sha  $name" >>"$SUMS.new"
  mv "$SUMS.new" "$SUMS"
}
recorded_sum() { [ -f "$SUMS" ] && grep "  $1\$" "$SUMS" | tail -n 1 | cut -d' ' -f1 || true; }

FETCH_NAME=fetch_weights
. "$ROOT/datasets/lib_fetch.sh"

# mirrors_of URL: URL, then the same path on hf-mirror.com for a huggingface.co URL.
mirrors_of() {
  echo "$1"
  case $1 in https://huggingface.co/*) echo "https://hf-mirror.com/${1#https://huggingface.co/}" ;; esac
}
# page_of URL: the official page of a Hugging Face file (its repository), else the URL itself.
page_of() {
  case $1 in https://huggingface.co/*/resolve/*) echo "${1%%/resolve/*}" ;; *) echo "$1" ;; esac
}

# The CLIP BPE merges (sha256 known, checked).
fetch_vocab() {
  local dest=$DIR/bpe_simple_vocab_16e6.txt.gz
  if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$VOCAB_SHA256" ]; then
    say "vocabulary present and verified: $dest"
    return 0
  fi
  [ -f "$dest" ] && { say "vocabulary $dest has the wrong sha256: fetching it again"; rm -f "$dest"; }
  # shellcheck disable=SC2086 # space-separated list
  fetch_mirrors vocabulary "$dest" "$VOCAB_SHA256" "$VOCAB_PAGE" "$RERUN" ${WINCLIP_VOCAB_URL:-} $VOCAB_MIRRORS
  local got
  got=$(sha256_of "$dest")
  record_sum "$got" "$(basename "$dest")"
  say "vocabulary ok: $dest (sha256 $got)"
}

# fetch_model CONF MIN_BYTES PRETRAINED
fetch_model() {
  local conf=$1 min_bytes=$2 pretrained=$3
  [ -f "$conf" ] || die "model config $conf not found"
  local url arch weights expect
  url=$(conf_get source_url "$conf")
  arch=$(conf_get arch "$conf")
  weights=$(conf_get weights "$conf")
  expect=$(conf_get expected_sha256 "$conf" | tr 'A-F' 'a-f')
  expect=${WINCLIP_WEIGHTS_SHA256:-$expect}
  [ -n "$url" ] && [ -n "$arch" ] && [ -n "$weights" ] || die "$conf must set source_url, arch and weights"
  local h5=$DIR/$(basename "$weights")
  local st=${h5%.h5}.safetensors
  say "model $(basename "$conf" .conf): $arch${pretrained:+ ($pretrained)} -> $h5"

  if [ ! -f "$st" ]; then
    local mirrors
    mirrors=${WINCLIP_WEIGHTS_MIRRORS-$(mirrors_of "$url")}
    # shellcheck disable=SC2086 # space/newline-separated list
    fetch_mirrors "$(basename "$st")" "$st" "$expect" "$(page_of "$url")" "$RERUN" ${WINCLIP_WEIGHTS_URL:-} $mirrors
  fi
  local size sha
  size=$(size_of "$st")
  if [ "$size" -le "$min_bytes" ]; then
    die "$st is $size bytes, expected more than $min_bytes (an interrupted or wrong download?). Delete it and rerun \`$RERUN\`, or place the file from $url there by hand."
  fi
  say "hashing $st ($size bytes)"
  sha=$(sha256_of "$st")
  say "sha256 $sha  $(basename "$st")"
  if [ -n "$expect" ] && [ "$sha" != "$expect" ]; then
    die "$st: sha256 $sha does not match expected_sha256 $expect in $conf (corrupt download, or the upstream file changed). Delete it and rerun \`$RERUN\`."
  fi
  [ -n "$expect" ] || say "  ($conf has no expected_sha256: set expected_sha256 = $sha there to pin this file)"
  record_sum "$sha" "$(basename "$st")"

  # Convert unless the .h5 is newer than the input and unchanged since we wrote it.
  if [ -f "$h5" ] && [ "$h5" -nt "$st" ] && [ -n "$(recorded_sum "$(basename "$h5")")" ] &&
     [ "$(sha256_of "$h5")" = "$(recorded_sum "$(basename "$h5")")" ]; then
    say "converted file present and verified: $h5"
    return 0
  fi
  [ -x "$BIN" ] || die "winclip binary $BIN not found: run \`make\` first (or set WINCLIP_BIN)"
  "$BIN" convert "$st" "$h5" --arch "$arch" ${pretrained:+--pretrained "$pretrained"} ||
    die "converting $st failed (message above); if the download is corrupt, delete $st and rerun \`$RERUN\`"
  record_sum "$(sha256_of "$h5")" "$(basename "$h5")"
  say "ok: $h5"
}

# MODEL alias -> conf, minimum size (bytes of a complete F32 file: more than 800 MB for
# plus-240, 550 MB for ViT-B-16; clip.md §1 table), pretrained tag.
fetch_one() {
  case $1 in
    plus240|vit_b_16_plus_240_laion400m_e31|laion400m_e31)
      fetch_model configs/model/vit_b_16_plus_240_laion400m_e31.conf 800000000 laion400m_e31 ;;
    openai|vit_b_16_openai)
      fetch_model configs/model/vit_b_16_openai.conf 550000000 openai ;;
    all) fetch_one plus240; fetch_one openai ;;
    *.conf) fetch_model "$1" "${WINCLIP_MIN_BYTES:-0}" "" ;;
    *) if [ -f "configs/model/$1.conf" ]; then fetch_model "configs/model/$1.conf" "${WINCLIP_MIN_BYTES:-0}" ""
       else die "unknown model '$1': use plus240 (default), openai, all, or a configs/model/*.conf"; fi ;;
  esac
}

command -v curl >/dev/null 2>&1 || die "curl is needed (Debian: apt-get install curl)"
mkdir -p "$DIR"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=("${MODEL:-plus240}")
RERUN="make weights"
[ "${models[*]}" = plus240 ] || RERUN="MODEL=${models[*]} make weights"
for m in "${models[@]}"; do fetch_one "$m"; done
fetch_vocab
say "done. Checksums: $SUMS"
sed 's/^/  /' "$SUMS"
