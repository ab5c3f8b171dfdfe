// Matrix products: mm and bmm are backend kernels; matmul composes them with torch's rules
// for 1-D operands and broadcast batch dimensions.
#include <atomic>

#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt {

namespace cuda {
// Here rather than with the CUDA kernels: torch lets scripts set them in any build.
namespace {
std::atomic<bool> g_matmul_flags[] = {false, true, true};  // in MatmulFlag's order
}  // namespace
bool matmul_flag(MatmulFlag flag) { return g_matmul_flags[static_cast<int>(flag)].load(std::memory_order_relaxed); }
void set_matmul_flag(MatmulFlag flag, bool value) {
  g_matmul_flags[static_cast<int>(flag)].store(value, std::memory_order_relaxed);
}
}  // namespace cuda

namespace {

std::string type_name_for_matmul(ScalarType t) {
  switch (t) {
    case ScalarType::Float32: return "float";
    case ScalarType::Float64: return "double";
    case ScalarType::Float16: return "c10::Half";
    case ScalarType::BFloat16: return "c10::BFloat16";
    case ScalarType::Int64: return "long int";
    case ScalarType::Int32: return "int";
    default: return std::string(dtype_name(t));
  }
}

DimVector broadcast_batch(IntArrayRef a, IntArrayRef b) {
  size_t ndim = std::max(a.size(), b.size());
  DimVector out(ndim);
  for (size_t k = 0; k < ndim; ++k) {
    int64_t x = k < a.size() ? a[a.size() - 1 - k] : 1;
    int64_t y = k < b.size() ? b[b.size() - 1 - k] : 1;
    VT_CHECK(x == y || x == 1 || y == 1, "The size of tensor a (", x, ") must match the size of tensor b (", y,
             ") at non-singleton dimension ", ndim - 1 - k);
    out[ndim - 1 - k] = x == 1 ? y : x;
  }
  return out;
}

Tensor matmul_composite(const Tensor& a, const Tensor& b) {
  int64_t da = a.dim(), db = b.dim();
  VT_CHECK(da >= 1 && db >= 1, "both arguments to matmul need to be at least 1D, but they are ", da, "D and ", db, "D");
  if (da == 1 && db == 1) {
    VT_CHECK(a.dtype() == b.dtype(), "dot : expected both vectors to have same dtype, but found ",
             dtype_short_name(a.dtype()), " and ", dtype_short_name(b.dtype()));
    VT_CHECK(a.numel() == b.numel(), "inconsistent tensor size, expected tensor [", a.numel(), "] and src [", b.numel(),
             "] to have the same number of elements, but got ", a.numel(), " and ", b.numel(), " elements respectively");
    return reshape(mm(unsqueeze(a, 0), unsqueeze(b, 1)), std::vector<int64_t>{});
  }
  if (da == 2 && db == 1) return squeeze(mm(a, unsqueeze(b, 1)), std::vector<int64_t>{-1});
  if (da == 1 && db == 2) return squeeze(mm(unsqueeze(a, 0), b), std::vector<int64_t>{0});
  if (da == 2 && db == 2) return mm(a, b);
  if (da >= 3 && db <= 2) {
    // Fold the batch into the rows: one large mm instead of many small ones.
    DimVector out_shape(a.sizes().begin(), a.sizes().end() - 1);
    Tensor rhs = db == 1 ? unsqueeze(b, 1) : b;
    int64_t rows = 1;  // the leading dims, folded (counted, since -1 cannot infer around a 0)
    for (int64_t d = 0; d + 1 < da; ++d) rows *= a.size(d);
    Tensor folded = mm(reshape(a, std::vector<int64_t>{rows, a.size(-1)}), rhs);
    if (db == 2) out_shape.push_back(b.size(1));
    return reshape(folded, out_shape);
  }
  Tensor lhs = da == 1 ? unsqueeze(a, 0) : a;
  Tensor rhs = db == 1 ? unsqueeze(b, 1) : b;
  int64_t n = lhs.size(-2), k = lhs.size(-1), k2 = rhs.size(-2), m = rhs.size(-1);
  DimVector batch = broadcast_batch(IntArrayRef(lhs.sizes()).first(lhs.dim() - 2), IntArrayRef(rhs.sizes()).first(rhs.dim() - 2));
  int64_t batch_numel = 1;
  for (int64_t s : batch) batch_numel *= s;
  DimVector lhs_shape(batch), rhs_shape(batch);
  lhs_shape.push_back(n);
  lhs_shape.push_back(k);
  rhs_shape.push_back(k2);
  rhs_shape.push_back(m);
  Tensor lhs3 = reshape(expand(lhs, lhs_shape), std::vector<int64_t>{batch_numel, n, k});
  Tensor rhs3 = reshape(expand(rhs, rhs_shape), std::vector<int64_t>{batch_numel, k2, m});
  DimVector out_shape(batch);
  if (da > 1) out_shape.push_back(n);
  if (db > 1) out_shape.push_back(m);
  return reshape(bmm(lhs3, rhs3), out_shape);
}

}  // namespace

namespace linalg {
// Shared by backends' mm and bmm kernels.
void check_mm(const Tensor& a, const Tensor& b) {
  VT_CHECK(a.dim() == 2, "self must be a matrix");
  VT_CHECK(b.dim() == 2, "mat2 must be a matrix");
  VT_CHECK(a.size(1) == b.size(0), "mat1 and mat2 shapes cannot be multiplied (", a.size(0), "x", a.size(1), " and ",
           b.size(0), "x", b.size(1), ")");
  VT_CHECK(a.dtype() == b.dtype(), "expected m1 and m2 to have the same dtype, but got: ",
           type_name_for_matmul(a.dtype()), " != ", type_name_for_matmul(b.dtype()));
  VT_CHECK(a.device() == b.device(), "Expected all tensors to be on the same device, but found at least two devices, ",
           a.device().str(), " and ", b.device().str(), "!");
}
void check_bmm(const Tensor& a, const Tensor& b) {
  VT_CHECK(a.dim() == 3, "batch1 must be a 3D tensor");
  VT_CHECK(b.dim() == 3, "batch2 must be a 3D tensor");
  VT_CHECK(b.size(0) == a.size(0) && b.size(1) == a.size(2), "Expected size for first two dimensions of batch2 tensor to be: [",
           a.size(0), ", ", a.size(2), "] but got: [", b.size(0), ", ", b.size(1), "].");
  VT_CHECK(a.dtype() == b.dtype(), "expected scalar type ", dtype_short_name(a.dtype()), " but found ",
           dtype_short_name(b.dtype()));
  VT_CHECK(a.device() == b.device(), "Expected all tensors to be on the same device, but found at least two devices, ",
           a.device().str(), " and ", b.device().str(), "!");
}
}  // namespace linalg

VT_REGISTRATION(linalg_ops) {
  Registry& r = Registry::instance();
  r.define("mm(Tensor self, Tensor mat2) -> Tensor");
  r.define("bmm(Tensor self, Tensor mat2) -> Tensor");
  r.define("matmul(Tensor self, Tensor other) -> Tensor");
  register_composite("matmul", &matmul_composite);
}

Tensor mm(const Tensor& self, const Tensor& mat2) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&)> op("mm");
  return op(self, mat2);
}
Tensor bmm(const Tensor& self, const Tensor& mat2) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&)> op("bmm");
  return op(self, mat2);
}
Tensor matmul(const Tensor& self, const Tensor& other) {
  static const TypedOp<Tensor(const Tensor&, const Tensor&)> op("matmul");
  return op(self, other);
}

}  // namespace vt
