// mm, bmm and addmm on the CPU: float32 through our AVX-512 kernel (src/cpu/sgemm.cpp) where
// the CPU has it, else OpenBLAS, as float64 always; a cache-friendly loop with a wide
// accumulator row for the other dtypes (float16/bfloat16 accumulate in float, integers in
// their own type, wrapping like torch).
#include <cblas.h>

#include <cstring>
#include <vector>

#include "src/cpu/sgemm.h"
#include "src/cpu/vec_math.h"
#include "vt/dispatch.h"
#include "vt/ops.h"
#include "vt/parallel.h"

namespace vt::linalg {
void check_mm(const Tensor& a, const Tensor& b);
void check_bmm(const Tensor& a, const Tensor& b);
Tensor addmm_decomposed(const Tensor& self, const Tensor& mat1, const Tensor& mat2, const Scalar& beta,
                        const Scalar& alpha);
}  // namespace vt::linalg

namespace vt::cpu {
namespace {

// How BLAS can read a row-major matrix view: as is, transposed, or not at all.
struct BlasOperand {
  bool transposed;
  int64_t ld;
};
std::optional<BlasOperand> blas_layout(int64_t rows, int64_t cols, int64_t row_stride, int64_t col_stride) {
  if (col_stride == 1 && (rows <= 1 || row_stride >= std::max<int64_t>(cols, 1))) return BlasOperand{false, std::max<int64_t>(row_stride, std::max<int64_t>(cols, 1))};
  if (row_stride == 1 && (cols <= 1 || col_stride >= std::max<int64_t>(rows, 1))) return BlasOperand{true, std::max<int64_t>(col_stride, std::max<int64_t>(rows, 1))};
  return std::nullopt;
}

// BLAS runs single-threaded; the blocks of C run on vibetensor's own pool instead, so BLAS
// threads and pool threads never compete for the cores and no second pool has to wake up
// between ops (waking threads costs tens of microseconds on some machines).
void use_one_blas_thread() {
  static const bool once = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
}

constexpr int64_t kMaxSgemmColumns = 512;
constexpr int64_t kMinSgemmRowsTransposed = 128;

// c = alpha * a @ b + beta * c (beta 0: c is only written).
template <class T>
void gemm_blas(const T* a, BlasOperand la, const T* b, BlasOperand lb, T* c, int64_t n, int64_t k, int64_t m, T alpha,
               T beta) {
  use_one_blas_thread();
  auto ta = la.transposed ? CblasTrans : CblasNoTrans;
  auto tb = lb.transposed ? CblasTrans : CblasNoTrans;
  // Our float32 kernel where it measured faster than OpenBLAS (the products of small
  // transformer layers); OpenBLAS for wide outputs and for few rows against a transposed A
  // (weight gradients with a long K), where ours is 1.2 to 1.5 times slower.
  const bool our_kernel = has_avx512() && m <= kMaxSgemmColumns && !(la.transposed && n < kMinSgemmRowsTransposed);
  auto block = [&](const T* a_block, const T* b_block, T* c_block, int64_t rows, int64_t cols) {
    if constexpr (std::is_same_v<T, float>) {
      if (our_kernel) {
        const int64_t a_rs = la.transposed ? 1 : la.ld, a_cs = la.transposed ? la.ld : 1;
        const int64_t b_rs = lb.transposed ? 1 : lb.ld, b_cs = lb.transposed ? lb.ld : 1;
        sgemm_avx512(rows, cols, k, alpha, a_block, a_rs, a_cs, b_block, b_rs, b_cs, beta, c_block, m);
        return;
      }
      cblas_sgemm(CblasRowMajor, ta, tb, rows, cols, k, alpha, a_block, la.ld, b_block, lb.ld, beta, c_block, m);
    } else {
      cblas_dgemm(CblasRowMajor, ta, tb, rows, cols, k, alpha, a_block, la.ld, b_block, lb.ld, beta, c_block, m);
    }
  };
  constexpr int64_t kGrainFlops = int64_t{1} << 20;
  if (n >= m) {  // blocks of rows of C (and of A)
    parallel_for(0, n, std::max<int64_t>(1, kGrainFlops / std::max<int64_t>(m * k, 1)), [&](int64_t lo, int64_t hi) {
      block(la.transposed ? a + lo : a + lo * la.ld, b, c + lo * m, hi - lo, m);
    });
  } else {  // blocks of columns of C (and of B)
    parallel_for(0, m, std::max<int64_t>(1, kGrainFlops / std::max<int64_t>(n * k, 1)), [&](int64_t lo, int64_t hi) {
      block(a, lb.transposed ? b + lo * lb.ld : b + lo, c + lo, n, hi - lo);
    });
  }
}

template <class T>
void gemm_loop(const Tensor& a, const Tensor& b, T* c, int64_t n, int64_t k, int64_t m) {
  using Acc = std::conditional_t<std::is_floating_point_v<compute_t<T>>, compute_t<T>, T>;
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  int64_t sa0 = a.strides()[0], sa1 = a.strides()[1], sb0 = b.strides()[0], sb1 = b.strides()[1];
  parallel_for(0, n, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(k * m, 1)), [&](int64_t lo, int64_t hi) {
    std::vector<Acc> row(m);
    for (int64_t i = lo; i < hi; ++i) {
      std::fill(row.begin(), row.end(), Acc(0));
      for (int64_t p = 0; p < k; ++p) {
        Acc x = static_cast<Acc>(static_cast<compute_t<T>>(pa[i * sa0 + p * sa1]));
        const T* brow = pb + p * sb0;
        for (int64_t j = 0; j < m; ++j) row[j] = static_cast<Acc>(row[j] + x * static_cast<Acc>(static_cast<compute_t<T>>(brow[j * sb1])));
      }
      for (int64_t j = 0; j < m; ++j) c[i * m + j] = static_cast<T>(static_cast<compute_t<T>>(row[j]));
    }
  });
}

// c (contiguous [n, m]) = alpha * a [n, k] @ b [k, m] + beta * c; alpha and beta other than
// 1 and 0 are for float32/float64 only (addmm's BLAS path).
void gemm(const Tensor& a, const Tensor& b, const Tensor& c, double alpha = 1, double beta = 0) {
  int64_t n = a.size(0), k = a.size(1), m = b.size(1);
  if (c.numel() == 0) return;
  if (k == 0) {
    if (beta == 0) fill_(c, 0);
    else if (beta != 1) mul_(c, scalar_to_tensor(Scalar(beta)));
    return;
  }
  ScalarType type = a.dtype();
  if (type == ScalarType::Float32 || type == ScalarType::Float64) {
    Tensor ca = a, cb = b;
    auto la = blas_layout(n, k, a.strides()[0], a.strides()[1]);
    if (!la) {
      ca = contiguous(a);
      la = BlasOperand{false, k};
    }
    auto lb = blas_layout(k, m, b.strides()[0], b.strides()[1]);
    if (!lb) {
      cb = contiguous(b);
      lb = BlasOperand{false, m};
    }
    if (type == ScalarType::Float32) {
      gemm_blas(ca.data<float>(), *la, cb.data<float>(), *lb, c.data<float>(), n, k, m, float(alpha), float(beta));
    } else {
      gemm_blas(ca.data<double>(), *la, cb.data<double>(), *lb, c.data<double>(), n, k, m, alpha, beta);
    }
    return;
  }
  dispatch_all_types(type, "mm", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      fail(ErrorKind::Runtime, "\"addmm_impl_cpu_\" not implemented for 'Bool'");
    } else {
      gemm_loop<T>(a, b, c.data<T>(), n, k, m);
    }
  });
}

