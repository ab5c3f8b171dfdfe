// safetensors: round trips of every dtype, lazy mapped reads, and headers that must be refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "vt/ops.h"
#include "vt/safetensors.h"

namespace {

namespace st = vt::safetensors;
using vt::ScalarType;
using Shape = std::vector<int64_t>;

std::string bytes_of(const vt::Tensor& t) {
  vt::Tensor c = vt::contiguous(t);
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * vt::itemsize(c.dtype()));
}

// A file made of a raw header text and data bytes.
std::string file_with(const std::string& header, const std::string& data = "") {
  uint64_t size = header.size();
  return std::string(reinterpret_cast<const char*>(&size), 8) + header + data;
}

std::string temp_path(const char* name) { return (std::filesystem::temp_directory_path() / name).string(); }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void expect_refused(const std::string& file, const char* message) {
  try {
    st::File::from_bytes(file);
    ADD_FAILURE() << "accepted a file that should raise '" << message << "'";
  } catch (const vt::Error& e) {
    EXPECT_EQ(e.kind(), vt::ErrorKind::Value);
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Safetensors, EveryDtypeRoundTripsWithItsShapeAndBytes) {
  std::vector<std::pair<std::string, vt::Tensor>> tensors;
  for (int k = 0; k < vt::kNumScalarTypes; ++k) {
    auto type = static_cast<ScalarType>(k);
    vt::Tensor values = vt::arange(0, 12, 1, ScalarType::Float64);
    tensors.emplace_back(std::string(vt::dtype_name(type)), vt::reshape(vt::to(values, type), Shape{3, 4}));
  }
  tensors.emplace_back("empty", vt::zeros(Shape{0, 5}, ScalarType::Float32));
  tensors.emplace_back("scalar", vt::full(Shape{}, 2.5, ScalarType::Float32));
  st::File file = st::File::from_bytes(st::serialize(tensors, {{"format", "pt"}}));
  ASSERT_EQ(file.header().entries.size(), tensors.size());
  ASSERT_EQ(file.metadata().size(), 1u);
  EXPECT_EQ(file.metadata()[0].second, "pt");
  for (const auto& [name, expected] : tensors) {
    vt::Tensor loaded = file.tensor(name);
    EXPECT_EQ(loaded.dtype(), expected.dtype()) << name;
    EXPECT_EQ(std::vector<int64_t>(loaded.sizes().begin(), loaded.sizes().end()),
              std::vector<int64_t>(expected.sizes().begin(), expected.sizes().end()));
    EXPECT_EQ(bytes_of(loaded), bytes_of(expected)) << name;
  }
}

TEST(Safetensors, WrittenDataIsAlignedForEveryDtypeAndNonContiguousInputsAreWrittenInOrder) {
  vt::Tensor matrix = vt::reshape(vt::arange(0, 6, 1, ScalarType::Int64), Shape{2, 3});
  std::vector<std::pair<std::string, vt::Tensor>> tensors = {
      {"byte", vt::ones(Shape{3}, ScalarType::UInt8)}, {"transposed", vt::t(matrix)}, {"half", vt::ones(Shape{5}, ScalarType::Float16)}};
  std::string bytes = st::serialize(tensors, {});
  st::File file = st::File::from_bytes(bytes);
  for (const auto& e : file.header().entries) {
    EXPECT_EQ((file.header().data_start + e.begin) % vt::itemsize(*e.dtype), 0u) << e.name;
  }
  EXPECT_EQ(bytes_of(file.tensor("transposed")), bytes_of(vt::t(matrix)));
}

TEST(Safetensors, MappedTensorsAreCopyOnWriteAndOutliveTheFileObject) {
  std::string path = temp_path("vt_test_mapped.safetensors");
  st::save_file({{"x", vt::arange(0, 8, 1, ScalarType::Float32)}}, {}, path);
  std::string before = read_all(path);
  vt::Tensor x;
  {
    st::File file = st::File::open(path);
    x = file.tensor("x");
  }
  vt::fill_(x, 7.0);  // writes into the private mapping
  EXPECT_EQ(static_cast<float*>(x.data_ptr())[3], 7.0f);
  EXPECT_EQ(read_all(path), before);
  std::remove(path.c_str());
}

TEST(Safetensors, MisalignedDataIsCopied) {
  // A hand-made file whose float32 follows a one-byte tensor, at an odd offset in the file.
  std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}})";
  float value = 1.5f;
  std::string data = std::string(1, '\x09') + std::string(reinterpret_cast<const char*>(&value), 4);
  st::File file = st::File::from_bytes(file_with(header, data));
  ASSERT_NE((file.header().data_start + file.entry("b").begin) % 4, 0u);
  vt::Tensor b = file.tensor("b");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data_ptr()) % 4, 0u);
  EXPECT_EQ(*static_cast<float*>(b.data_ptr()), 1.5f);
}

