#!/usr/bin/env bash
# Runs one integration test file with the cached pytest venv (see scripts/test.sh).
set -euo pipefail
if [ -z "${ALLTALK_TEST_PYTHON:-}" ]; then
  echo "ALLTALK_TEST_PYTHON is not set: run the tests through scripts/test.sh" >&2
  exit 1
fi
exec "$ALLTALK_TEST_PYTHON" -m pytest -q -p no:cacheprovider -rs "$@"
