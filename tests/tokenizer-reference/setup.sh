#!/usr/bin/env bash
# Installs the reference tokenizers and implementations from npm (exact versions from
# package-lock.json) and writes expected/*.json, which tests/Tokenizers.Tests compares against.
# Needs node (>= 18) and npm. scripts/test.sh runs it before `dotnet test` on every machine, so it
# does the work once: `npm ci` only when node_modules was not installed from this exact lock file,
# and generate-expected.mjs only when its inputs (lock file, script, corpus, node version) changed.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "tokenizer-reference: node and npm are required (apt-get install nodejs npm); the reference tests fail without them" >&2
    exit 1
fi

lock_stamp=node_modules/.orleansllm-lock.sha256
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$lock_stamp" ] && [ "$(cat "$lock_stamp")" = "$lock_hash" ]; then
    echo "tokenizer-reference: node_modules matches package-lock.json, npm ci skipped"
else
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" > "$lock_stamp" # written last: an interrupted install is redone next time
fi

# ICU (Unicode tables) comes with node, so its version is an input of the expected outputs too.
expected_stamp=expected/.inputs.sha256
expected_hash=$( { node --version; cat package-lock.json generate-expected.mjs corpus/*; } | sha256sum | cut -d' ' -f1)
up_to_date=true
[ -f "$expected_stamp" ] && [ "$(cat "$expected_stamp")" = "$expected_hash" ] || up_to_date=false
for name in llama3 llama3_1 qwen3 llama2 gemma3; do
    [ -f "expected/$name.json" ] || up_to_date=false
done
if $up_to_date; then
    echo "tokenizer-reference: expected/ is up to date, not regenerated"
else
    rm -f "$expected_stamp"
    node generate-expected.mjs
    echo "$expected_hash" > "$expected_stamp"
fi
