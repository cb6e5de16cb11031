# sonae: one image with the three services and the CLI (Debian 12, like the development machines).
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config \
      libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev libhiredis-dev librabbitmq-dev \
      nlohmann-json3-dev libspdlog-dev doctest-dev libyaml-cpp-dev libssl-dev libvalijson-dev \
      libkainjow-mustache-dev libcli11-dev libcurl4-openssl-dev libutf8proc-dev libcsv-dev \
      libcmark-gfm-dev libcmark-gfm-extensions-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSONAE_BUILD_TESTS=OFF \
    && cmake --build /build -j "$(nproc)"

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libboost-url1.81.0 libhiredis0.14 librabbitmq4 libspdlog1.10 libyaml-cpp0.7 libssl3 \
      libcurl4 libutf8proc2 libcsv3 libcmark-gfm0.29.0.gfm.6 libcmark-gfm-extensions0.29.0.gfm.6 \
      ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/sonae sonae
COPY --from=build /build/services/gateway/sonae-gateway /build/services/orchestrator/sonae-orchestrator \
                  /build/services/notifier/sonae-notifier /build/services/cli/sonae /usr/local/bin/
COPY schemas /usr/share/sonae/schemas
COPY playbooks /usr/share/sonae/playbooks
COPY config/dev /etc/sonae
ENV SONAE_SCHEMA_DIR=/usr/share/sonae/schemas \
    SONAE_PLAYBOOK_DIR=/usr/share/sonae/playbooks \
    SONAE_CONFIG_DIR=/etc/sonae
USER sonae
EXPOSE 8080
CMD ["sonae-gateway"]
