// Our float32 matrix multiply for CPUs with AVX-512: packed panels and a 12 x 32 register
// tile, single-threaded (callers split C across the thread pool). On the shapes of small
// transformer layers (a K or N of 64 to 256 next to thousands of rows) OpenBLAS reached 65 to
// 80% of the speed of torch's MKL; this kernel is what closes that gap.
#pragma once
#include <cstdint>
#include <functional>

namespace vt::cpu {

// For CPUs where has_avx512() (vec_math.h) holds.
// C = alpha * A @ B + beta * C for an m x k A and a k x n B given by element strides (so a
// transposed operand is just other strides), and a C with unit column stride. beta 0: C is
// only written (NaN in it does not propagate).
void sgemm_avx512(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t a_row_stride,
                  int64_t a_col_stride, const float* b, int64_t b_row_stride, int64_t b_col_stride, float beta,
                  float* c, int64_t ldc);

// The width of the panels B is packed into.
constexpr int kSgemmPanelColumns = 32;

// Writes rows [p0, p0 + depth) and columns [j0, j0 + cols) of B into `out` as panels of
// kSgemmPanelColumns columns: panel q holds, for each row in turn, that row's kSgemmPanelColumns
// values of columns j0 + q * kSgemmPanelColumns onwards; columns past j0 + cols are zeros.
using PackB = std::function<void(int64_t p0, int64_t depth, int64_t j0, int64_t cols, float* out)>;

// sgemm_avx512 for a B that exists only through pack_b, which the GEMM calls once per block
// (for example convolution's image windows, never laid out as a matrix).
void sgemm_avx512_packing_b(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t a_row_stride,
                            int64_t a_col_stride, const PackB& pack_b, float beta, float* c, int64_t ldc);

}  // namespace vt::cpu
