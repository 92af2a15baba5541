#!/usr/bin/env bash
# Generates text with a small built-in demo model: makes it once (random weights, real HF format,
# synthetic byte-level tokenizer) under artifacts/demo-model, then runs `orleansllm generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
prompt="${1:-Hello from OrleansLlm}"
model=artifacts/demo-model
if ! command -v cmake >/dev/null || [ ! -f /usr/include/nlohmann/json.hpp ]; then
    echo "installing the native build's packages (cmake, g++, nlohmann-json3-dev)" >&2
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq && $sudo apt-get install -y -qq cmake g++ nlohmann-json3-dev >/dev/null
fi
dotnet build Cli -c Release -v quiet -nologo >/dev/null
app="dotnet Cli/bin/Release/net10.0/orleansllm.dll"
if [ ! -f "$model/config.json" ]; then
    $app make-model --arch llama --preset tiny --dtype bf16 --seed 1 --out "$model"
fi
$app generate --model "$model" --prompt "$prompt" --max-tokens 32
