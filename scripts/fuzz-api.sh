#!/usr/bin/env bash
# A long schemathesis run over the API (every phase, every check) against a real gunicorn.
# Usage: scripts/fuzz-api.sh [examples-per-operation] ; needs the DB_* of a PostgreSQL that
# may create databases, like the test command. Figures of a run: docs/operations.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_MAX_EXAMPLES="${1:-100}"
export FUZZ_PHASES="${FUZZ_PHASES:-examples,coverage,fuzzing,stateful}"
export FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-7200}"
export FUZZ_REPORT="${FUZZ_REPORT:-$PWD/test-artifacts/fuzz-api.txt}"
mkdir -p "$(dirname "$FUZZ_REPORT")"
echo "schemathesis output: $FUZZ_REPORT"
exec .venv/bin/pytest tests/e2e/test_api_fuzz.py -q -p no:cacheprovider --timeout "$FUZZ_TIMEOUT" "${@:2}"
