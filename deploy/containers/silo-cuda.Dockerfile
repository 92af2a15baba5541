# The silo with the CUDA engine (issue 13). NOT BUILT YET: liborleansllm has no CUDA backend, so
# build-images.sh does not build this image. When it does, build it with the CUDA runtime as the
# base (no registry image is reachable on our machines; where one is):
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
