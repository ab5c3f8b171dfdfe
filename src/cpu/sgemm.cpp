// The blocking is the classic one (Goto, BLIS): for each block of K, B is packed into panels
// of 32 columns and each block of rows of A into panels of 12 rows, both laid out in the order
// the micro-kernel reads them (an A with contiguous rows or columns is read in place instead); the micro-kernel keeps a 12 x 32 tile of C in 24 zmm registers
// and per step of k loads two vectors of B and broadcasts twelve values of A.
#include "src/cpu/sgemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "src/cpu/vec_math.h"

namespace vt::cpu {

namespace {

constexpr int kRows = 12;          // MR: rows of the register tile
constexpr int kCols = kSgemmPanelColumns;  // NR: columns (two 16-float vectors)
constexpr int64_t kDepth = 256;    // KC: the block of K packed at a time (B panel: 32 KiB, in L1)
constexpr int64_t kRowBlock = 144; // MC: rows of A packed at a time (12 panels)
constexpr int64_t kColBlock = 512; // NC: columns of B packed at a time (16 panels)

// A[rows x depth] into panels of kRows rows: panel i holds, for each k, the kRows values of
// column k; rows past the end are zeros. Each layout is read along its contiguous direction.
void pack_a(const float* a, int64_t rs, int64_t cs, int64_t rows, int64_t depth, float* out) {
  for (int64_t i0 = 0; i0 < rows; i0 += kRows) {
    const int64_t valid = std::min<int64_t>(kRows, rows - i0);
    float* panel = out + (i0 / kRows) * depth * kRows;
    if (valid < kRows) std::fill_n(panel, depth * kRows, 0.0f);
    if (rs == 1 && valid == kRows) {  // columns contiguous (a transposed operand): copy them whole
      for (int64_t p = 0; p < depth; ++p) std::memcpy(panel + p * kRows, a + i0 + p * cs, kRows * sizeof(float));
      continue;
    }
    for (int64_t r = 0; r < valid; ++r) {  // rows contiguous when cs == 1
      const float* src = a + (i0 + r) * rs;
      for (int64_t p = 0; p < depth; ++p) panel[p * kRows + r] = src[p * cs];
    }
  }
}

// B[depth x cols] into panels of kCols columns: panel j holds, for each k, the kCols values of
// row k; columns past the end are zeros.
void pack_b_strided(const float* b, int64_t rs, int64_t cs, int64_t depth, int64_t cols, float* out) {
  for (int64_t j0 = 0; j0 < cols; j0 += kCols) {
    const int64_t valid = std::min<int64_t>(kCols, cols - j0);
    float* panel = out + (j0 / kCols) * depth * kCols;
    if (valid < kCols) std::fill_n(panel, depth * kCols, 0.0f);
    if (cs == 1 && valid == kCols) {  // rows contiguous; a fixed size compiles to two vector moves
      for (int64_t p = 0; p < depth; ++p) std::memcpy(panel + p * kCols, b + p * rs + j0, kCols * sizeof(float));
      continue;
    }
    if (cs == 1) {
      for (int64_t p = 0; p < depth; ++p) std::memcpy(panel + p * kCols, b + p * rs + j0, valid * sizeof(float));
      continue;
    }
    for (int64_t c = 0; c < valid; ++c) {  // columns contiguous when rs == 1 (a transposed weight)
      const float* src = b + (j0 + c) * cs;
      for (int64_t p = 0; p < depth; ++p) panel[p * kCols + c] = src[p * rs];
    }
  }
}

// Where the micro-kernel finds element (r, k) of its A panel: in a packed panel, or in place
// in an A whose rows (or columns) are contiguous, which spares copying A into panels.
enum class PanelOf { Packed, Rows, Columns };

// C tile (rows x cols of it valid) = alpha * A @ Bp + beta * C tile, A laid out as `kLayout`
// with leading dimension lda (unused when packed). kTileRows below kRows serves a last panel
// of few rows (64 output channels are five panels and four rows) without computing the
// panel's zero rows.
template <PanelOf kLayout, int kTileRows = kRows>
VT_AVX512 void micro_kernel(int64_t depth, const float* __restrict a, int64_t lda, const float* __restrict bp,
                            float* c, int64_t ldc, float alpha, float beta, int64_t rows, int64_t cols) {
  f16 acc[kTileRows][2];
  for (int r = 0; r < kTileRows; ++r) acc[r][0] = acc[r][1] = f16{};
  for (int64_t p = 0; p < depth; ++p) {
    const f16 b0 = load_vec<f16>(bp), b1 = load_vec<f16>(bp + 16);
    for (int r = 0; r < kTileRows; ++r) {
      const float value = kLayout == PanelOf::Packed ? a[p * kRows + r]
                          : kLayout == PanelOf::Rows   ? a[r * lda + p]
                                                       : a[p * lda + r];
      const f16 x = splat16(value);
      acc[r][0] += x * b0;
      acc[r][1] += x * b1;
    }
    bp += kCols;
  }
  if (cols == kCols) {
    for (int r = 0; r < rows; ++r) {
      float* row = c + r * ldc;
      f16 lo = acc[r][0] * alpha, hi = acc[r][1] * alpha;
      if (beta != 0.0f) {
        lo += load_vec<f16>(row) * beta;
        hi += load_vec<f16>(row + 16) * beta;
      }
      store_vec(row, lo);
      store_vec(row + 16, hi);
    }
    return;
  }
  float tile[kTileRows][kCols];
  for (int r = 0; r < kTileRows; ++r) {
    store_vec(tile[r], acc[r][0]);
    store_vec(tile[r] + 16, acc[r][1]);
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* row = c + r * ldc;
    for (int64_t j = 0; j < cols; ++j) row[j] = alpha * tile[r][j] + (beta != 0.0f ? beta * row[j] : 0.0f);
  }
}

}  // namespace

void sgemm_avx512(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t a_row_stride,
                  int64_t a_col_stride, const float* b, int64_t b_row_stride, int64_t b_col_stride, float beta,
                  float* c, int64_t ldc) {
  auto pack_strided_b = [&](int64_t p0, int64_t depth, int64_t j0, int64_t cols, float* out) {
    pack_b_strided(b + p0 * b_row_stride + j0 * b_col_stride, b_row_stride, b_col_stride, depth, cols, out);
  };
  sgemm_avx512_packing_b(m, n, k, alpha, a, a_row_stride, a_col_stride, pack_strided_b, beta, c, ldc);
}

void sgemm_avx512_packing_b(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t a_row_stride,
                            int64_t a_col_stride, const PackB& pack_b, float beta, float* c, int64_t ldc) {
  thread_local std::vector<float> packed_a, packed_b;
  packed_a.resize(kRowBlock * kDepth);
  packed_b.resize(kColBlock * kDepth);
  // Blocks of K of equal depth (576 = 3 x 192, not 256 + 256 + 64): a shallow last block pays
  // the C tile's load and store for few steps of k.
  const int64_t k_blocks = std::max<int64_t>(1, (k + kDepth - 1) / kDepth);
  const int64_t block_depth = (k + k_blocks - 1) / k_blocks;
  for (int64_t p0 = 0; p0 < k; p0 += block_depth) {
    const int64_t depth = std::min(block_depth, k - p0);
    const float block_beta = p0 == 0 ? beta : 1.0f;  // later blocks of K add to C
    for (int64_t j0 = 0; j0 < n; j0 += kColBlock) {
      const int64_t cols = std::min(kColBlock, n - j0);
      pack_b(p0, depth, j0, cols, packed_b.data());
      for (int64_t i0 = 0; i0 < m; i0 += kRowBlock) {
        const int64_t rows = std::min(kRowBlock, m - i0);
        const float* a_block = a + i0 * a_row_stride + p0 * a_col_stride;
        // A read in place when its rows or columns are contiguous, except a last partial panel
        // of rows (reading whole panels in place would run past its end).
        const PanelOf layout = a_col_stride == 1 ? PanelOf::Rows : a_row_stride == 1 ? PanelOf::Columns : PanelOf::Packed;
        const int64_t in_place = layout == PanelOf::Packed ? 0 : rows / kRows * kRows;
        const int64_t lda = layout == PanelOf::Rows ? a_row_stride : a_col_stride;
        if (in_place < rows) {
          pack_a(a_block + in_place * a_row_stride, a_row_stride, a_col_stride, rows - in_place, depth,
                 packed_a.data());
        }
        for (int64_t jp = 0; jp < cols; jp += kCols) {
          const float* bp = packed_b.data() + (jp / kCols) * depth * kCols;
          const int64_t tile_cols = std::min<int64_t>(kCols, cols - jp);
          for (int64_t ip = 0; ip < rows; ip += kRows) {
            float* c_tile = c + (i0 + ip) * ldc + j0 + jp;
            const int64_t tile_rows = std::min<int64_t>(kRows, rows - ip);
            const float* a_tile = a_block + ip * a_row_stride;
            if (ip >= in_place) {
              const float* a_panel = packed_a.data() + ((ip - in_place) / kRows) * depth * kRows;
              if (tile_rows <= 4) {
                micro_kernel<PanelOf::Packed, 4>(depth, a_panel, 0, bp, c_tile, ldc, alpha, block_beta, tile_rows,
                                                 tile_cols);
              } else if (tile_rows <= 8) {
                micro_kernel<PanelOf::Packed, 8>(depth, a_panel, 0, bp, c_tile, ldc, alpha, block_beta, tile_rows,
                                                 tile_cols);
              } else {
                micro_kernel<PanelOf::Packed>(depth, a_panel, 0, bp, c_tile, ldc, alpha, block_beta, tile_rows,
                                              tile_cols);
              }
            } else if (layout == PanelOf::Rows) {
              micro_kernel<PanelOf::Rows>(depth, a_tile, lda, bp, c_tile, ldc, alpha, block_beta, tile_rows,
                                          tile_cols);
            } else {
              micro_kernel<PanelOf::Columns>(depth, a_tile, lda, bp, c_tile, ldc, alpha, block_beta, tile_rows,
                                             tile_cols);
            }
          }
        }
      }
    }
  }
}

}  // namespace vt::cpu
