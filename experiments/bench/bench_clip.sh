#!/usr/bin/env bash
# bench_clip.sh - speed and memory of the CLIP image tower for one WinCLIP image, and the same
# work in PyTorch side by side when a python3 with torch and h5py is available.
#
# Run by `make bench` (WINCLIP_BIN set) or by hand: bash experiments/bench/bench_clip.sh.
# Writes a random ViT-B-16-plus-240 model (~834 MB) to a temporary folder, removed at exit;
# set CLIP_MODEL=path.h5 to use real weights instead. Threads: OMP_NUM_THREADS (default 2).
# Numbers are noisy on a shared machine: run it when nothing else is busy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${WINCLIP_BIN:-$here/../../build/winclip}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model=${CLIP_MODEL:-}
if [ -z "$model" ]; then
  model=$tmp/random_vit_b_16_plus_240.h5
  "$bin" make-random-model --arch ViT-B-16-plus-240 --seed 1 "$model"
fi
echo "== winclip bench-clip ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
"$bin" bench-clip --model "$model" --repeat 3
py=
for cand in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch, h5py' >/dev/null 2>&1; then py=$cand; break; fi
done
if [ -n "$py" ]; then
  echo "== PyTorch, same work ($py)"
  "$py" "$here/pytorch_winclip_encode.py" --model "$model" --threads "$OMP_NUM_THREADS" --repeat 3
else
  echo "== PyTorch: skipped (no python3 with torch and h5py; apt-get install python3-torch python3-h5py)"
fi
