// CUDA kernels of the ordering ops: the stable sort along one dim (argsort, msort, topk,
// kthvalue, median, unique are built on it) and searchsorted's binary search, in the order of
// src/ops/sort_rules.h.
//
// Sort. Each element becomes an unsigned integer key whose unsigned order is torch's order of
// the values: integers flip their sign bit; floats map NaN to the largest key, -0 to +0's key,
// and flip the sign bit of positive values and every bit of negative ones. Descending sorts
// invert the keys. CUB's radix sort, which is stable, then sorts (key, position) pairs, and
// the values are gathered by the sorted positions. A row of up to 4096 elements sorts inside
// one block (CUB's block radix sort, in shared memory); longer rows go through the segmented
// radix sort while they are shorter than kLongRow, one device-wide radix sort each after.
#include <cub/block/block_radix_sort.cuh>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "src/cuda/cuda_check.h"
#include "src/cuda/loops.cuh"
#include "src/ops/sort_rules.h"
#include "vt/cuda.h"
#include "vt/dispatch.h"
#include "vt/ops.h"

namespace vt::cuda {
namespace {

constexpr int kThreads = 256;
// Rows at least this long sort one at a time with the device-wide radix sort; shorter ones
// share one segmented sort (whose one block per row would leave a long row slow).
constexpr int64_t kLongRow = int64_t{1} << 14;
constexpr int64_t kBlockRow = 4096;  // the longest row that sorts inside one block

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>(std::clamp<int64_t>((n + kThreads - 1) / kThreads, 1, int64_t{1} << 16));
}

#define VT_GRID_STRIDE_LOOP(i, n) \
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < (n); i += int64_t{gridDim.x} * blockDim.x)

// ---- keys

template <size_t Bytes>
struct UnsignedOf;
template <> struct UnsignedOf<1> { using type = uint8_t; };
template <> struct UnsignedOf<2> { using type = uint16_t; };
template <> struct UnsignedOf<4> { using type = uint32_t; };
template <> struct UnsignedOf<8> { using type = uint64_t; };
template <class T>
using KeyOf = typename UnsignedOf<sizeof(T)>::type;

template <class T>
__device__ KeyOf<T> sort_key(T value, bool descending) {
  using K = KeyOf<T>;
  constexpr K sign = K(1) << (8 * sizeof(T) - 1);
  using C = compute_t<T>;
  K key;
  if constexpr (std::is_same_v<T, bool> || std::is_unsigned_v<T>) {
    key = static_cast<K>(value);
  } else if constexpr (std::is_integral_v<T>) {
    key = static_cast<K>(static_cast<K>(value) ^ sign);
  } else {
    const C x = static_cast<C>(value);
    K bits;
    memcpy(&bits, &value, sizeof bits);
    if (x != x) key = static_cast<K>(~K(0));
    else if (x == C(0)) key = sign;  // -0 and +0 are equal: both take +0's key
    else key = (bits & sign) ? static_cast<K>(~bits) : static_cast<K>(bits | sign);
  }
  return descending ? static_cast<K>(~key) : key;
}

// keys[i] for every element of the contiguous rows.
template <class T>
__global__ void make_keys_kernel(const T* values, KeyOf<T>* keys, int64_t total, bool descending) {
  VT_GRID_STRIDE_LOOP(i, total) { keys[i] = sort_key(values[i], descending); }
}

// positions[i] = i's place in its row of n.
__global__ void row_positions_kernel(int64_t* positions, int64_t total, int64_t n) {
  VT_GRID_STRIDE_LOOP(i, total) { positions[i] = i % n; }
}

// out[r, k] = in[r, order[r, k]], moving U-sized elements.
template <class U>
__global__ void gather_rows_kernel(const U* in, const int64_t* order, U* out, int64_t total, int64_t n) {
  VT_GRID_STRIDE_LOOP(i, total) { out[i] = in[i - i % n + order[i]]; }
}

// order[r, :] = the positions of row r's keys in sorted order, one block per row at a time.
// Each thread holds Items keys of the row (padded with the largest key, which the stable sort
// leaves after every real one) and writes its sorted ranks striped, so that writes coalesce.
template <class K, int Threads, int Items>
__global__ void __launch_bounds__(Threads) block_sort_rows_kernel(const K* keys, int64_t* order, int64_t rows, int n) {
  using BlockSort = cub::BlockRadixSort<K, Threads, Items, int>;
  __shared__ typename BlockSort::TempStorage temp;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const K* row_keys = keys + row * n;
    K key[Items];
    int position[Items];
    for (int i = 0; i < Items; ++i) {
      position[i] = static_cast<int>(threadIdx.x) * Items + i;
      key[i] = position[i] < n ? row_keys[position[i]] : static_cast<K>(~K(0));
    }
    BlockSort(temp).SortBlockedToStriped(key, position);
    for (int i = 0; i < Items; ++i) {
      const int rank = i * Threads + static_cast<int>(threadIdx.x);
      if (rank < n) order[row * n + rank] = position[i];
    }
    __syncthreads();  // temp is reused by the next row
  }
}

