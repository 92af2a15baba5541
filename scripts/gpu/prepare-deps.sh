#!/usr/bin/env bash
# Copies the native build's C++ dependencies that the GPU machine may lack (GoogleTest and
# nlohmann/json, from this machine's Debian packages) into .gpu-deps/, a relocatable CMake prefix
# that travels with the working tree (carry it) and that scripts/gpu-check.sh uses when present.
# GoogleTest is a static library built by Debian's GCC 12; it links into newer GCCs' programs.
#   bash scripts/gpu/prepare-deps.sh      # here, before running gpu-check.sh over there
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=.gpu-deps
multiarch=lib/x86_64-linux-gnu
rm -rf "$dest"
mkdir -p "$dest/$multiarch/cmake" "$dest/include" "$dest/share/cmake"
cp -r /usr/include/gtest /usr/include/gmock /usr/include/nlohmann "$dest/include/"
cp /usr/$multiarch/libgtest.a /usr/$multiarch/libgtest_main.a /usr/$multiarch/libgmock.a /usr/$multiarch/libgmock_main.a \
    "$dest/$multiarch/"
cp -r /usr/$multiarch/cmake/GTest "$dest/$multiarch/cmake/"
cp -r /usr/share/cmake/nlohmann_json "$dest/share/cmake/"
du -sh "$dest"
