// The safetensors header parser. It needs nothing of libvt at link time, so the fuzzer
// (tests/fuzz) builds it alone under AddressSanitizer and UBSan.
#include <algorithm>
#include <bit>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "vt/safetensors.h"

namespace vt::safetensors {

namespace {

using json = nlohmann::json;

struct DtypeInfo {
  std::string_view name;
  size_t itemsize;
  std::optional<ScalarType> type;
};

// Every dtype the safetensors format names with a whole number of bytes per element.
constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 1, ScalarType::Bool},     {"U8", 1, ScalarType::UInt8},      {"I8", 1, ScalarType::Int8},
    {"I16", 2, ScalarType::Int16},     {"I32", 4, ScalarType::Int32},     {"I64", 8, ScalarType::Int64},
    {"F16", 2, ScalarType::Float16},   {"BF16", 2, ScalarType::BFloat16}, {"F32", 4, ScalarType::Float32},
    {"F64", 8, ScalarType::Float64},   {"U16", 2, std::nullopt},          {"U32", 4, std::nullopt},
    {"U64", 8, std::nullopt},          {"F8_E4M3", 1, std::nullopt},      {"F8_E5M2", 1, std::nullopt},
    {"F8_E8M0", 1, std::nullopt},      {"C64", 8, std::nullopt},
};

const DtypeInfo* find_dtype(std::string_view name) {
  for (const auto& d : kDtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

// The header is an object of objects (a tensor entry or the metadata) holding arrays of
// numbers: deeper than this is never valid, and stopping early keeps the parser's work bounded.
constexpr int kMaxDepth = 3;

bool is_utf8(std::string_view text) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  for (size_t i = 0; i < text.size();) {
    uint8_t lead = byte(i);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // 0x80-0xC1 never lead a sequence (continuation bytes, overlong two-byte forms).
    size_t extra = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC2 ? 1 : 0;
    if (extra == 0 || lead > 0xF4 || extra >= text.size() - i) return false;
    uint32_t code = lead & (0x3F >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
      code = (code << 6) | (byte(i + k) & 0x3F);
    }
    constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};  // shorter forms are overlong
    if (code < kSmallest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// nlohmann keeps the last of two equal keys; a safetensors header must not have any, at any
// level. The callback also bounds the nesting before the parser descends.
json parse_json(std::string_view text, std::string_view source) {
  std::vector<std::set<std::string>> keys_of_open_objects;
  auto check = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        VT_CHECK_VALUE(depth < kMaxDepth, "the header of ", source, " is nested too deeply");
        if (event == json::parse_event_t::object_start) keys_of_open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        keys_of_open_objects.pop_back();
        break;
      case json::parse_event_t::key: {
        const auto& key = parsed.get_ref<const std::string&>();
        VT_CHECK_VALUE(keys_of_open_objects.back().insert(key).second, "the header of ", source, " names '", key,
                       "' twice");
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check);
  } catch (const json::exception& e) {
    fail(ErrorKind::Value, "the header of ", source, " is not valid JSON (", e.what(), ")");
  }
}

uint64_t as_unsigned(const json& value, const std::string& name, const char* what) {
  VT_CHECK_VALUE(value.is_number_unsigned(), "tensor '", name, "' has an invalid ", what, " ", value.dump());
  return value.get<uint64_t>();
}

Entry parse_entry(const std::string& name, const json& spec, uint64_t data_size) {
  VT_CHECK_VALUE(spec.is_object() && spec.size() == 3 && spec.contains("dtype") && spec.contains("shape") &&
                     spec.contains("data_offsets"),
                 "tensor '", name, "' needs exactly dtype, shape and data_offsets");
  Entry entry;
  entry.name = name;
  const json& dtype = spec["dtype"];
  const DtypeInfo* info = dtype.is_string() ? find_dtype(dtype.get_ref<const std::string&>()) : nullptr;
  VT_CHECK_VALUE(info, "tensor '", name, "' has unsupported dtype ", dtype.dump());
  entry.dtype_name = info->name;
  entry.dtype = info->type;

  const json& shape = spec["shape"];
  VT_CHECK_VALUE(shape.is_array() && shape.size() <= kMaxDims, "tensor '", name, "' has an invalid shape ",
                 shape.dump());
  uint64_t numel = 1;
  for (const json& size : shape) {
    uint64_t s = as_unsigned(size, name, "shape");
    VT_CHECK_VALUE(s <= static_cast<uint64_t>(INT64_MAX), "tensor '", name, "' has an invalid shape ", shape.dump());
    entry.shape.push_back(static_cast<int64_t>(s));
    VT_CHECK_VALUE(!__builtin_mul_overflow(numel, s, &numel), "tensor '", name, "' has an invalid shape ",
                   shape.dump(), " (more elements than fit in 64 bits)");
  }

  const json& offsets = spec["data_offsets"];
  VT_CHECK_VALUE(offsets.is_array() && offsets.size() == 2, "tensor '", name, "' has invalid data_offsets ",
                 offsets.dump());
  entry.begin = as_unsigned(offsets[0], name, "data_offsets");
  entry.end = as_unsigned(offsets[1], name, "data_offsets");
  VT_CHECK_VALUE(entry.begin <= entry.end && entry.end <= data_size, "tensor '", name, "' spans bytes [",
                 entry.begin, ", ", entry.end, ") outside the ", data_size,
                 " bytes of data (a truncated or corrupt file)");
  uint64_t nbytes = 0;
  VT_CHECK_VALUE(!__builtin_mul_overflow(numel, info->itemsize, &nbytes), "tensor '", name, "' has an invalid shape ",
                 shape.dump(), " (more bytes than fit in 64 bits)");
  VT_CHECK_VALUE(nbytes == entry.end - entry.begin, "tensor '", name, "' of shape ", shape.dump(), " and dtype ",
                 info->name, " needs ", nbytes, " bytes but its offsets span ", entry.end - entry.begin);
  return entry;
}

// The safetensors rule: the entries tile the data exactly, with no gap and no overlap.
void check_tiling(const std::vector<Entry>& entries, uint64_t data_size, std::string_view source) {
  std::vector<const Entry*> by_offset;
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return std::pair(a->begin, a->end) < std::pair(b->begin, b->end); });
  uint64_t position = 0;
  for (const Entry* e : by_offset) {
    VT_CHECK_VALUE(e->begin == position, "tensor '", e->name, "' in ", source, " ",
                   e->begin < position ? "overlaps another" : "leaves a gap before it");
    position = e->end;
  }
  VT_CHECK_VALUE(position == data_size, source, " has ", data_size - position, " bytes after its last tensor");
}

}  // namespace

