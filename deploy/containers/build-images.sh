#!/usr/bin/env bash
# Builds every image of the platform: the base (debootstrap, once), redis, silo and gateway.
#   bash deploy/containers/build-images.sh            # tag :local
# Env: BASE_IMAGE (default orleansllm/debian:bookworm, made here), TAG (default local).
# The .NET apps are published self-contained on this machine and copied in; liborleansllm.so is
# built by the Native/Binding build like for every other run. Model files are never in an image.
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${BASE_IMAGE:-orleansllm/debian:bookworm}
tag=${TAG:-local}
context=artifacts/containers
if [ "$base" = "orleansllm/debian:bookworm" ]; then
    bash deploy/containers/base-image.sh "$base"
fi

rm -rf "$context"
mkdir -p "$context"
for app in Silo Gateway; do
    echo "build-images: publishing $app (self-contained, linux-x64)"
    dotnet publish "$app" -c Release -r linux-x64 --self-contained -p:UseAppHost=true -p:DebugType=none -p:DebugSymbols=false \
        -o "$context/$(echo "$app" | tr '[:upper:]' '[:lower:]')" --nologo -v quiet
done
cp deploy/containers/healthcheck.sh "$context/"

build() {  # name dockerfile [build args...]
    local name=$1 file=$2
    shift 2
    echo "build-images: orleansllm/$name:$tag"
    docker build -q -f "$file" --build-arg "BASE_IMAGE=$base" "$@" -t "orleansllm/$name:$tag" "$context" >/dev/null
}
build redis deploy/containers/redis.Dockerfile
build silo deploy/containers/dotnet-app.Dockerfile --build-arg APP=silo --build-arg ENTRY=OrleansLlm.Silo
build gateway deploy/containers/dotnet-app.Dockerfile --build-arg APP=gateway --build-arg ENTRY=OrleansLlm.Gateway

echo "build-images: sizes"
for name in redis silo gateway; do
    docker image inspect -f "{{.Size}}" "orleansllm/$name:$tag" | awk -v n="orleansllm/$name:$tag" '{printf "  %-28s %4.0f MB\n", n, $1/1e6}'
done
