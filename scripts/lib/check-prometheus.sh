#!/usr/bin/env bash
# Checks the Prometheus files of ops/: the alert rules (`promtool check rules`), their unit tests
# (`promtool test rules`) and the compose stack's Prometheus config (`promtool check config`).
# Installs Debian's `prometheus` package (which carries promtool) when promtool is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v promtool >/dev/null 2>&1; then
    echo "==> installing missing system packages: prometheus (for promtool)" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "error: need root (or sudo) to apt-get install prometheus" >&2; exit 1; }
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

echo "==> promtool: alert rules, their tests, the Prometheus config" >&2
promtool check rules ops/prometheus/alerts.yml
(cd ops/prometheus && promtool test rules alerts.test.yml)
promtool check config ops/prometheus/prometheus.yml
