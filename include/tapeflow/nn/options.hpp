#pragma once
// What the layers' option classes are made of, as in PyTorch's C++ frontend:
//  - TAPEFLOW_ARG(T, name) gives an option class a chainable setter `name(value)` (returning
//    *this) and a getter `name()`, backed by a member `name_` whose default follows the macro:
//      TAPEFLOW_ARG(double, eps) = 1e-5;   ->   BatchNormOptions(16).eps(1e-3).momentum(0.2)
//    (a declaration-generating macro like TORCH_ARG; it hides no control flow).
//  - ExpandingArray<D>: D sizes given as one value ("3" means {3, 3}) or as D values.
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <vector>

#include "tapeflow/error.hpp"
#include "tapeflow/shape.hpp"

#define TAPEFLOW_ARG(T, name)                                    \
 public:                                                         \
  auto& name(const T& new_##name) {                              \
    this->name##_ = new_##name;                                  \
    return *this;                                                \
  }                                                              \
  const T& name() const noexcept { return this->name##_; }       \
  T& name() noexcept { return this->name##_; }                   \
                                                                 \
 private:                                                        \
  T name##_

namespace tapeflow::nn {

template <std::size_t D>
class ExpandingArray {
 public:
  ExpandingArray(std::int64_t value) { values_.fill(value); }  // NOLINT: implicit, as PyTorch's
  ExpandingArray(std::initializer_list<std::int64_t> list) : ExpandingArray(IntArrayRef(list.begin(), list.size())) {}
  ExpandingArray(const std::vector<std::int64_t>& values) : ExpandingArray(IntArrayRef(values)) {}
  ExpandingArray(IntArrayRef values) {
    if (values.size() == 1) {
      values_.fill(values[0]);
      return;
    }
    if (values.size() != D)
      fail<ValueError>("ExpandingArray", "expected 1 or ", D, " values, got ", values.size(), ": ", values);
    for (std::size_t i = 0; i < D; ++i) values_[i] = values[i];
  }

  IntArrayRef ref() const { return IntArrayRef(values_.data(), D); }
  operator IntArrayRef() const { return ref(); }  // NOLINT: passes straight to the functional ops
  std::int64_t operator[](std::size_t i) const { return values_[i]; }
  std::int64_t& operator[](std::size_t i) { return values_[i]; }
  const std::int64_t* begin() const { return values_.data(); }
  const std::int64_t* end() const { return values_.data() + D; }
  static constexpr std::size_t size() { return D; }
  bool operator==(const ExpandingArray& o) const { return values_ == o.values_; }

 private:
  std::array<std::int64_t, D> values_{};
};

// Printed as PyTorch's C++ frontend prints it: "[3, 3]".
template <std::size_t D>
std::ostream& operator<<(std::ostream& os, const ExpandingArray<D>& a) {
  os << "[";
  for (std::size_t i = 0; i < D; ++i) os << (i ? ", " : "") << a[i];
  return os << "]";
}

}  // namespace tapeflow::nn
