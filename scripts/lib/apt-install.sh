#!/usr/bin/env bash
# apt-get installs the Debian packages named as arguments (as root, or through sudo), quietly.
# The ensure-* scripts call it with what they found missing. --no-recommends first: without
# the packages they only recommend.
set -euo pipefail
flags=()
if [ "${1:-}" = "--no-recommends" ]; then flags+=(--no-install-recommends); shift; fi
(($#)) || exit 0
echo "==> installing missing system packages: $*" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: need root (or sudo) to apt-get install $*" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq ${flags[@]+"${flags[@]}"} "$@" >/dev/null
