# Builds the release binary of crmsync against Debian's librdkafka and SQLite.
FROM swift:6.2-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends librdkafka-dev libsqlite3-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product crmsync --static-swift-stdlib \
 && cp "$(swift build -c release --show-bin-path)/crmsync" /usr/local/bin/crmsync

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends librdkafka1 libsqlite3-0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/crmsync /usr/local/bin/crmsync
WORKDIR /app
COPY topics ./topics
COPY config ./config
RUN useradd --system --home /var/lib/crmsync crmsync && mkdir -p /var/lib/crmsync && chown crmsync /var/lib/crmsync
USER crmsync
ENTRYPOINT ["crmsync"]
CMD ["--help"]
