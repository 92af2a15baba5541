#!/usr/bin/env bash
# Compiles and lints the Container Apps templates: bicep build and bicep lint of main.bicep and
# main.bicepparam, any warning fails (bicep lint exits 0 on warnings, so its output is read).
# Needs only the .NET SDK and the NuGet feed: the bicep CLI comes from the NuGet package
# Azure.Bicep.CommandLine.linux-x64 (a native executable in its tools/ folder), which
# tools/BicepCli.csproj downloads into the NuGet cache. Nothing is deployed.
set -euo pipefail
cd "$(dirname "$0")"

version=0.49.2
dotnet restore tools/BicepCli.csproj --nologo -v quiet
packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
bicep="${packages%/}/azure.bicep.commandline.linux-x64/$version/tools/bicep"
[ -f "$bicep" ] || { echo "check: no bicep at $bicep" >&2; exit 1; }
[ -x "$bicep" ] || chmod +x "$bicep"
echo "check: $("$bicep" --version)"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# main.bicepparam reads the API key from the environment; any value compiles
export ORLEANSLLM_API_KEY=${ORLEANSLLM_API_KEY:-check-only}

failed=0
run() {  # bicep arguments...
    local output status=0
    output=$("$bicep" "$@" 2>&1) || status=$?
    [ -z "$output" ] || printf '%s\n' "$output"
    if [ $status -ne 0 ] || grep -qE ' : (Warning|Error) ' <<<"$output"; then
        echo "check: FAILED bicep $*" >&2
        failed=1
    else
        echo "check: ok     bicep $*"
    fi
}
run build main.bicep --outfile "$out/main.json"
run build-params main.bicepparam --outfile "$out/main.parameters.json"
run lint main.bicep
run lint main.bicepparam
[ $failed -eq 0 ] || exit 1
echo "check: main.bicep and main.bicepparam compile and lint with no warnings"
