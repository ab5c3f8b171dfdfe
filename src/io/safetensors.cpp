// safetensors files: memory-mapped reading and writing (the header parser is in
// safetensors_header.cpp).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "vt/ops.h"
#include "vt/safetensors.h"

namespace vt::safetensors {

// A file's bytes: a private mapping of the file, or a copy in memory.
class Bytes {
 public:
  virtual ~Bytes() = default;
  std::span<const uint8_t> span() const { return {data_, size_}; }
  uint8_t* data() const { return data_; }

 protected:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

namespace {

class MappedFile final : public Bytes {
 public:
  explicit MappedFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    VT_CHECK(fd >= 0, "safetensors: cannot open '", path, "': ", std::strerror(errno));
    struct stat info {};
    bool ok = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
    int error = errno;
    if (ok && info.st_size > 0) {
      // Private and writable: a tensor over these pages may be written in place (copy on
      // write); the file itself never changes.
      void* address = ::mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
      ok = address != MAP_FAILED;
      error = errno;
      if (ok) {
        data_ = static_cast<uint8_t*>(address);
        size_ = static_cast<size_t>(info.st_size);
      }
    }
    ::close(fd);
    VT_CHECK(ok, "safetensors: cannot map '", path, "': ",
             S_ISREG(info.st_mode) || error != 0 ? std::strerror(error) : "not a regular file");
  }
  ~MappedFile() override {
    if (data_) ::munmap(data_, size_);
  }
};

class OwnedBytes final : public Bytes {
 public:
  explicit OwnedBytes(std::string bytes) : bytes_(std::move(bytes)) {
    data_ = reinterpret_cast<uint8_t*>(bytes_.data());
    size_ = bytes_.size();
  }

 private:
  std::string bytes_;
};

void release_bytes(void* context) { delete static_cast<std::shared_ptr<const Bytes>*>(context); }

}  // namespace

File::File(std::shared_ptr<const Bytes> bytes, std::string source)
    : bytes_(std::move(bytes)), source_(std::move(source)), header_(parse(bytes_->span(), source_)) {
  for (size_t i = 0; i < header_.entries.size(); ++i) index_.emplace(header_.entries[i].name, i);
}

File File::open(const std::string& path) { return File(std::make_shared<MappedFile>(path), "'" + path + "'"); }

File File::from_bytes(std::string bytes, std::string source) {
  return File(std::make_shared<OwnedBytes>(std::move(bytes)), std::move(source));
}

const Entry& File::entry(std::string_view name) const {
  auto found = index_.find(std::string(name));
  VT_CHECK_VALUE(found != index_.end(), "safetensors: ", source_, " holds no tensor named '", name, "'");
  return header_.entries[found->second];
}

Tensor File::tensor(std::string_view name) const {
  const Entry& e = entry(name);
  VT_CHECK_VALUE(e.dtype.has_value(), "safetensors: tensor '", e.name, "' in ", source_, " has dtype ", e.dtype_name,
                 ", which vibetensor does not support");
  uint8_t* bytes = bytes_->data() + header_.data_start + e.begin;
  size_t nbytes = e.end - e.begin;
  DimVector sizes(e.shape.begin(), e.shape.end());
  auto wrap = [&](Storage storage) {
    return Tensor(IntrusivePtr<TensorImpl>::make(std::move(storage), *e.dtype, sizes, contiguous_strides(sizes), 0));
  };
  if (reinterpret_cast<uintptr_t>(bytes) % itemsize(*e.dtype) == 0) {
    DataPtr shared{bytes, new std::shared_ptr<const Bytes>(bytes_), &release_bytes};
    return wrap(Storage::make(shared, nbytes, Device(), nullptr));
  }
  // Another writer may not align the data: a misaligned element load is undefined behaviour.
  Storage copy = make_storage(nbytes, Device());
  std::memcpy(copy->data(), bytes, nbytes);
  return wrap(std::move(copy));
}

namespace {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::vector<std::pair<std::string, std::string>>;

// The header's bytes (padded) and the order of the tensors' data, after checking the names:
// done before a file is opened, so a refused call leaves an existing file as it was.
struct Layout {
  std::string header;
  std::vector<size_t> order;
};

Layout plan(const NamedTensors& tensors, const Metadata& metadata) {
  std::set<std::string_view> names;
  for (const auto& [name, tensor] : tensors) {
    VT_CHECK_VALUE(tensor.defined(), "save_file(): tensor '", name, "' is undefined");
    VT_CHECK_VALUE(name != "__metadata__", "save_file(): '__metadata__' is reserved and cannot name a tensor");
    VT_CHECK_VALUE(names.insert(name).second, "save_file(): two tensors are named '", name, "'");
  }
  // Larger elements first keeps every tensor aligned for its dtype: the data starts 8-byte
  // aligned and each tensor's size is a multiple of its element size.
  Layout layout;
  layout.order.resize(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) layout.order[i] = i;
  std::stable_sort(layout.order.begin(), layout.order.end(), [&](size_t a, size_t b) {
    return itemsize(tensors[a].second.dtype()) > itemsize(tensors[b].second.dtype());
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    auto& meta = header["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
  }
  uint64_t offset = 0;
  for (size_t i : layout.order) {
    const Tensor& t = tensors[i].second;
    uint64_t nbytes = static_cast<uint64_t>(t.numel()) * itemsize(t.dtype());
    header[tensors[i].first] = {{"dtype", dtype_to_name(t.dtype())},
                                {"shape", std::vector<int64_t>(t.sizes().begin(), t.sizes().end())},
                                {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  try {
    layout.header = header.dump();
  } catch (const nlohmann::json::exception& e) {  // a name or metadata string that is not UTF-8
    fail(ErrorKind::Value, "save_file(): names and metadata must be UTF-8 text (", e.what(), ")");
  }
  layout.header.append((8 - layout.header.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  return layout;
}

void write(std::ostream& out, const NamedTensors& tensors, const Layout& layout) {
  uint64_t header_size = layout.header.size();
  out.write(reinterpret_cast<const char*>(&header_size), 8);
  out.write(layout.header.data(), static_cast<std::streamsize>(layout.header.size()));
  for (size_t i : layout.order) {
    Tensor values = contiguous(to(tensors[i].second, std::nullopt, Device()));
    out.write(static_cast<const char*>(values.data_ptr()),
              static_cast<std::streamsize>(static_cast<uint64_t>(values.numel()) * itemsize(values.dtype())));
  }
}

}  // namespace

void save_file(const NamedTensors& tensors, const Metadata& metadata, const std::string& path) {
  Layout layout = plan(tensors, metadata);
  // Written next to the target and renamed over it: a failure part way (a full disk, a
  // device error) never leaves a truncated checkpoint where a good one was.
  std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    VT_CHECK(out.is_open(), "save_file(): cannot open '", partial, "' for writing: ", std::strerror(errno));
    try {
      write(out, tensors, layout);
      out.close();
      VT_CHECK(!out.fail(), "save_file(): writing '", partial, "' failed: ", std::strerror(errno));
    } catch (...) {
      std::remove(partial.c_str());
      throw;
    }
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    int error = errno;
    std::remove(partial.c_str());
    fail(ErrorKind::Runtime, "save_file(): cannot move '", partial, "' to '", path, "': ", std::strerror(error));
  }
}

std::string serialize(const NamedTensors& tensors, const Metadata& metadata) {
  Layout layout = plan(tensors, metadata);
  std::ostringstream out(std::ios::binary);
  write(out, tensors, layout);
  return std::move(out).str();
}

}  // namespace vt::safetensors
