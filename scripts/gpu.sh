#!/usr/bin/env bash
# The GPU command: on a machine with an NVIDIA GPU, the CUDA toolkit, PyTorch and the Python
# build tools (scikit-build-core, nanobind, numpy, pytest), and no network, builds vibetensor
# with its CUDA backend and runs the C++ tests and every Python test (the CUDA ones included),
# then prints a summary table. Logs go to $VT_GPU_LOGS (default build/gpu-logs).
#
#   bash scripts/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/.."
logs=${VT_GPU_LOGS:-build/gpu-logs}
mkdir -p "$logs"
declare -a names results

step() {  # step NAME COMMAND...: runs it, logs its output, records pass/fail and the time
  local name=$1
  shift
  local start=$SECONDS
  echo "== $name"
  "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  tail -n 3 "$logs/$name.log"
  names+=("$name")
  results+=("$([ $rc -eq 0 ] && echo pass || echo "FAIL (rc $rc)")  $((SECONDS - start)) s")
  return $rc
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
# A toolchain that links libstdc++ statically gives libvt and the extension a copy each, and
# an exception thrown in one and caught in the other crashes; the system compiler links it
# shared. (The lab image's default CXX, /opt/gcc/bin/g++, has no shared libstdc++.)
if [ -x /usr/bin/g++ ]; then
  export CC=/usr/bin/gcc CXX=/usr/bin/g++ CUDAHOSTCXX=/usr/bin/g++
  if [ -f build/python/CMakeCache.txt ] && ! grep -q "^CMAKE_CXX_COMPILER:.*=/usr/bin/g++$" build/python/CMakeCache.txt; then
    rm -rf build/python  # configured with another compiler
  fi
fi
# No build isolation (no network): the installed build tools are used.
step build python3 -m pip install --no-build-isolation -v -e . \
  -Ccmake.define.VT_CUDA=ON -Ccmake.define.CMAKE_CUDA_ARCHITECTURES=90a
step cpp-tests ctest --test-dir build/python --output-on-failure -j 8
step cuda-tests python3 -m pytest tests/python/test_cuda_runtime.py -q -p no:cacheprovider -rs
# Memory and race checks over the CUDA tests. API errors are not reported: the allocator's
# out-of-memory tests make cudaMalloc fail on purpose, and every other failing call raises.
for tool in memcheck racecheck; do
  step "sanitizer-$tool" compute-sanitizer --tool "$tool" --error-exitcode 1 --report-api-errors no \
    python3 -m pytest tests/python/test_cuda_runtime.py -q -p no:cacheprovider
done
step python-tests python3 -m pytest tests/python -q -p no:cacheprovider

echo
printf '%-16s %s\n' step result
for i in "${!names[@]}"; do printf '%-16s %s\n' "${names[$i]}" "${results[$i]}"; done
