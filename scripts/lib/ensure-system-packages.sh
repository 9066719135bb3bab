#!/usr/bin/env bash
# Installs the system libraries crmsync links against, only when they are missing:
# librdkafka (Kafka client) and SQLite, both from Debian.
set -euo pipefail

missing=()
pkg-config --exists rdkafka 2>/dev/null || missing+=(librdkafka-dev)
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)

"$(dirname "$0")/apt-install.sh" ${missing[@]+"${missing[@]}"}

command -v swift >/dev/null 2>&1 || { echo "error: swift is not on PATH (Swift 6.1+ is required)" >&2; exit 1; }