std::string_view dtype_to_name(ScalarType type) {
  for (const auto& d : kDtypes) {
    if (d.type == type) return d.name;
  }
  fail(ErrorKind::Type, "safetensors: an undefined dtype cannot be stored");  // every other dtype is in kDtypes
}

Header parse(std::span<const uint8_t> file, std::string_view source) {
  static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");
  VT_CHECK_VALUE(file.size() >= 8, source, " is too short to be a safetensors file (", file.size(), " bytes)");
  uint64_t header_size = 0;
  std::memcpy(&header_size, file.data(), 8);
  VT_CHECK_VALUE(header_size <= kMaxHeaderBytes, source, " declares a ", header_size, "-byte header (more than the ",
                 kMaxHeaderBytes, "-byte limit): not a safetensors file, or corrupt");
  VT_CHECK_VALUE(header_size <= file.size() - 8, source, " is truncated: its header needs ", header_size, " bytes, ",
                 file.size() - 8, " follow");
  std::string_view text(reinterpret_cast<const char*>(file.data()) + 8, header_size);
  VT_CHECK_VALUE(is_utf8(text), "the header of ", source, " is not UTF-8");
  json root = parse_json(text, source);
  VT_CHECK_VALUE(root.is_object(), "the header of ", source, " is not a JSON object");

  Header header;
  header.data_start = 8 + header_size;
  uint64_t data_size = file.size() - header.data_start;
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      VT_CHECK_VALUE(value.is_object(), "the __metadata__ of ", source, " must map strings to strings");
      for (const auto& [key, text_value] : value.items()) {
        VT_CHECK_VALUE(text_value.is_string(), "the __metadata__ of ", source, " must map strings to strings");
        header.metadata.emplace_back(key, text_value.get<std::string>());
      }
      continue;
    }
    header.entries.push_back(parse_entry(name, value, data_size));
  }
  check_tiling(header.entries, data_size, source);
  return header;
}

}  // namespace vt::safetensors
