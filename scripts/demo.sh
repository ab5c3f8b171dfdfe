#!/usr/bin/env bash
# The demo command: installs what is missing, builds incrementally, then runs the main job:
# a small ViT trained on Fashion-MNIST (Debian's dataset-fashion-mnist), reporting test accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh tqdm matplotlib
bash scripts/build.sh
python3 examples/vit_fashion_mnist.py "$@"