Tensor mm_cpu(const Tensor& a, const Tensor& b) {
  linalg::check_mm(a, b);
  Tensor out = empty_tensor(std::vector<int64_t>{a.size(0), b.size(1)}, a.dtype(), a.device());
  gemm(a, b, out);
  return out;
}

// out [n, m] = self broadcast. A bias row (the common case) is copied row by row; the general
// broadcasting copy costs several times more per element.
void copy_broadcast(const Tensor& self, const Tensor& out) {
  const int64_t n = out.size(0), m = out.size(1);
  if (n == 0 || m == 0) return;
  const bool bias_row = self.numel() == m && self.is_contiguous() && (self.dim() == 1 || self.size(0) == 1);
  if (!bias_row || m == 1) {
    copy_(out, expand(self, out.sizes()));
    return;
  }
  const size_t row_bytes = static_cast<size_t>(m) * out.itemsize();
  const char* row = static_cast<const char*>(self.data_ptr());
  char* dst = static_cast<char*>(out.data_ptr());
  parallel_for(0, n, std::max<int64_t>(1, kGrainSize / m), [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) std::memcpy(dst + i * row_bytes, row, row_bytes);
  });
}

// self + alpha * (a @ b) with BLAS accumulating into a copy of self (torch's addmm): one pass
// over the output instead of a product and then an add. Other dtypes, beta other than 1 and
// a self that needs type promotion take the decomposed form.
Tensor addmm_cpu(const Tensor& self, const Tensor& a, const Tensor& b, const Scalar& beta, const Scalar& alpha) {
  ScalarType type = a.dtype();
  bool blas = (type == ScalarType::Float32 || type == ScalarType::Float64) && b.dtype() == type &&
              self.dtype() == type && a.dim() == 2 && b.dim() == 2 && self.dim() <= 2 && beta.to_double() == 1;
  if (blas) {
    linalg::check_mm(a, b);
    const int64_t n = a.size(0), m = b.size(1);
    // self must broadcast to [n, m] (sizes 1 or equal, aligned from the right)
    for (int64_t d = 0; d < self.dim() && blas; ++d) {
      int64_t want = d == self.dim() - 1 ? m : n;
      blas = self.size(d) == want || self.size(d) == 1;
    }
  }
  if (!blas) return linalg::addmm_decomposed(self, a, b, beta, alpha);
  Tensor out = empty_tensor(std::vector<int64_t>{a.size(0), b.size(1)}, type, a.device());
  copy_broadcast(self, out);
  gemm(a, b, out, alpha.to_double(), 1.0);
  return out;
}

Tensor bmm_cpu(const Tensor& a, const Tensor& b) {
  linalg::check_bmm(a, b);
  int64_t batch = a.size(0);
  Tensor out = empty_tensor(std::vector<int64_t>{batch, a.size(1), b.size(2)}, a.dtype(), a.device());
  // One product per batch entry, in parallel across entries (each then runs on one thread).
  std::vector<Tensor> as, bs, outs;
  for (int64_t i = 0; i < batch; ++i) {
    as.push_back(select(a, 0, i));
    bs.push_back(select(b, 0, i));
    outs.push_back(select(out, 0, i));
  }
  int64_t per_item = a.size(1) * a.size(2) * b.size(2);
  parallel_for(0, batch, std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(per_item, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t i = lo; i < hi; ++i) gemm(as[i], bs[i], outs[i]);
               });
  return out;
}

}  // namespace

VT_REGISTRATION(blas_cpu) {
  register_kernel("mm", DispatchKey::CPU, &mm_cpu);
  register_kernel("bmm", DispatchKey::CPU, &bmm_cpu);
  register_kernel("addmm", DispatchKey::CPU, &addmm_cpu);
}

}  // namespace vt::cpu
