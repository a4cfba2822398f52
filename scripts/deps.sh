#!/usr/bin/env bash
# Installs the Debian packages that building and testing alltalk-launch needs (idempotent: apt is
# only asked when something is missing).
set -euo pipefail
packages=(build-essential cmake pybind11-dev libspdlog-dev doctest-dev libcli11-dev
          libtomlplusplus-dev nlohmann-json3-dev python3.11-dev python3.11-venv binutils
          g++-mingw-w64-x86-64-posix wine64 nsis desktop-file-utils dpkg-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
