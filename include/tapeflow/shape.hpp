#pragma once
// Shapes and strides: a small inline vector (no heap for up to kInlineDims dims), and
// IntArrayRef, a non-owning view accepted by every op taking a list of sizes or dims.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <vector>

namespace tapeflow {

class IntArrayRef {
 public:
  constexpr IntArrayRef() = default;
  constexpr IntArrayRef(const std::int64_t* data, std::size_t size) : data_(data), size_(size) {}
  // The list's array lives until the end of the full expression, which covers any call taking
  // an IntArrayRef parameter; do not keep an IntArrayRef made from braces in a variable.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  IntArrayRef(std::initializer_list<std::int64_t> list) : data_(list.begin()), size_(list.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  IntArrayRef(const std::vector<std::int64_t>& v) : data_(v.data()), size_(v.size()) {}
  constexpr IntArrayRef(const std::int64_t& single) : data_(&single), size_(1) {}

  constexpr const std::int64_t* data() const { return data_; }
  constexpr const std::int64_t* begin() const { return data_; }
  constexpr const std::int64_t* end() const { return data_ + size_; }
  constexpr std::size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr std::int64_t operator[](std::size_t i) const { return data_[i]; }
  constexpr std::int64_t back() const { return data_[size_ - 1]; }
  std::vector<std::int64_t> vec() const { return {begin(), end()}; }
  bool operator==(const IntArrayRef& o) const {
    return size_ == o.size_ && std::equal(begin(), end(), o.begin());
  }

 private:
  const std::int64_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// A vector of int64 that keeps up to kInlineDims entries inline.
class Shape {
 public:
  static constexpr std::size_t kInlineDims = 6;

  Shape() = default;
  explicit Shape(std::size_t n, std::int64_t value = 0) { resize(n, value); }
  Shape(IntArrayRef r) { assign(r.begin(), r.end()); }
  Shape(std::initializer_list<std::int64_t> l) { assign(l.begin(), l.end()); }
  Shape(const std::vector<std::int64_t>& v) { assign(v.data(), v.data() + v.size()); }
  Shape(const Shape& o) { assign(o.begin(), o.end()); }
  Shape(Shape&& o) noexcept { move_from(o); }
  Shape& operator=(const Shape& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  Shape& operator=(Shape&& o) noexcept {
    if (this != &o) move_from(o);
    return *this;
  }
  ~Shape() = default;

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::int64_t* data() { return heap_ ? heap_.get() : inline_; }
  const std::int64_t* data() const { return heap_ ? heap_.get() : inline_; }
  std::int64_t* begin() { return data(); }
  std::int64_t* end() { return data() + size_; }
  const std::int64_t* begin() const { return data(); }
  const std::int64_t* end() const { return data() + size_; }
  std::int64_t& operator[](std::size_t i) { return data()[i]; }
  std::int64_t operator[](std::size_t i) const { return data()[i]; }
  std::int64_t& back() { return data()[size_ - 1]; }
  std::int64_t back() const { return data()[size_ - 1]; }
  operator IntArrayRef() const { return IntArrayRef(data(), size_); }
  std::vector<std::int64_t> vec() const { return {begin(), end()}; }

  void resize(std::size_t n, std::int64_t value = 0) {
    reserve(n);
    std::int64_t* d = data();
    if (n <= kInlineDims) {
      for (std::size_t i = size_; i < kInlineDims; ++i) d[i] = value;  // fixed bound: stores, no memset call
    } else {
      for (std::size_t i = size_; i < n; ++i) d[i] = value;
    }
    size_ = n;
  }
  void push_back(std::int64_t v) {
    reserve(size_ + 1);
    data()[size_++] = v;
  }
  void insert(std::size_t pos, std::int64_t v) {
    reserve(size_ + 1);
    std::int64_t* d = data();
    std::memmove(d + pos + 1, d + pos, (size_ - pos) * sizeof(std::int64_t));
    d[pos] = v;
    ++size_;
  }
  void erase(std::size_t pos) {
    std::int64_t* d = data();
    std::memmove(d + pos, d + pos + 1, (size_ - pos - 1) * sizeof(std::int64_t));
    --size_;
  }
  void clear() { size_ = 0; }
  // Replaces the contents in place (no temporary Shape to build and move in).
  void assign(IntArrayRef r) { assign(r.begin(), r.end()); }
  bool operator==(const Shape& o) const { return IntArrayRef(*this) == IntArrayRef(o); }
  bool operator==(IntArrayRef o) const { return IntArrayRef(*this) == o; }

 private:
  void reserve(std::size_t n) {
    if (n <= capacity_) return;
    std::size_t cap = std::max(n, capacity_ * 2);
    std::unique_ptr<std::int64_t[]> grown(new std::int64_t[cap]);
    std::copy(begin(), end(), grown.get());
    heap_ = std::move(grown);
    capacity_ = cap;
  }
  void assign(const std::int64_t* b, const std::int64_t* e) {
    const auto n = static_cast<std::size_t>(e - b);
    size_ = 0;
    reserve(n);
    if (n <= kInlineDims) copy_few(b, n, data());
    else std::copy(b, e, data());
    size_ = n;
  }
  // Copies n <= kInlineDims values by plain moves: shapes are copied on every op, and for a few
  // dims the memmove call a copy loop compiles to costs more than the copy.
  static void copy_few(const std::int64_t* s, std::size_t n, std::int64_t* d) {
    static_assert(kInlineDims == 6, "copy_few spells out kInlineDims cases");
    switch (n) {
      case 6: d[5] = s[5]; [[fallthrough]];
      case 5: d[4] = s[4]; [[fallthrough]];
      case 4: d[3] = s[3]; [[fallthrough]];
      case 3: d[2] = s[2]; [[fallthrough]];
      case 2: d[1] = s[1]; [[fallthrough]];
      case 1: d[0] = s[0]; [[fallthrough]];
      default: break;
    }
  }
  void move_from(Shape& o) {
    if (o.heap_) {
      heap_ = std::move(o.heap_);
      capacity_ = o.capacity_;
      size_ = o.size_;
      o.capacity_ = kInlineDims;
      o.size_ = 0;
    } else {
      heap_.reset();
      capacity_ = kInlineDims;
      assign(o.begin(), o.end());
    }
  }

  std::int64_t inline_[kInlineDims] = {};
  std::unique_ptr<std::int64_t[]> heap_;
  std::size_t size_ = 0;
  std::size_t capacity_ = kInlineDims;
};

// Prints "(2, 3)" — the form used in error messages.
std::ostream& operator<<(std::ostream& os, IntArrayRef s);
inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << IntArrayRef(s); }

std::int64_t shape_numel(IntArrayRef shape);
Shape contiguous_strides(IntArrayRef shape);
// NumPy broadcasting of two shapes; throws ShapeError naming op when they are incompatible.
Shape broadcast_shapes(const char* op, IntArrayRef a, IntArrayRef b);
// Wraps a possibly negative dim into [0, ndim); throws IndexError naming op if out of range.
std::int64_t wrap_dim(const char* op, std::int64_t dim, std::int64_t ndim);

}  // namespace tapeflow
