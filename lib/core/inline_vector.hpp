#pragma once
// A vector that keeps its first N elements inside the object and spills larger contents to a
// per-thread small block. A tape entry holds one or two inputs and one output almost always;
// a separate heap block per field made up a large part of the cost of recording a tiny op.
// Neither copyable nor movable (entries live behind a shared_ptr): that keeps it short.
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "core/small_alloc.hpp"

namespace tapeflow::detail {

template <class T, std::size_t N>
class InlineVector {
  static_assert(std::is_nothrow_move_constructible_v<T>, "elements are moved when the vector grows");

 public:
  InlineVector() = default;
  InlineVector(const InlineVector&) = delete;
  InlineVector& operator=(const InlineVector&) = delete;
  ~InlineVector() { clear(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    T* p = static_cast<T*>(small_alloc(n * sizeof(T)));
    std::uninitialized_move(data_, data_ + size_, p);
    std::destroy(data_, data_ + size_);
    free_heap();
    data_ = p;
    capacity_ = n;
  }

  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity_) reserve(2 * capacity_);
    T* p = ::new (static_cast<void*>(data_ + size_)) T(std::forward<Args>(args)...);
    ++size_;
    return *p;
  }
  void push_back(T value) { emplace_back(std::move(value)); }

  // Destroys the elements and gives back any spilled block.
  void clear() {
    std::destroy(data_, data_ + size_);
    size_ = 0;
    free_heap();
    data_ = inline_data();
    capacity_ = N;
  }

 private:
  T* inline_data() { return reinterpret_cast<T*>(inline_); }
  void free_heap() {
    if (data_ != inline_data()) small_free(data_, capacity_ * sizeof(T));
  }

  alignas(T) unsigned char inline_[N * sizeof(T)];
  T* data_ = inline_data();
  std::size_t size_ = 0;
  std::size_t capacity_ = N;
};

}  // namespace tapeflow::detail
