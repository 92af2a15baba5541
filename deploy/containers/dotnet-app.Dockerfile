# One runtime image for a self-contained .NET app of the platform (silo or gateway), published on
# the host by build-images.sh: no SDK or build tools in the image. Build args: BASE_IMAGE (our
# debootstrap base, or any Debian bookworm image), APP (the published folder in the context),
# ENTRY (the app's executable).
ARG BASE_IMAGE=orleansllm/debian:bookworm
FROM ${BASE_IMAGE}
ARG APP
ARG ENTRY
# ICU for culture-aware text (tokenizer normalisation), OpenSSL for .NET's crypto; no apt lists kept.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libicu72 libssl3 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/share/doc/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin orleansllm
COPY healthcheck.sh /usr/local/bin/healthcheck
COPY ${APP}/ /app/
ENV ASPNETCORE_HTTP_PORTS=8080 \
    HEALTH_PORT=8080 \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 \
    APP_ENTRY=/app/${ENTRY}
WORKDIR /app
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/healthcheck"]
ENTRYPOINT ["/bin/sh", "-c", "exec \"$APP_ENTRY\" \"$@\"", "--"]
