#!/bin/bash
# test_data_dirs.sh - WINCLIP_DATA_DIR / WINCLIP_WEIGHTS_DIR reach the paper configs: `winclip run`
# of a paper experiment looks for the dataset and the weights where the variables say (and under
# datasets/ when they are unset); the error names each path and the config line it came from.
set -u
BIN=${WINCLIP_BIN:-build/winclip}
fail() { echo "test_data_dirs.sh: $*" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

out=$(WINCLIP_DATA_DIR="$TMP/data dir" WINCLIP_WEIGHTS_DIR="$TMP/w" "$BIN" run E01_zero_shot_mvtec --results "$TMP/r" 2>&1)
[ $? -ne 0 ] || fail "run without data succeeded"
echo "$out" | grep -q "root folder $TMP/data dir/mvtec_anomaly_detection (configs/dataset/mvtec.conf:8) not found" ||
  fail "dataset root not taken from WINCLIP_DATA_DIR: $out"
echo "$out" | grep -q "weights file $TMP/w/vit_b_16_plus_240_laion400m_e31.h5 " || fail "weights not taken from WINCLIP_WEIGHTS_DIR: $out"

out=$(env -u WINCLIP_DATA_DIR -u WINCLIP_WEIGHTS_DIR "$BIN" run E02_zero_shot_visa --results "$TMP/r" 2>&1)
echo "$out" | grep -q "root folder datasets/visa " || fail "default VisA root: $out"
echo "$out" | grep -q "weights file datasets/weights/vit_b_16_plus_240_laion400m_e31.h5 " || fail "default weights: $out"
echo "test_data_dirs.sh: ok"
