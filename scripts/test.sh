#!/usr/bin/env bash
# The README's test command: native tests (ctest) then every .NET test project.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-native.sh
ctest --test-dir artifacts/native-build --output-on-failure -j 2
# how many AVX-512 kernel tests ran on this CPU, or were skipped and why
ctest --test-dir artifacts/native-build -R avx512-kernel-summary -V 2>&1 | grep -E "AVX-512 kernel tests|Skipped|skipped:" || true

# The tokenizer reference data (npm install and expected/ are reused once made). Without node/npm
# the .NET run still goes ahead and the reference tests fail, naming the setup command.
bash tests/tokenizer-reference/setup.sh || echo "tokenizer-reference setup failed: the tokenizer reference tests will fail" >&2

dotnet test OrleansLlm.sln -c Release --logger "console;verbosity=normal"
