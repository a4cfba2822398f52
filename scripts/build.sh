#!/usr/bin/env bash
# Installs the build dependencies, configures and builds into ./build (or $BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD_DIR=${BUILD_DIR:-build}
# Python 3.11's headers: Debian's python3.11-dev (the launcher links no libpython; see README).
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPython_EXECUTABLE=/usr/bin/python3.11 "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
