#!/usr/bin/env bash
# The README's test command: native tests (ctest) then every .NET test project.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build-native.sh
ctest --test-dir artifacts/native-build --output-on-failure -j 2
# how many AVX-512 kernel tests ran on this CPU, or were skipped and why
ctest --test-dir artifacts/native-build -R avx512-kernel-summary -V 2>&1 | grep -E "AVX-512 kernel tests|Skipped|skipped:" || true

# The Azure Container Apps templates compile and lint with no warnings (bicep CLI from NuGet).
bash deploy/aca/check.sh

# The tokenizer reference data (npm install and expected/ are reused once made). Without node/npm
# the .NET run still goes ahead and the reference tests fail, naming the setup command.
bash tests/tokenizer-reference/setup.sh || echo "tokenizer-reference setup failed: the tokenizer reference tests will fail" >&2

# One build, then the test projects one after another: run side by side on two cores, the
# cluster, platform and AppHost tests (real silo processes, 1 s membership probes) starve each
# other. CI shows only the tail of this output, so failures are summarised again at the very end.
mkdir -p artifacts
log=artifacts/dotnet-test.log
: > "$log"
dotnet build OrleansLlm.sln -c Release 2>&1 | tee -a "$log"
failed=()
for project in tests/*.Tests/*.Tests.csproj; do
    echo "==== $project ====" | tee -a "$log"
    if ! dotnet test "$project" -c Release --no-build --logger "console;verbosity=normal" 2>&1 | tee -a "$log"; then
        failed+=("$project")
    fi
done
# The platform again, as containers, where a docker daemon runs (CI starts one; see deploy/containers).
if docker info >/dev/null 2>&1; then
    echo "==== deploy/containers/test.sh ====" | tee -a "$log"
    if ! bash deploy/containers/test.sh 2>&1 | tee -a "$log"; then
        failed+=("deploy/containers/test.sh")
    fi
else
    echo "==== container tests NOT RUN: no docker daemon answers (bash deploy/containers/start-docker.sh) ====" | tee -a "$log"
fi
if [ "${#failed[@]}" -ne 0 ]; then
    echo "==== the first failures in detail ===="
    grep -E -A 30 '^\s+Failed [A-Za-z]|\[FAIL\]' "$log" | head -80 || true
    echo "==== failed tests ===="
    grep -E '^\s+Failed [A-Za-z]|Test Run Aborted|The active test run was aborted' "$log" | sort -u | head -30 || true
    echo "==== failed test projects: ${failed[*]} ===="
    exit 1
fi
