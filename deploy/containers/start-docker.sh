#!/usr/bin/env bash
# Starts dockerd in the background when no daemon answers (machines without systemd), and waits
# up to 30 s for it. Exit 1, with the daemon's log tail, when it does not come up.
set -uo pipefail
docker info >/dev/null 2>&1 && exit 0
command -v dockerd >/dev/null 2>&1 || { echo "start-docker: dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }
log=${DOCKERD_LOG:-/tmp/orleansllm-dockerd.log}
nohup dockerd >"$log" 2>&1 &
for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && { echo "start-docker: dockerd is up"; exit 0; }
    sleep 0.5
done
echo "start-docker: dockerd did not answer within 30 s; its log:" >&2
tail -20 "$log" >&2
exit 1
