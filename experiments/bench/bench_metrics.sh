#!/usr/bin/env bash
# bench_metrics.sh - speed and memory of all pixel metrics of one category (`make bench`).
#
# Cases (one process each, so the peak-RSS figure is per case):
#   1. 174 images x 240 x 240 (~10 M pixels, a large MVTec/VisA category at the project's
#      evaluation size), 3% defect pixels          target: well under 5 s, <= ~12 B/pixel extra
#   2. the same with 45% defect pixels (memory grows with defect pixels only)
#   3. 30 images x 1024 x 1024 (original MVTec resolution, ~31 M pixels)
# Not a test: prints the figures; exits non-zero only if the binary fails.
set -euo pipefail
BIN=${WINCLIP_BIN:-build/winclip}
run_case() {
    echo "-- winclip bench-metrics $*"
    "$BIN" bench-metrics "$@"
}
run_case --images 174 --size 240 240
run_case --images 174 --size 240 240 --defect-fraction 0.45 --repeat 1
run_case --images 30 --size 1024 1024 --repeat 1
