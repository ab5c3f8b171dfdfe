// libFuzzer target over the safetensors header parser (run by tests/fuzz/run.sh). Any input
// must either parse into entries that lie inside the data, or raise vt::Error; a crash, a
// sanitizer report, another exception or a broken invariant is a finding.
#include <cstdint>
#include <cstdlib>

#include "vt/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vt::safetensors::Header header;
  try {
    header = vt::safetensors::parse({data, size}, "the input");
  } catch (const vt::Error&) {
    return 0;
  }
  if (header.data_start < 8 || header.data_start > size) std::abort();
  uint64_t data_size = size - header.data_start;
  for (const auto& e : header.entries) {
    if (e.begin > e.end || e.end > data_size || e.shape.size() > vt::safetensors::kMaxDims) std::abort();
  }
  return 0;
}
