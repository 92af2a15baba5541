# The silo with the CUDA engine (docs/CUDA.md). Not built by build-images.sh: no CUDA runtime base
# image is reachable from our machines. The silo's publish folder already holds the CUDA plugin
# (liborleansllm-cuda.so, built wherever nvcc is present; liborleansllm.so opens it only for
# backend cuda). The plugin links the cuBLAS/cudart of the toolkit that built it, so the base must
# carry the same CUDA major: Debian's nvcc 11.8 needs an 11.x runtime base (and that base's ICU,
# e.g. libicu70 on ubuntu22.04); for this 12.x default, build the plugin with CUDA 12 first. Where a
# registry is reachable:
#   docker build -f deploy/containers/silo-cuda.Dockerfile \
#     --build-arg BASE_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04 -t orleansllm/silo-cuda:local artifacts/containers
# and run it with `--gpus all` (NVIDIA container toolkit) or on a GPU workload profile in Azure.
ARG BASE_IMAGE=nvidia/cuda:12.8.1-runtime-ubuntu24.04
FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends libicu74 libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin orleansllm
COPY healthcheck.sh /usr/local/bin/healthcheck
COPY silo/ /app/
ENV ASPNETCORE_HTTP_PORTS=8080 HEALTH_PORT=8080 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /app
USER 10001
EXPOSE 8080 11111 30000
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/healthcheck"]
ENTRYPOINT ["/app/OrleansLlm.Silo"]
