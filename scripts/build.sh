#!/usr/bin/env bash
# Installs the build dependencies, configures and builds into ./build (or $BUILD_DIR).
#   build.sh          the launcher only (what running needs)
#   build.sh --tests  also the unit tests and the test tools (scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=build tests=OFF
if [ "${1:-}" = "--tests" ]; then
  mode=test tests=ON
  shift
fi
bash scripts/deps.sh "$mode"
BUILD_DIR=${BUILD_DIR:-build}
# Python 3.11 precompiles the shims (the launcher links no libpython and needs no Python headers).
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DALLTALK_BUILD_TESTS="$tests" \
  -DPython_EXECUTABLE=/usr/bin/python3.11 "$@" >/dev/null
if [ "$tests" = ON ]; then
  cmake --build "$BUILD_DIR" -j "$(nproc)"
else
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target alltalk-launch
fi
