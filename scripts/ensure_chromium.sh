#!/usr/bin/env bash
# Makes sure a headless Chromium is on PATH for the dashboard's browser tests: Debian's package
# (apt-get, as root or with passwordless sudo), never a browser downloaded by a test tool.
# Prints nothing on stdout; progress goes to stderr.
set -euo pipefail

say() { echo "ensure_chromium: $*" >&2; }

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        say "Chromium is missing and installing it needs root: sudo apt-get install chromium"
        exit 1
    fi
}
command -v apt-get >/dev/null 2>&1 || { say "Chromium is missing and apt-get is unavailable"; exit 1; }
say "installing Chromium (apt-get install chromium)"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
