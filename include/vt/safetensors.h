// safetensors files (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header size, a JSON header naming each tensor's dtype, shape and byte span, then the raw
// little-endian data. Parsing checks everything a hostile file could lie about (sizes,
// offsets, dtypes, shapes, byte counts, duplicate names, UTF-8, nesting) before any byte of
// data is touched, so a bad file can only raise a ValueError naming what is wrong.
//
// Reading is lazy: `File::open` maps the file and parses the header; `File::tensor` makes a
// CPU tensor over the mapped bytes (copy-on-write, so writing to it never changes the file).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vt/dtype.h"
#include "vt/tensor.h"

namespace vt::safetensors {

// The safetensors library's own limit on the header's size.
constexpr uint64_t kMaxHeaderBytes = 100 * 1024 * 1024;
// More dimensions than any op takes: a longer shape is a corrupt file.
constexpr size_t kMaxDims = 64;

// One tensor of the header. `begin`/`end` are byte offsets into the data (after the header).
struct Entry {
  std::string name;
  std::string dtype_name;             // "F32", as the file spells it
  std::optional<ScalarType> dtype;    // empty for a safetensors dtype vibetensor lacks (U16, F8_E4M3, ...)
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct Header {
  std::vector<Entry> entries;                                  // by name
  std::vector<std::pair<std::string, std::string>> metadata;   // "__metadata__", by key
  uint64_t data_start = 0;                                     // 8 + the header's size
};

// Parses and checks the header of a complete safetensors file held in `file`. `source` names
// the file in error messages ("'model.safetensors'").
Header parse(std::span<const uint8_t> file, std::string_view source);

// The safetensors dtype name of a vibetensor dtype ("F32" for float32).
std::string_view dtype_to_name(ScalarType type);

// The bytes of a file, kept alive by every tensor made from them.
class Bytes;

class File {
 public:
  // Maps the file at `path` (read-only on disk) and parses its header.
  static File open(const std::string& path);
  // Parses a file held in memory (a Python file object's contents).
  static File from_bytes(std::string bytes, std::string source = "the buffer");

  const Header& header() const { return header_; }
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return header_.metadata; }
  bool contains(std::string_view name) const { return index_.count(std::string(name)) != 0; }
  const Entry& entry(std::string_view name) const;
  // The tensor `name` on the CPU. It shares the mapped bytes when they are aligned for its
  // dtype (writes stay private to this process); otherwise it is a copy.
  Tensor tensor(std::string_view name) const;

 private:
  File(std::shared_ptr<const Bytes> bytes, std::string source);
  std::shared_ptr<const Bytes> bytes_;
  std::string source_;
  Header header_;
  std::unordered_map<std::string, size_t> index_;
};

// Writes `tensors` (any device, dtype and layout; names unique and not "__metadata__") and
// string `metadata` as one safetensors file. Larger elements come first, so every tensor's
// data is aligned for its dtype and loads without a copy.
void save_file(const std::vector<std::pair<std::string, Tensor>>& tensors,
               const std::vector<std::pair<std::string, std::string>>& metadata, const std::string& path);
// The same file's bytes.
std::string serialize(const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::vector<std::pair<std::string, std::string>>& metadata);

}  // namespace vt::safetensors
