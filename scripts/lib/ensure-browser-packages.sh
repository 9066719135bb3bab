#!/usr/bin/env bash
# Installs what the web console's browser test needs, only when missing: headless Chromium and
# its driver from Debian, Selenium from PyPI. Prints nothing when everything is there.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if ((${#missing[@]})); then
    echo "==> installing missing system packages for the console browser test: ${missing[*]}" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "error: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import selenium' 2>/dev/null; then
    echo "==> installing selenium (PyPI) for the console browser test" >&2
    python3 -m pip install --quiet 'selenium>=4.20,<5'
fi
