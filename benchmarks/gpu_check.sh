#!/bin/bash
# One pass of every GPU check, for a machine with an NVIDIA GPU and CuPy (docs/gpu.md): the gpu-marked tests (each
# fused kernel against its NumPy formula, no host round trip inside a step, the seed CNN's MNIST epoch against the
# CPU's accuracy, save/load across devices), the GPU benchmark against PyTorch CUDA, then the op oracle on CuPy.
# Logs go to $OUT (or ./gpu-check). Usage: bash benchmarks/gpu_check.sh [seconds for the oracle, default 240]
set -u
out=${OUT:-gpu-check}; mkdir -p "$out"
export PYTHONUNBUFFERED=1
python3 -c "import cupy; print('CuPy', cupy.__version__, 'GPUs', cupy.cuda.runtime.getDeviceCount())" || exit 1
echo "== gpu tests"
timeout 300 python3 -m pytest -p no:cacheprovider -q -m "gpu and not slow" -o addopts="" tests/backend/test_cupy_backend.py \
    --tb=short 2>&1 | tee "$out/gpu_tests.log" | tail -25
echo "== benchmark"
timeout 300 python3 -m benchmarks.run --device gpu --rounds 3 --json "$out/gpu_bench.json" 2>&1 | tee "$out/gpu_bench.log" | tail -8
echo "== oracle on CuPy"
CHAINRULE_BACKEND=cupy timeout "${1:-240}" python3 -m pytest -p no:cacheprovider -q tests/oracle --tb=line -n 8 \
    > "$out/oracle.log" 2>&1
grep -c FAILED "$out/oracle.log"; tail -3 "$out/oracle.log"
