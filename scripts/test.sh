#!/usr/bin/env bash
# The README's test command: native tests (ctest) then every .NET test project.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-native.sh
ctest --test-dir artifacts/native-build --output-on-failure -j 2

if [ -f tests/tokenizer-reference/setup.sh ]; then
    bash tests/tokenizer-reference/setup.sh
fi

dotnet test OrleansLlm.sln -c Release --logger "console;verbosity=normal"
