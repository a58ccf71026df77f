#!/usr/bin/env bash
# Debian's chromium for the report's browser test (tests/test_report_browser.py); playwright drives it
# through /usr/bin/chromium, so no browser is downloaded. Needs root (apt), like the Slurm install.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
    echo "install_chromium: not root; install Debian's chromium package to run the browser test" >&2
    exit 0
fi
echo "install_chromium: apt-get install chromium" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || {
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
chromium --version >&2
