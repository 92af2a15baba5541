#!/usr/bin/env bash
# The platform from containers: Redis, N silos and the gateway on a user-defined network.
#   bash deploy/containers/cluster.sh up [--silos 2] [--port 8000] [--models DIR]
#   bash deploy/containers/cluster.sh kill silo-0 | start silo-0 | logs silo-0 | ps | down
# Images come from build-images.sh (TAG, default local). --models is a host folder mounted read-only
# at /models; each of its subfolders (a Hugging Face model) or .gguf files is one model, named after
# it, served by one CPU engine per silo. Without --models the demo model is made once into
# artifacts/containers-models/demo. Extra settings: SILO_ARGS / GATEWAY_ARGS (command-line
# configuration, e.g. "--OrleansLlm:Engines:0:KvCacheMiB=64"), SILO_MODEL_ARGS (models and engines
# instead of one engine per model), CLUSTER_PREFIX (container names, default orleansllm). A script rather than the AppHost:
# Aspire drives containers from registry images and its own networking, and our daemon can only
# run images built here; the script does exactly what the Container Apps deployment does.
set -euo pipefail
cd "$(dirname "$0")/../.."

tag=${TAG:-local}
prefix=${CLUSTER_PREFIX:-orleansllm}
network=$prefix-net
cluster_id=${CLUSTER_ID:-$prefix}

usage() { sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

container_of() {  # silo-0 | gateway | redis → container name
    case "$1" in
        silo-*|gateway|redis) echo "$prefix-$1" ;;
        *) echo "cluster: unknown member '$1' (silo-N, gateway or redis)" >&2; exit 2 ;;
    esac
}

wait_healthy() {  # container timeout_s
    local deadline=$((SECONDS + $2)) state
    while true; do
        state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null || echo missing)
        case "$state" in
            "running healthy") return 0 ;;
            exited*|dead*|missing) echo "cluster: $1 is $state" >&2; docker logs --tail 30 "$1" >&2 || true; return 1 ;;
        esac
        if [ $SECONDS -ge $deadline ]; then
            echo "cluster: $1 not healthy after $2 s ($state)" >&2; docker logs --tail 30 "$1" >&2 || true; return 1
        fi
        sleep 1
    done
}

up() {
    local silos=2 port=8000 models=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --silos) silos=$2; shift 2 ;;
            --port) port=$2; shift 2 ;;
            --models) models=$(realpath "$2"); shift 2 ;;
            *) usage ;;
        esac
    done
    if [ -z "$models" ]; then
        models=$PWD/artifacts/containers-models
        if [ ! -f "$models/demo/config.json" ]; then
            echo "cluster: making the demo model into $models/demo"
            dotnet run --project Cli -c Release -- make-model --preset tiny --dtype bf16 --seed 1 --out "$models/demo" --force >/dev/null
        fi
    fi
    local model_args=() i=0 name
    # SILO_MODEL_ARGS replaces the one-engine-per-model default (paths under /models)
    # shellcheck disable=SC2206
    [ -n "${SILO_MODEL_ARGS:-}" ] && model_args=(${SILO_MODEL_ARGS}) && i=${#model_args[@]}
    for entry in "$models"/*; do
        [ -z "${SILO_MODEL_ARGS:-}" ] || break
        [ -d "$entry" ] || [[ "$entry" == *.gguf ]] || continue
        name=$(basename "$entry" .gguf)
        model_args+=("--OrleansLlm:Models:$name:Path=/models/$(basename "$entry")"
                     "--OrleansLlm:Engines:$i:Device=cpu$i" "--OrleansLlm:Engines:$i:Model=$name" "--OrleansLlm:Engines:$i:Threads=1")
        i=$((i + 1))
    done
    [ $i -gt 0 ] || { echo "cluster: no model in $models" >&2; exit 1; }

    docker network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
    docker run -d --name "$prefix-redis" --network "$network" --network-alias redis "orleansllm/redis:$tag" >/dev/null
    wait_healthy "$prefix-redis" 30
    local common=("--ConnectionStrings:redis=redis:6379" "--Cluster:ClusterId=$cluster_id")
    for ((s = 0; s < silos; s++)); do
        # shellcheck disable=SC2086
        docker run -d --name "$prefix-silo-$s" --hostname "silo-$s" --network "$network" \
            -v "$models:/models:ro" "orleansllm/silo:$tag" \
            "${common[@]}" --Cluster:Mode=Redis --Cluster:SiloName=silo-$s --Cluster:AdvertisedAddress=auto \
            "${model_args[@]}" ${SILO_ARGS:-} >/dev/null
    done
    # shellcheck disable=SC2086
    docker run -d --name "$prefix-gateway" --network "$network" -p "127.0.0.1:$port:8080" \
        "orleansllm/gateway:$tag" "${common[@]}" ${GATEWAY_ARGS:-} >/dev/null
    for ((s = 0; s < silos; s++)); do wait_healthy "$prefix-silo-$s" 120; done
    wait_healthy "$prefix-gateway" 120
    echo "cluster: up, the OpenAI API at http://127.0.0.1:$port/v1 (models: $(cd "$models" && ls | sed 's/\.gguf$//' | tr '\n' ' '))"
}

down() {
    docker ps -a --format '{{.Names}}' | grep -E "^$prefix-(redis|gateway|silo-[0-9]+)$" | xargs -r docker rm -f >/dev/null || true
    docker network rm "$network" >/dev/null 2>&1 || true
    echo "cluster: down"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
    up) down >/dev/null; up "$@" ;;
    down) down ;;
    kill) docker kill "$(container_of "${1:?member}")" >/dev/null ;;          # SIGKILL, as a crash
    start) docker start "$(container_of "${1:?member}")" >/dev/null; wait_healthy "$(container_of "$1")" 120 ;;
    logs) docker logs "$(container_of "${1:?member}")" ;;
    ps) docker ps -a --filter "name=^$prefix-" --format 'table {{.Names}}\t{{.Status}}' ;;
    *) usage ;;
esac
