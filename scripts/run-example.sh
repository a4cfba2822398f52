#!/usr/bin/env bash
# The main job on a fresh machine: build the launcher, give the example AllTalk tree a Python 3.11
# venv if it has none, and start its server (answers http://localhost:7851/api/ready). Ctrl+C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
root=examples/alltalk-root
if [ ! -x "$root/.venv/bin/python" ]; then
  /usr/bin/python3.11 -m venv "$root/.venv"
fi
exec ./build/alltalk-launch --root "$root" server "$@"
