#!/usr/bin/env bash
# Builds liborleansllm (Release) into artifacts/native/ and its tests into artifacts/native-build/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S Native -B artifacts/native-build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build artifacts/native-build -j "$(nproc)"
