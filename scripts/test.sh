#!/usr/bin/env bash
# The test command: installs what is missing, builds incrementally, runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# nvidia-cublas: cuBLASLt, so that the CUDA matrix products compile and link here too.
bash scripts/install_deps.sh pytest hypothesis safetensors tqdm matplotlib "torch==2.13.0" "nvidia-cublas==13.0.2.14"
bash scripts/build.sh

echo "== C++ tests (GoogleTest under CTest)"
ctest --test-dir build/python --output-on-failure -j 2

echo "== safetensors header fuzzing (libFuzzer under AddressSanitizer and UBSan, 60 s)"
bash tests/fuzz/run.sh 60

echo "== Python tests (pytest, differential against PyTorch)"
cd /tmp && python3 -m pytest "$OLDPWD/tests/python" -q -p no:cacheprovider
