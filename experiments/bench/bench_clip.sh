#!/usr/bin/env bash
# bench_clip.sh - speed and memory of the CLIP image tower for one WinCLIP image, and the same
# work in PyTorch side by side when a python3 with torch and h5py is available.
#
# Run by `make bench` (WINCLIP_BIN set) or by hand: bash experiments/bench/bench_clip.sh.
# Writes a random ViT-B-16-plus-240 model (~834 MB) to a temporary folder, removed at exit;
# set CLIP_MODEL=path.h5 to use real weights instead. Threads: OMP_NUM_THREADS (default 2).
# Numbers are noisy on a shared machine: run it when nothing else is busy; the share of the
# GEMM rate and the ratio to PyTorch are measured in the same run, so they suffer less; the
# share of the tower's time outside its own matrix products is measured alternating image by
# image with the tower (the steadiest figure of the element-wise overhead).
# Kernel path: the CPU's widest (printed). WINCLIP_ISA=avx2 caps it, and then this script caps
# every library of both sides at AVX2 too (unless set otherwise): DNNL_MAX_CPU_ISA=AVX2 (oneDNN,
# ours and PyTorch's), ATEN_CPU_CAPABILITY=avx2 (PyTorch's own kernels) and
# OPENBLAS_CORETYPE=Haswell (OpenBLAS, which does Debian PyTorch's matrix products, and ours
# with GEMM=openblas: it picks its kernels from the CPU, not from the other two), so an AVX-512
# machine measures the AVX2 code of both sides. The caps and PyTorch's OpenBLAS core are printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${WINCLIP_BIN:-$here/../../build/winclip}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
if [ "${WINCLIP_ISA:-}" = avx2 ]; then
  export DNNL_MAX_CPU_ISA=${DNNL_MAX_CPU_ISA:-AVX2} ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-avx2} \
    OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
fi
echo "caps: WINCLIP_ISA=${WINCLIP_ISA:-none} DNNL_MAX_CPU_ISA=${DNNL_MAX_CPU_ISA:-none}" \
  "ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-none} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-none}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
model=${CLIP_MODEL:-}
if [ -z "$model" ]; then
  model=$tmp/random_vit_b_16_plus_240.h5
  "$bin" make-random-model --arch ViT-B-16-plus-240 --seed 1 "$model"
fi
echo "== winclip bench-clip ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
"$bin" bench-clip --model "$model" --repeat 3 | tee "$tmp/winclip.txt"
py=
for cand in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import torch, h5py' >/dev/null 2>&1; then py=$cand; break; fi
done
if [ -n "$py" ]; then
  echo "== PyTorch, same work ($py)"
  echo "PyTorch's OpenBLAS kernels: $(OPENBLAS_VERBOSE=2 "$py" -c 'import torch; torch.ones(2, 2) @ torch.ones(2, 2)' 2>&1 | sed -n 's/^Core: //p' | head -1)"
  "$py" "$here/pytorch_winclip_encode.py" --model "$model" --threads "$OMP_NUM_THREADS" --repeat 3 | tee "$tmp/torch.txt"
  ours=$(awk '/^full \+ windows/ {print $4; exit}' "$tmp/winclip.txt")
  theirs=$(awk '/^full \+ windows/ {print $4; exit}' "$tmp/torch.txt")
  [ -n "$ours" ] && [ -n "$theirs" ] && awk -v a="$ours" -v b="$theirs" \
    'BEGIN { printf "full + windows: winclip %.3f s, PyTorch %.3f s: %.2fx PyTorch\n", a, b, b / a }'
else
  echo "== PyTorch: skipped (no python3 with torch and h5py; apt-get install python3-torch python3-h5py)"
fi
