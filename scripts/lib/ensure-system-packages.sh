#!/usr/bin/env bash
# Installs the system libraries crmsync links against, only when they are missing:
# librdkafka (Kafka client) and SQLite, both from Debian.
set -euo pipefail

missing=()
pkg-config --exists rdkafka 2>/dev/null || missing+=(librdkafka-dev)
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)

if ((${#missing[@]})); then
    echo "==> installing missing system packages: ${missing[*]}" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null 2>&1 || { echo "error: swift is not on PATH (Swift 6.1+ is required)" >&2; exit 1; }
