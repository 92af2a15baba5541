#!/usr/bin/env bash
# The container stage of the tests: builds the images, then runs the platform's end-to-end tests
# (tests/Platform.Tests, silo containers killed mid-session included) against a cluster of
# containers. Needs a running docker daemon, debootstrap (for the base image) and a Release build
# of tests/Platform.Tests (scripts/test.sh builds it first).
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$SECONDS
bash deploy/containers/build-images.sh 2>&1 | grep -v -E 'DEPRECATED|legacy builder|buildx|docs.docker.com|^\s*$'
echo "containers: images built in $((SECONDS - started)) s"
ORLEANSLLM_PLATFORM_TARGET=containers dotnet test tests/Platform.Tests -c Release --no-build \
    --logger "console;verbosity=normal"
echo "containers: stage done in $((SECONDS - started)) s"
