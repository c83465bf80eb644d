// Out-of-line members of the kernel parameter structs.
#include "kernels/params.hpp"

#include <algorithm>

namespace tapeflow::kernels {

std::int64_t GemmBatch::count() const {
  std::int64_t n = 1;
  for (std::int64_t s : sizes) n *= s;
  return n;
}

void GemmBatch::coalesce() {
  Shape s;
  std::array<Shape, 3> st;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    bool merge = !s.empty();
    for (std::size_t k = 0; k < 3 && merge; ++k) merge = st[k].back() == strides[k][d] * sizes[d];
    if (merge) {
      s.back() *= sizes[d];
      for (std::size_t k = 0; k < 3; ++k) st[k].back() = strides[k][d];
    } else {
      s.push_back(sizes[d]);
      for (std::size_t k = 0; k < 3; ++k) st[k].push_back(strides[k][d]);
    }
  }
  sizes = std::move(s);
  strides = std::move(st);
}

}  // namespace tapeflow::kernels
