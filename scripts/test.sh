#!/usr/bin/env bash
# Runs the whole suite: provisions PostgreSQL if none is reachable, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
exec "$BIN/pytest" -q "$@"
