#!/usr/bin/env bash
# Installs the Debian packages that alltalk-launch needs (idempotent: apt is only asked when
# something is missing).
#   deps.sh build   what building and running the launcher needs (the README's first command)
#   deps.sh test    that, plus what the tests, the Windows cross-build and the packages need
set -euo pipefail
build=(build-essential cmake lld libspdlog-dev libcli11-dev libtomlplusplus-dev
       nlohmann-json3-dev libssl3 python3.11 libpython3.11 python3.11-venv)
test=(doctest-dev binutils clang-14 clang-tidy libclang-rt-14-dev g++-mingw-w64-x86-64-posix wine64 nsis desktop-file-utils dpkg-dev)
case "${1:-test}" in
  build) packages=("${build[@]}") ;;
  test) packages=("${build[@]}" "${test[@]}") ;;
  *) echo "usage: deps.sh [build|test]" >&2; exit 2 ;;
esac
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
