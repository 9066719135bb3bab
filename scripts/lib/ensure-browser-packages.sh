#!/usr/bin/env bash
# Installs what the web console's browser test needs, only when missing: headless Chromium and
# its driver from Debian, Selenium from PyPI. Prints nothing when everything is there.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
"$(dirname "$0")/apt-install.sh" ${missing[@]+"${missing[@]}"}

if ! python3 -c 'import selenium' 2>/dev/null; then
    echo "==> installing selenium (PyPI) for the console browser test" >&2
    python3 -m pip install --quiet 'selenium>=4.20,<5'
fi
