#!/usr/bin/env bash
# KV-aware against random routing on a real cluster: builds, makes a SmolLM2-135M-shaped model
# (random bf16 weights) once, starts redis + 2 silo processes (one CPU engine each, 1 thread) + a
# gateway, runs `orleansllm bench serve --routing both --json` and tears everything down.
# Usage: scripts/bench-serve.sh [extra bench serve options]   (env: SESSIONS TURNS RATE SYSTEM_TOKENS KV_MIB OUT MODEL_DIR NO_BUILD)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sessions=${SESSIONS:-16}
turns=${TURNS:-5}
rate=${RATE:-inf}
system_tokens=${SYSTEM_TOKENS:-1000}
kv_mib=${KV_MIB:-1536}
model_dir=${MODEL_DIR:-$root/artifacts/smollm2-135m-bf16}
out=${OUT:-$root/artifacts/bench-serve.json}
model=smollm2-135m
work=$(mktemp -d /tmp/orleansllm-bench-serve-XXXXXX)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    echo "logs in $work" >&2
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

if [ -z "${NO_BUILD:-}" ]; then
    dotnet build Cli -c Release -v quiet -nologo >/dev/null
fi
cli="dotnet Cli/bin/Release/net10.0/orleansllm.dll"
if [ ! -f "$model_dir/config.json" ]; then
    $cli make-model --arch llama --preset smollm2-135m --dtype bf16 --seed 1 --out "$model_dir" >&2
fi

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no --protected-mode no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

cluster=bench-serve-$RANDOM
# a loaded 2-core machine: slower failure detection than the defaults (1 s × 2 probes), and a response
# timeout above the longest queue wait for a first token (the streamed call waits per item)
common=(--ConnectionStrings:redis=127.0.0.1:$redis_port --Cluster:ClusterId=$cluster --Cluster:ResponseTimeoutSeconds=600
        --Cluster:ProbeTimeoutSeconds=5 --Cluster:MissedProbesLimit=3
        --Logging:LogLevel:Default=Warning --Logging:LogLevel:OrleansLlm=Information --Logging:LogLevel:Microsoft.Hosting.Lifetime=Information)
for i in 0 1; do
    dotnet Silo/bin/Release/net10.0/OrleansLlm.Silo.dll --urls=http://127.0.0.1:$(free_port) "${common[@]}" \
        --Cluster:Mode=Redis --Cluster:SiloName=silo-$i --Cluster:SiloPort=$(free_port) --Cluster:GatewayPort=$(free_port) \
        --OrleansLlm:Models:$model:Path="$model_dir" \
        --OrleansLlm:Engines:0:Device=cpu0 --OrleansLlm:Engines:0:Model=$model --OrleansLlm:Engines:0:Threads=1 \
        --OrleansLlm:Engines:0:KvCacheMiB=$kv_mib --OrleansLlm:Engines:0:IdleTimeoutSeconds=0 \
        >"$work/silo-$i.log" 2>&1 &
    pids+=($!)
done
gateway_port=$(free_port)
dotnet Gateway/bin/Release/net10.0/OrleansLlm.Gateway.dll --urls=http://127.0.0.1:$gateway_port "${common[@]}" >"$work/gateway.log" 2>&1 &
pids+=($!)
url=http://127.0.0.1:$gateway_port

echo "waiting for both engines at $url" >&2
for _ in $(seq 240); do
    if curl -sf "$url/ready" 2>/dev/null | grep -q 'silo-0/cpu0' && curl -sf "$url/ready" | grep -q 'silo-1/cpu0'; then break; fi
    sleep 0.5
done
curl -sf "$url/ready" >&2 || { echo "the cluster did not become ready" >&2; tail -n 30 "$work"/*.log >&2; exit 1; }
echo >&2

cmd=($cli bench serve --url "$url" --model $model --dataset multi-turn --sessions "$sessions" --turns "$turns"
     --request-rate "$rate" --routing both --max-tokens 16 --system-tokens "$system_tokens" --user-tokens 64 --seed 1 --json "$@")
echo "+ ${cmd[*]}" >&2
mkdir -p "$(dirname "$out")"
"${cmd[@]}" | tee "$out"
curl -sf "$url/admin/cluster" >"$work/cluster-after.json" || true
echo "result in $out" >&2
