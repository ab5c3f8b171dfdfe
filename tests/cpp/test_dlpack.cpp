// DLPack: exported tensors stay alive until their deleter runs; imported descriptors are
// checked field by field, and the producer's deleter runs once, when the last view goes.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "vt/dlpack.h"
#include "vt/ops.h"

namespace {

using vt::ScalarType;

// A producer's tensor: float32 values it owns, and a count of deleter calls.
struct Producer {
  std::vector<float> values = {0, 1, 2, 3, 4, 5};
  std::vector<int64_t> shape = {2, 3};
  std::vector<int64_t> strides = {3, 1};
  int deleted = 0;
  DLManagedTensorVersioned managed{};

  Producer() {
    managed.version = {DLPACK_MAJOR_VERSION, 0};
    managed.manager_ctx = this;
    managed.deleter = [](DLManagedTensorVersioned* self) { ++static_cast<Producer*>(self->manager_ctx)->deleted; };
    managed.dl_tensor = {values.data(), {kDLCPU, 0}, 2, {kDLFloat, 32, 1}, shape.data(), strides.data(), 0};
  }
};

void expect_refused(Producer& p, const char* message) {
  try {
    vt::dlpack::from_versioned(&p.managed);
    ADD_FAILURE() << "imported a descriptor that should raise '" << message << "'";
  } catch (const vt::Error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
  EXPECT_EQ(p.deleted, 0) << "a refused import must leave the tensor to its producer";
}

}  // namespace

TEST(DLPack, ImportSharesMemoryAndCallsTheDeleterOnceWhenTheLastViewGoes) {
  Producer p;
  {
    vt::Tensor t = vt::dlpack::from_versioned(&p.managed);
    EXPECT_EQ(t.data_ptr(), p.values.data());
    vt::Tensor row = vt::select(t, 0, 1);
    t = vt::Tensor();
    EXPECT_EQ(p.deleted, 0);
    EXPECT_EQ(static_cast<float*>(row.data_ptr())[2], 5.0f);
    vt::fill_(row, 9.0);
  }
  EXPECT_EQ(p.deleted, 1);
  EXPECT_EQ(p.values[3], 9.0f);
}

TEST(DLPack, ByteOffsetAndNullStridesAreHonoured) {
  Producer p;
  p.managed.dl_tensor.byte_offset = 2 * sizeof(float);
  p.managed.dl_tensor.strides = nullptr;
  p.shape = {2, 2};
  vt::Tensor t = vt::dlpack::from_versioned(&p.managed);
  EXPECT_EQ(t.data_ptr(), p.values.data() + 2);
  EXPECT_EQ(t.strides()[0], 2);
  EXPECT_EQ(t.strides()[1], 1);
}

TEST(DLPack, DescriptorsVibetensorCannotTakeAreRefusedWithoutTakingOwnership) {
  {
    Producer p;
    p.managed.version.major = 2;
    expect_refused(p, "version 2.0 is not supported");
  }
  {
    Producer p;
    p.managed.dl_tensor.dtype = {kDLComplex, 64, 1};
    expect_refused(p, "unsupported dtype");
  }
  {
    Producer p;
    p.managed.dl_tensor.dtype = {kDLFloat, 32, 4};
    expect_refused(p, "unsupported dtype");
  }
  {
    Producer p;
    p.managed.dl_tensor.device = {kDLOpenCL, 0};
    expect_refused(p, "unsupported device type 4");
  }
  {
    Producer p;
    p.strides = {-3, 1};
    expect_refused(p, "negative stride");
  }
  {
    Producer p;
    p.shape = {-1, 3};
    expect_refused(p, "negative size");
  }
  {
    Producer p;
    p.managed.dl_tensor.ndim = 1000;
    expect_refused(p, "invalid ndim");
  }
  {
    Producer p;
    p.shape = {INT64_MAX / 2, 4};
    p.strides = {4, 1};
    expect_refused(p, "more than 2^63");
  }
  {
    Producer p;
    p.managed.dl_tensor.byte_offset = 1;
    expect_refused(p, "not aligned");
  }
  {
    Producer p;
    p.managed.dl_tensor.data = nullptr;
    expect_refused(p, "null data pointer");
  }
}

TEST(DLPack, ExportKeepsTheTensorAliveUntilTheDeleter) {
  vt::Tensor t = vt::arange(0, 6, 1, ScalarType::Int64);
  DLManagedTensorVersioned* managed = vt::dlpack::to_versioned(vt::select(vt::reshape(t, std::vector<int64_t>{2, 3}), 1, 1));
  EXPECT_EQ(managed->version.major, 1u);
  const DLTensor& dl = managed->dl_tensor;
  EXPECT_EQ(dl.ndim, 1);
  EXPECT_EQ(dl.shape[0], 2);
  EXPECT_EQ(dl.strides[0], 3);
  EXPECT_EQ(dl.dtype.code, kDLInt);
  EXPECT_EQ(dl.dtype.bits, 64);
  EXPECT_EQ(dl.device.device_type, kDLCPU);
  void* data = dl.data;
  t = vt::Tensor();  // the export still holds the storage
  EXPECT_EQ(static_cast<int64_t*>(data)[0], 1);
  // A round trip through vibetensor's own importer shares the memory.
  vt::Tensor back = vt::dlpack::from_versioned(managed);
  EXPECT_EQ(back.data_ptr(), data);
  EXPECT_EQ(back.sizes()[0], 2);
}

TEST(DLPack, LegacyExportAndImport) {
  vt::Tensor t = vt::ones(std::vector<int64_t>{3}, ScalarType::BFloat16);
  DLManagedTensor* managed = vt::dlpack::to_legacy(t);
  EXPECT_EQ(managed->dl_tensor.dtype.code, kDLBfloat);
  vt::Tensor back = vt::dlpack::from_legacy(managed);
  EXPECT_EQ(back.dtype(), ScalarType::BFloat16);
  EXPECT_EQ(back.data_ptr(), t.data_ptr());
}
