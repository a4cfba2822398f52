#!/usr/bin/env bash
# Builds, prepares the cached test tools, and runs every test (unit and integration) with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --tests
export ALLTALK_TEST_CACHE=${ALLTALK_TEST_CACHE:-$HOME/.cache/alltalk-launch-tests}
# pytest drives the integration tests; it lives in a cached venv keyed by its requirements.
tools=$(/usr/bin/python3.11 tests/support/cached_venv.py tools tests/requirements/tools.txt)
export ALLTALK_TEST_PYTHON="$tools/bin/python"
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j 2 "$@"