template <class K, int Threads, int Items>
void block_sort_rows(const K* keys, int64_t* order, int64_t rows, int64_t n, cudaStream_t stream) {
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(rows, INT_MAX));
  block_sort_rows_kernel<K, Threads, Items><<<blocks, Threads, 0, stream>>>(keys, order, rows, static_cast<int>(n));
  VT_CUDA_CHECK(cudaGetLastError());
}

__global__ void row_offsets_kernel(int* offsets, int64_t rows, int n) {
  VT_GRID_STRIDE_LOOP(r, rows + 1) { offsets[r] = static_cast<int>(r * n); }
}

void* device_bytes(Tensor& holder, size_t bytes, Device device) {
  holder = empty_tensor(std::vector<int64_t>{static_cast<int64_t>(std::max<size_t>(bytes, 1))}, ScalarType::UInt8,
                        device);
  return holder.data_ptr();
}

// order[r, :] = the positions of row r's keys in sorted (stable) order, for `rows` rows of n.
template <class K>
void sort_rows(const K* keys, int64_t* order, int64_t rows, int64_t n, Device device, cudaStream_t stream) {
  // Block tiers: the fewest threads that hold the row at 4 or 8 keys each.
  if (n <= 128) return block_sort_rows<K, 32, 4>(keys, order, rows, n, stream);
  if (n <= 512) return block_sort_rows<K, 128, 4>(keys, order, rows, n, stream);
  if (n <= 2048) return block_sort_rows<K, 256, 8>(keys, order, rows, n, stream);
  if (n <= kBlockRow) return block_sort_rows<K, 512, 8>(keys, order, rows, n, stream);
  // Longer rows sort (key, position) pairs with CUB's device-wide sorts.
  const int64_t total = rows * n;
  Tensor positions_holder, sorted_keys_holder, scratch;
  auto* positions = static_cast<int64_t*>(device_bytes(positions_holder, sizeof(int64_t) * total, device));
  auto* sorted_keys = static_cast<K*>(device_bytes(sorted_keys_holder, sizeof(K) * total, device));
  row_positions_kernel<<<blocks_for(total), kThreads, 0, stream>>>(positions, total, n);
  VT_CUDA_CHECK(cudaGetLastError());
  constexpr int kBits = int(8 * sizeof(K));
  if (n >= kLongRow || rows == 1) {
    size_t bytes = 0;
    VT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, keys, sorted_keys, positions, order, n, 0, kBits,
                                                  stream));
    void* temp = device_bytes(scratch, bytes, device);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t at = r * n;
      VT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, bytes, keys + at, sorted_keys + at, positions + at, order + at,
                                                    n, 0, kBits, stream));
    }
    return;
  }
  // The segmented sort counts elements in int: rows go in batches of fewer than 2^31 elements.
  const int64_t batch_rows = std::min<int64_t>(rows, INT_MAX / n);
  Tensor offsets_holder;
  int* offsets = static_cast<int*>(device_bytes(offsets_holder, sizeof(int) * (batch_rows + 1), device));
  row_offsets_kernel<<<blocks_for(batch_rows + 1), kThreads, 0, stream>>>(offsets, batch_rows, static_cast<int>(n));
  VT_CUDA_CHECK(cudaGetLastError());
  size_t bytes = 0;
  VT_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(nullptr, bytes, keys, sorted_keys, positions, order,
                                                         static_cast<int>(batch_rows * n), static_cast<int>(batch_rows),
                                                         offsets, offsets + 1, 0, kBits, stream));
  void* temp = device_bytes(scratch, bytes, device);
  for (int64_t first = 0; first < rows; first += batch_rows) {
    const int64_t count = std::min(batch_rows, rows - first), at = first * n;
    VT_CUDA_CHECK(cub::DeviceSegmentedRadixSort::SortPairs(
        temp, bytes, keys + at, sorted_keys + at, positions + at, order + at, static_cast<int>(count * n),
        static_cast<int>(count), offsets, offsets + 1, 0, kBits, stream));
  }
}

