// CPU elementwise loops. A kernel is a lambda over scalar values, `[](float a, float b) {
// return a + b; }`; cpu_kernel walks the TensorIterator and picks a loop the compiler can
// vectorize: all operands contiguous, or one input a broadcast scalar with the rest contiguous.
#pragma once
#include <cstdint>
#include <tuple>
#include <utility>

#include "vt/tensor_iterator.h"

namespace vt::cpu {

template <class F>
struct FunctionTraits : FunctionTraits<decltype(&F::operator())> {};
template <class C, class R, class... A>
struct FunctionTraits<R (C::*)(A...) const> {
  using result = R;
  using args = std::tuple<A...>;
  static constexpr size_t arity = sizeof...(A);
};
template <class F, size_t I>
using arg_t = std::tuple_element_t<I, typename FunctionTraits<F>::args>;

namespace detail {

template <class Op, size_t... I>
inline void contiguous_loop(char** data, int64_t n, const Op& op, std::index_sequence<I...>) {
  using R = typename FunctionTraits<Op>::result;
  R* out = reinterpret_cast<R*>(data[0]);
  auto in = std::make_tuple(reinterpret_cast<const arg_t<Op, I>*>(data[I + 1])...);
  for (int64_t i = 0; i < n; ++i) out[i] = op(std::get<I>(in)[i]...);
}

// Input S is the same value at every step (a broadcast scalar): load it once.
template <size_t S, class Op, size_t... I>
inline void scalar_input_loop(char** data, int64_t n, const Op& op, std::index_sequence<I...>) {
  using R = typename FunctionTraits<Op>::result;
  R* out = reinterpret_cast<R*>(data[0]);
  const arg_t<Op, S> scalar = *reinterpret_cast<const arg_t<Op, S>*>(data[S + 1]);
  auto in = std::make_tuple(reinterpret_cast<const arg_t<Op, I>*>(data[I + 1])...);
  auto load = [&]<size_t K>(std::integral_constant<size_t, K>, int64_t i) {
    if constexpr (K == S) return scalar;
    else return std::get<K>(in)[i];
  };
  for (int64_t i = 0; i < n; ++i) out[i] = op(load(std::integral_constant<size_t, I>{}, i)...);
}

template <class Op, size_t... I>
inline void strided_loop(char** data, const int64_t* strides, int64_t n, const Op& op, std::index_sequence<I...>) {
  using R = typename FunctionTraits<Op>::result;
  for (int64_t i = 0; i < n; ++i) {
    *reinterpret_cast<R*>(data[0] + i * strides[0]) =
        op(*reinterpret_cast<const arg_t<Op, I>*>(data[I + 1] + i * strides[I + 1])...);
  }
}

template <class Op, size_t... I>
inline bool try_scalar_loops(char** data, const int64_t* strides, int64_t n, const Op& op,
                             std::index_sequence<I...> seq) {
  constexpr size_t N = sizeof...(I);
  // For each input S: is it the only zero-stride operand, with the others contiguous?
  bool handled = false;
  auto attempt = [&]<size_t S>(std::integral_constant<size_t, S>) {
    if (handled || strides[S + 1] != 0) return;
    bool others_contiguous = ((I == S || strides[I + 1] == static_cast<int64_t>(sizeof(arg_t<Op, I>))) && ...);
    if (!others_contiguous) return;
    scalar_input_loop<S>(data, n, op, seq);
    handled = true;
  };
  (attempt(std::integral_constant<size_t, I>{}), ...);
  (void)N;
  return handled;
}

}  // namespace detail

template <class Op>
void cpu_kernel(TensorIterator& iter, const Op& op) {
  using Traits = FunctionTraits<Op>;
  using R = typename Traits::result;
  constexpr auto seq = std::make_index_sequence<Traits::arity>{};
  iter.for_each([&](char** data, const int64_t* strides, int64_t n) {
    bool contiguous = strides[0] == static_cast<int64_t>(sizeof(R));
    [&]<size_t... I>(std::index_sequence<I...>) {
      contiguous = contiguous && ((strides[I + 1] == static_cast<int64_t>(sizeof(arg_t<Op, I>))) && ...);
    }(seq);
    if (contiguous) {
      detail::contiguous_loop(data, n, op, seq);
    } else if (strides[0] != static_cast<int64_t>(sizeof(R)) || !detail::try_scalar_loops(data, strides, n, op, seq)) {
      detail::strided_loop(data, strides, n, op, seq);
    }
  });
}

}  // namespace vt::cpu
