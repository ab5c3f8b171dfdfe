#!/usr/bin/env bash
# Installs what building and testing vibetensor needs on Debian 12, skipping what is there.
set -euo pipefail

apt_packages=(cmake ninja-build g++ libopenblas-dev libgtest-dev nlohmann-json3-dev clang dataset-fashion-mnist)
missing=()
for package in "${apt_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python_packages=("$@")
if [ ${#python_packages[@]} -gt 0 ]; then
  python3 -m pip install -q --disable-pip-version-check "${python_packages[@]}"
fi
