#!/usr/bin/env bash
# The demo command: installs what is missing, builds incrementally, runs the tour.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
python3 examples/tour.py
