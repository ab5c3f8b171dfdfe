#!/usr/bin/env bash
# Builds the safetensors header fuzzer with clang (libFuzzer, AddressSanitizer, UBSan) and
# runs it for $1 seconds (default 60) from the generated seeds. A finding fails the run and
# leaves the crashing input in $VT_FUZZ_DIR (default build/fuzz).
#
#   bash tests/fuzz/run.sh 60
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
work=${VT_FUZZ_DIR:-build/fuzz}
mkdir -p "$work/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iinclude \
  tests/fuzz/safetensors_fuzzer.cpp src/io/safetensors_header.cpp -o "$work/safetensors_fuzzer"
python3 tests/fuzz/make_corpus.py "$work/seeds"
# -rss_limit_mb: a 100 MiB header (the format's limit) parses well within it.
"$work/safetensors_fuzzer" -max_total_time="$seconds" -max_len=1048576 -timeout=10 -rss_limit_mb=2048 \
  -dict=tests/fuzz/safetensors.dict -artifact_prefix="$work/" "$work/corpus" "$work/seeds" 2>&1 | tail -n 15
