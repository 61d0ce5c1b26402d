#!/usr/bin/env bash
# The whole suite, as CI runs it: PostgreSQL provisioned if none is reachable and Chromium if none
# is installed, then lint, layers, types, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if [ -z "${CATALYST_TEST_PG_URL:-}" ]; then
  CATALYST_TEST_PG_URL=$(scripts/ensure_postgres.sh | tail -n 1)
  export CATALYST_TEST_PG_URL
fi
# PostgreSQL tests must run here, not be skipped: a missing server is a failure of the test command.
export CATALYST_REQUIRE_PG=1
# So must the dashboard's browser tests: Debian's Chromium, installed if missing.
scripts/ensure_chromium.sh
export CATALYST_REQUIRE_BROWSER=1

"$BIN/ruff" check catalyst tests bench
"$BIN/lint-imports" --no-cache  # the layers (pyproject.toml [tool.importlinter])
"$BIN/mypy"
# One worker per CPU core (pytest-xdist): the slow tests mostly wait on processes of their own.
exec "$BIN/pytest" -q -p no:cacheprovider --numprocesses=auto "$@"
