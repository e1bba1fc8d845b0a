#!/usr/bin/env bash
# Installs the Debian 12 packages tinynet needs that are missing (root or sudo).
# Usage: cmake/install_deps.sh [tests|main|bench]
set -euo pipefail
want=(build-essential cmake pkg-config libeigen3-dev libstb-dev libhdf5-dev catch2 libcli11-dev nlohmann-json3-dev)
case "${1:-tests}" in
  tests) want+=(python3-numpy python3-h5py libonnx-dev protobuf-compiler libprotobuf-dev python3-onnx openmpi-bin libopenmpi-dev clang libomp-dev time) ;;
  bench) want+=(libbenchmark-dev python3-torch python3-torchvision python3-pil openmpi-bin libopenmpi-dev) ;;
  main) ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing missing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" > /dev/null
fi
