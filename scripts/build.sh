#!/usr/bin/env bash
# Builds and installs the Python package (editable, incremental through build/python).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check \
  "scikit-build-core>=0.10" "nanobind>=2.0" numpy
# No build isolation: the build tools above are reused, and the build folder stays valid.
python3 -m pip install -q --disable-pip-version-check --no-build-isolation -e .
