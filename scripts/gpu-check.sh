#!/usr/bin/env bash
# The CUDA backend's one-command check on a GPU machine (nvcc 12/13, PyTorch + transformers, no
# .NET, no network). Builds the native engine with the CUDA backend for this GPU, runs the CUDA
# tests (none may be skipped here), compares full-model logits with HF transformers, runs
# bench-cuda and the HF `generate` baseline on the same shapes, and reruns the golden fixtures'
# producer against HF. JSON and logs go to $OUT (default artifacts/gpu-check), at most 8 files:
#   gpu-check.log ctest.log hf-logits.json bench-cuda.json hf-baseline.json summary.json golden-hf.json
# Here first: bash scripts/gpu/prepare-deps.sh (GoogleTest, nlohmann/json into .gpu-deps/, carried).
#   bash scripts/gpu-check.sh [--quick]     # --quick: 200 llama requests, 64 qwen3, HF 64 each
# Exit status: 0 when every stage passed. docs/CUDA.md.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${OUT:-$root/artifacts/gpu-check}
mkdir -p "$out"
exec > >(tee -a "$out/gpu-check.log") 2>&1
quick=0
[ "${1:-}" = "--quick" ] && quick=1
status=0
stage() { echo; echo "=== $(date -u +%H:%M:%S) $*"; }
fail() { echo "FAILED: $*"; status=1; }

stage "device"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv || fail "nvidia-smi"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
"$nvcc" --version | tail -2 || { fail "no nvcc"; exit 1; }
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
arch=${arch:-90}

stage "configure + build (sm_$arch)"
deps=()
if [ -d .gpu-deps ]; then
    deps=(-DGTest_DIR="$root/.gpu-deps/lib/x86_64-linux-gnu/cmake/GTest"
          -Dnlohmann_json_DIR="$root/.gpu-deps/share/cmake/nlohmann_json")
fi
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
build=artifacts/gpu-build
start=$(date +%s)
cmake -S Native -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DORLEANSLLM_CUDA=ON \
    -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_CUDA_ARCHITECTURES="$arch" "${deps[@]}" || { fail "configure"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target orleansllm orleansllm-cuda test-cuda-kernels test-cuda-engine test-engine bench-cuda \
    || { fail "build"; exit 1; }
echo "build_s=$(( $(date +%s) - start ))"

stage "ctest: CUDA kernels and engine, the engine's own tests"
timeout 400 ctest --test-dir "$build" -R 'Cuda|^Engine' --output-on-failure -j 2 >"$out/ctest.log" 2>&1 || fail "ctest"
tail -25 "$out/ctest.log"
if grep "(Skipped)" "$out/ctest.log" | grep -qE "CudaKernels|CudaBackend|CudaEngine"; then
    fail "CUDA tests were skipped on a GPU machine"
fi

stage "full-model logits vs HF transformers (tiny models)"
timeout 300 python3 scripts/gpu/hf_baseline.py tiny-models artifacts/gpu-tiny || fail "tiny-models"
timeout 300 "$build/bench-cuda" --hf-logits artifacts/gpu-tiny --out "$out/hf-logits.json" >/dev/null || fail "hf-logits"
cat "$out/hf-logits.json" 2>/dev/null | head -60

stage "bench-cuda"
if [ $quick = 1 ]; then bench_args=(--requests 200 --qwen3-requests 64); hf_args=(--llama-requests 64 --qwen3-requests 64 --batch 64)
else bench_args=(--requests 1000 --qwen3-requests 256); hf_args=(--llama-requests 256 --qwen3-requests 256 --batch 128); fi
timeout 420 "$build/bench-cuda" "${bench_args[@]}" --out "$out/bench-cuda.json" >/dev/null || fail "bench-cuda"
cat "$out/bench-cuda.json" 2>/dev/null

stage "HF transformers generate baseline"
PYTHONUNBUFFERED=1 timeout 420 python3 scripts/gpu/hf_baseline.py bench --out "$out/hf-baseline.json" "${hf_args[@]}" \
    || fail "hf baseline"
python3 scripts/gpu/hf_baseline.py combine --engine "$out/bench-cuda.json" --hf "$out/hf-baseline.json" \
    --out "$out/summary.json" || fail "combine"

stage "golden fixtures: generate.py --reference hf vs the committed torch reference"
rm -rf /tmp/golden-before && cp -r tests/golden /tmp/golden-before
timeout 300 python3 tests/golden/generate.py --reference hf || fail "generate.py --reference hf"
python3 scripts/gpu/hf_baseline.py golden-compare --before /tmp/golden-before --after tests/golden --out "$out/golden-hf.json" \
    || fail "golden fixtures differ from HF"
rm -rf tests/golden && cp -r /tmp/golden-before tests/golden  # leave the tree as it came

stage "done: status $status"
exit $status
