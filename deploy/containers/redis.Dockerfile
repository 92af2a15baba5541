# Redis from Debian's package on our base image, for the local container cluster (in Azure the
# cluster uses Azure Managed Redis instead).
ARG BASE_IMAGE=orleansllm/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/*
USER redis
EXPOSE 6379
HEALTHCHECK --interval=2s --timeout=3s --retries=10 CMD ["redis-cli", "ping"]
ENTRYPOINT ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", "/tmp"]
