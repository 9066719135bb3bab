#!/usr/bin/env bash
# Checks the Prometheus files of ops/: the alert rules (`promtool check rules`), their unit tests
# (`promtool test rules`) and the compose stack's Prometheus config (`promtool check config`).
# Installs Debian's `prometheus` package (which carries promtool) when promtool is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v promtool >/dev/null 2>&1 || scripts/lib/apt-install.sh --no-recommends prometheus

echo "==> promtool: alert rules, their tests, the Prometheus config" >&2
promtool check rules ops/prometheus/alerts.yml
(cd ops/prometheus && promtool test rules alerts.test.yml)
promtool check config ops/prometheus/prometheus.yml
