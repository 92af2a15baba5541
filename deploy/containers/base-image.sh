#!/usr/bin/env bash
# Builds the runtime base image (default orleansllm/debian:bookworm) from Debian's own packages
# with debootstrap, because no container registry is reachable from our machines. Where one is,
# pass BASE_IMAGE=debian:bookworm-slim to build-images.sh instead and this script is not needed.
# Needs root, debootstrap and a running docker daemon. Skips the work when the image exists.
set -euo pipefail

image=${1:-orleansllm/debian:bookworm}
suite=${DEBIAN_SUITE:-bookworm}
if docker image inspect "$image" >/dev/null 2>&1; then
    echo "base-image: $image exists"
    exit 0
fi
# the mirror apt already uses on this machine, unless DEBIAN_MIRROR says otherwise
mirror=${DEBIAN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -E '^(URIs:|deb )' | grep -o -E 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ' || true)}
mirror=${mirror:-http://deb.debian.org/debian}

rootfs=$(mktemp -d /tmp/orleansllm-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "base-image: debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >/dev/null
# no apt lists, caches, docs or locales in the image
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "base-image: $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
