// A vector that keeps up to N elements inline: sizes and strides of almost every tensor fit,
// so creating a tensor costs no extra heap allocation for its shape.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <span>
#include <type_traits>

namespace vt {

template <class T, size_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>, "SmallVector holds trivially copyable values");

 public:
  SmallVector() = default;
  explicit SmallVector(size_t count, T value = T{}) { assign(count, value); }
  SmallVector(std::initializer_list<T> values) { assign(values.begin(), values.end()); }
  SmallVector(std::span<const T> values) { assign(values.begin(), values.end()); }
  template <class It>
  SmallVector(It first, It last) { assign(first, last); }
  SmallVector(const SmallVector& other) { assign(other.begin(), other.end()); }
  SmallVector(SmallVector&& other) noexcept { *this = std::move(other); }
  ~SmallVector() { release(); }

  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this == &other) return *this;
    release();
    if (other.heap_) {
      data_ = other.data_;
      capacity_ = other.capacity_;
      heap_ = true;
      other.data_ = other.inline_;
      other.capacity_ = N;
      other.heap_ = false;
    } else {
      std::memcpy(inline_, other.inline_, other.size_ * sizeof(T));
    }
    size_ = other.size_;
    other.size_ = 0;
    return *this;
  }

  template <class It>
  void assign(It first, It last) {
    size_t count = static_cast<size_t>(std::distance(first, last));
    reserve(count);
    std::copy(first, last, data_);
    size_ = count;
  }
  void assign(size_t count, T value) {
    reserve(count);
    std::fill(data_, data_ + count, value);
    size_ = count;
  }

  void reserve(size_t count) {
    if (count <= capacity_) return;
    size_t new_capacity = std::max(count, capacity_ * 2);
    T* fresh = new T[new_capacity];
    std::memcpy(fresh, data_, size_ * sizeof(T));
    release();
    data_ = fresh;
    capacity_ = new_capacity;
    heap_ = true;
  }
  void resize(size_t count, T value = T{}) {
    reserve(count);
    for (size_t i = size_; i < count; ++i) data_[i] = value;
    size_ = count;
  }
  void push_back(T value) {
    if (size_ == capacity_) reserve(size_ + 1);
    data_[size_++] = value;
  }
  void insert(size_t pos, T value) {
    push_back(value);
    std::rotate(data_ + pos, data_ + size_ - 1, data_ + size_);
  }
  void erase(size_t pos) {
    std::copy(data_ + pos + 1, data_ + size_, data_ + pos);
    --size_;
  }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  const T& back() const { return data_[size_ - 1]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  operator std::span<const T>() const { return {data_, size_}; }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  void release() {
    if (heap_) delete[] data_;
    data_ = inline_;
    capacity_ = N;
    heap_ = false;
  }

  T* data_ = inline_;
  size_t size_ = 0;
  size_t capacity_ = N;
  bool heap_ = false;
  T inline_[N];
};

using IntArrayRef = std::span<const int64_t>;
using DimVector = SmallVector<int64_t, 6>;

}  // namespace vt