template <class U>
void gather_rows(const Tensor& rows, const Tensor& order, Tensor& out, int64_t n, cudaStream_t stream) {
  const int64_t total = rows.numel();
  gather_rows_kernel<U><<<blocks_for(total), kThreads, 0, stream>>>(
      static_cast<const U*>(rows.data_ptr()), order.data<int64_t>(), static_cast<U*>(out.data_ptr()), total, n);
  VT_CUDA_CHECK(cudaGetLastError());
}

std::tuple<Tensor, Tensor> sort_cuda(const Tensor& self, int64_t dim, bool descending) {
  const int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1));
  if (self.dim() == 0) return {clone(self), zeros({}, ScalarType::Int64, self.device())};
  DeviceGuard guard(self.device().index);
  const Tensor rows = contiguous(movedim(self, std::vector<int64_t>{d}, std::vector<int64_t>{-1}));
  Tensor values = empty_tensor(rows.sizes(), self.dtype(), self.device());
  Tensor indices = empty_tensor(rows.sizes(), ScalarType::Int64, self.device());
  const int64_t n = rows.size(-1), total = rows.numel();
  if (total > 0) {
    cudaStream_t stream = current_cuda_stream(self.device().index);
    dispatch_all_types(self.dtype(), "sort", [&](auto tag) {
      using T = decltype(tag);
      using K = KeyOf<T>;
      Tensor keys_holder;
      auto* keys = static_cast<K*>(device_bytes(keys_holder, sizeof(K) * total, self.device()));
      make_keys_kernel<T><<<blocks_for(total), kThreads, 0, stream>>>(rows.data<T>(), keys, total, descending);
      VT_CUDA_CHECK(cudaGetLastError());
      sort_rows<K>(keys, indices.data<int64_t>(), total / n, n, self.device(), stream);
      gather_rows<K>(rows, indices, values, n, stream);
    });
  }
  const std::vector<int64_t> last{-1}, back{d};
  return {movedim(values, last, back), movedim(indices, last, back)};
}

// ---- searchsorted

template <class T, class Out>
__global__ void searchsorted_kernel(const T* sequence, const T* values, const int64_t* sorter, Out* out, int64_t total,
                                    int64_t n, int64_t per_row, bool one_sequence, bool right) {
  using C = compute_t<T>;
  VT_GRID_STRIDE_LOOP(k, total) {
    const int64_t row = one_sequence ? 0 : k / per_row;
    const T* base = sequence + row * n;
    const int64_t* perm = sorter ? sorter + row * n : nullptr;
    out[k] = static_cast<Out>(sort_rules::search_position(static_cast<C>(values[k]), n, right, [&](int64_t i) {
      return static_cast<C>(base[perm ? perm[i] : i]);
    }));
  }
}

Tensor searchsorted_cuda(const Tensor& sorted_sequence, const Tensor& self, bool out_int32, bool right,
                         std::optional<std::string_view> side, const std::optional<Tensor>& sorter) {
  DeviceGuard guard(sorted_sequence.device().index);
  const sort_rules::Search s = sort_rules::prepare_search(sorted_sequence, self, out_int32, right, side, sorter);
  const int64_t total = s.values.numel();
  // A kernel cannot raise: the sorter's positions are checked before they are used.
  if (s.sorter.defined() && s.sorter.numel() > 0) {
    const bool in_range = min(s.sorter).item().to_int() >= 0 && max(s.sorter).item().to_int() < s.n;
    VT_CHECK_INDEX(in_range, "torch.searchsorted(): sorter index out of range");
  }
  if (total == 0) return s.out;
  cudaStream_t stream = current_cuda_stream(sorted_sequence.device().index);
  const int64_t* sorter_data = s.sorter.defined() ? s.sorter.data<int64_t>() : nullptr;
  dispatch_all_types(s.values.dtype(), "searchsorted", [&](auto tag) {
    using T = decltype(tag);
    auto launch = [&](auto* out) {
      searchsorted_kernel<<<blocks_for(total), kThreads, 0, stream>>>(s.sequence.data<T>(), s.values.data<T>(),
                                                                      sorter_data, out, total, s.n, s.per_row,
                                                                      s.one_sequence, s.right);
    };
    if (out_int32) launch(s.out.data<int32_t>());
    else launch(s.out.data<int64_t>());
  });
  VT_CUDA_CHECK(cudaGetLastError());
  return s.out;
}

}  // namespace

VT_REGISTRATION(sort_cuda) {
  register_kernel("sort", DispatchKey::CUDA, &sort_cuda);
  register_kernel("searchsorted.Tensor", DispatchKey::CUDA, &searchsorted_cuda);
}

}  // namespace vt::cuda
