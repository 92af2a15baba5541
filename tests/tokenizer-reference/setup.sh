#!/usr/bin/env bash
# Installs the reference tokenizers and implementations from npm (exact versions from
# package-lock.json) and writes expected/*.json, which tests/Tokenizers.Tests compares against.
# Needs node (>= 18) and npm. Run before `dotnet test`; CI runs it from scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "tokenizer-reference: node and npm are required (apt-get install nodejs npm)" >&2
    exit 1
fi

npm ci --no-audit --no-fund --loglevel=error
node generate-expected.mjs
