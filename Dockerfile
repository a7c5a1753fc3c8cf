# syncrelay node image: multi-stage on Debian bookworm.
#
#   docker build -t syncrelay:dev .
#   docker run --rm -p 8080:8080 -e REDIS_URL=redis://redis:6379 syncrelay:dev
#
# The build stage installs the build packages and builds libwebsockets with
# libevent from Debian's own source package and hiredis with TLS from a newer
# suite's (tools/install-deps.sh, both static), then the node. The final stage
# holds the binary and the shared libraries it links,
# nothing else, and runs as an unprivileged user. The image has no
# redis-server: set REDIS_URL (the node only starts an embedded Redis when it
# is unset, which is for `make run` on a workstation).

FROM debian:bookworm AS build
WORKDIR /src
COPY tools/install-deps.sh tools/install-deps.sh
# Dependencies first, so code changes do not rebuild libwebsockets.
RUN SR_DEPS=build tools/install-deps.sh build \
    && rm -rf build/deps/src build/deps/src-hiredis /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake cmake
COPY shared shared
COPY node node
COPY tests/unit tests/unit
COPY tools/loadgen tools/loadgen
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null \
    && cmake --build build --target syncrelay -j"$(nproc)" \
    && strip build/syncrelay

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libevent-2.1-7 libjansson4 libssl3 libcap2 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 syncrelay \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin syncrelay
COPY --from=build /src/build/syncrelay /usr/local/bin/syncrelay
USER 10001:10001
ENV PORT=8080 LOG_FORMAT=json
EXPOSE 8080
# No HEALTHCHECK (the image has no HTTP client): orchestrators probe GET /health
# (liveness) and GET /ready (traffic) on PORT.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/syncrelay"]