TEST(Safetensors, RefusedSavesLeaveAnExistingFileAlone) {
  std::string path = temp_path("vt_test_refused.safetensors");
  st::save_file({{"x", vt::ones(Shape{2}, ScalarType::Float32)}}, {}, path);
  std::string before = read_all(path);
  vt::Tensor one = vt::ones(Shape{1}, ScalarType::Float32);
  EXPECT_THROW(st::save_file({{"a", one}, {"a", one}}, {}, path), vt::Error);
  EXPECT_THROW(st::save_file({{"__metadata__", one}}, {}, path), vt::Error);
  EXPECT_THROW(st::save_file({{"bad\xff", one}}, {}, path), vt::Error);
  EXPECT_EQ(read_all(path), before);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  std::remove(path.c_str());
}

TEST(Safetensors, MissingFilesAndUnknownNamesRaise) {
  EXPECT_THROW(st::File::open(temp_path("vt_test_no_such_file.safetensors")), vt::Error);
  st::File file = st::File::from_bytes(st::serialize({{"x", vt::ones(Shape{1}, ScalarType::Float32)}}, {}));
  EXPECT_THROW(file.tensor("y"), vt::Error);
}

TEST(Safetensors, DtypesVibetensorLacksParseButRaiseWhenRead) {
  std::string header = R"({"u":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}})";
  st::File file = st::File::from_bytes(file_with(header, std::string(4, '\0')));
  EXPECT_EQ(file.entry("u").dtype_name, "U16");
  try {
    file.tensor("u");
    ADD_FAILURE() << "read a U16 tensor";
  } catch (const vt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not support"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, MalformedHeadersAreRefusedWithTheirReason) {
  const std::string entry = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  expect_refused("", "too short");
  uint64_t huge = uint64_t{1} << 62;
  expect_refused(std::string(reinterpret_cast<const char*>(&huge), 8) + "{}", "limit");
  uint64_t sixteen = 16;
  expect_refused(std::string(reinterpret_cast<const char*>(&sixteen), 8) + "{}", "truncated");
  expect_refused(file_with("{nope"), "not valid JSON");
  expect_refused(file_with("{\"\xff\xfe\": 1}"), "not UTF-8");
  expect_refused(file_with("{\"\xed\xa0\x80\": 1}"), "not UTF-8");  // a UTF-16 surrogate
  expect_refused(file_with("{\"\xc0\xaf\": 1}"), "not UTF-8");      // an overlong '/'
  expect_refused(file_with("[1, 2]"), "not a JSON object");
  expect_refused(file_with(std::string(100000, '[') + std::string(100000, ']')), "nested too deeply");
  expect_refused(file_with(R"({"a":{"b":{"c":{}}}})"), "nested too deeply");
  expect_refused(file_with("{\"a\":" + entry + ",\"a\":" + entry + "}", std::string(8, '\0')), "names 'a' twice");
  expect_refused(file_with(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                           std::string(8, '\0')), "names 'dtype' twice");
  expect_refused(file_with(R"({"a":{"dtype":"F9","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')),
                 "unsupported dtype");
  expect_refused(file_with(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", std::string(8, '\0')),
                 "invalid shape");
  expect_refused(file_with(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", std::string(8, '\0')),
                 "invalid shape");
  expect_refused(file_with(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}})",
                           std::string(8, '\0')), "more elements than fit");
  expect_refused(file_with(R"({"a":{"dtype":"F32","shape":[2]}})", std::string(8, '\0')), "exactly dtype");
  expect_refused(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}})", std::string(8, '\0')),
                 "outside");
  expect_refused(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", std::string(8, '\0')),
                 "outside");
  expect_refused(file_with(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')),
                 "needs 12 bytes");
  expect_refused(file_with("{\"a\":" + entry + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                           std::string(12, '\0')), "overlaps");
  expect_refused(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", std::string(12, '\0')),
                 "gap");
  expect_refused(file_with("{\"a\":" + entry + "}", std::string(16, '\0')), "after its last tensor");
  expect_refused(file_with(R"({"__metadata__":{"k":1}})"), "must map strings to strings");
}
