// CUDA instances of the elementwise maps: arithmetic of two tensors, or of a tensor and a scalar bound into the functor (elementwise_binary.cpp).
// One line per functor and dtype the op layer uses; a CUDA build that misses one fails to link
// with "undefined reference to ...Map<F, Out, In...>::run", naming the line to add here.
#include <cstdint>

#include "elementwise.cuh"

namespace tapeflow::cuda_backend {
using namespace tapeflow::cpu;  // the functors

template struct Map<Add, float, float, float>;
template struct Map<Add, double, double, double>;
template struct Map<Add, std::int32_t, std::int32_t, std::int32_t>;
template struct Map<Add, std::int64_t, std::int64_t, std::int64_t>;
template struct Map<Add, bool, bool, bool>;

template struct Map<BindSecond<Add, float>, float, float>;
template struct Map<BindSecond<Add, double>, double, double>;
template struct Map<BindSecond<Add, std::int32_t>, std::int32_t, std::int32_t>;
template struct Map<BindSecond<Add, std::int64_t>, std::int64_t, std::int64_t>;
template struct Map<BindSecond<Add, bool>, bool, bool>;

template struct Map<AddScaled<float>, float, float, float>;
template struct Map<AddScaled<double>, double, double, double>;
template struct Map<AddScaled<std::int32_t>, std::int32_t, std::int32_t, std::int32_t>;
template struct Map<AddScaled<std::int64_t>, std::int64_t, std::int64_t, std::int64_t>;

template struct Map<BindFirst<Div, float>, float, float>;
template struct Map<BindFirst<Div, double>, double, double>;

template struct Map<BindSecond<Div, float>, float, float>;
template struct Map<BindSecond<Div, double>, double, double>;

template struct Map<Div, float, float, float>;
template struct Map<Div, double, double, double>;

template struct Map<Maximum, float, float, float>;
template struct Map<Maximum, double, double, double>;
template struct Map<Maximum, std::int32_t, std::int32_t, std::int32_t>;
template struct Map<Maximum, std::int64_t, std::int64_t, std::int64_t>;
template struct Map<Maximum, bool, bool, bool>;

template struct Map<Minimum, float, float, float>;
template struct Map<Minimum, double, double, double>;
template struct Map<Minimum, std::int32_t, std::int32_t, std::int32_t>;
template struct Map<Minimum, std::int64_t, std::int64_t, std::int64_t>;
template struct Map<Minimum, bool, bool, bool>;

template struct Map<BindSecond<Mul, float>, float, float>;
template struct Map<BindSecond<Mul, double>, double, double>;
template struct Map<BindSecond<Mul, std::int32_t>, std::int32_t, std::int32_t>;
template struct Map<BindSecond<Mul, std::int64_t>, std::int64_t, std::int64_t>;
template struct Map<BindSecond<Mul, bool>, bool, bool>;

template struct Map<Mul, float, float, float>;
template struct Map<Mul, double, double, double>;
template struct Map<Mul, std::int32_t, std::int32_t, std::int32_t>;
template struct Map<Mul, std::int64_t, std::int64_t, std::int64_t>;
template struct Map<Mul, bool, bool, bool>;

template struct Map<BindFirst<Pow, float>, float, float>;
template struct Map<BindFirst<Pow, double>, double, double>;
template struct Map<BindFirst<Pow, std::int32_t>, std::int32_t, std::int32_t>;
template struct Map<BindFirst<Pow, std::int64_t>, std::int64_t, std::int64_t>;

template struct Map<BindSecond<Pow, float>, float, float>;
template struct Map<BindSecond<Pow, double>, double, double>;
template struct Map<BindSecond<Pow, std::int32_t>, std::int32_t, std::int32_t>;
template struct Map<BindSecond<Pow, std::int64_t>, std::int64_t, std::int64_t>;

template struct Map<Pow, float, float, float>;
template struct Map<Pow, double, double, double>;
template struct Map<Pow, std::int32_t, std::int32_t, std::int32_t>;
template struct Map<Pow, std::int64_t, std::int64_t, std::int64_t>;

template struct Map<ReluBackward, float, float, float>;
template struct Map<ReluBackward, double, double, double>;

template struct Map<BindFirst<Sub, float>, float, float>;
template struct Map<BindFirst<Sub, double>, double, double>;
template struct Map<BindFirst<Sub, std::int32_t>, std::int32_t, std::int32_t>;
template struct Map<BindFirst<Sub, std::int64_t>, std::int64_t, std::int64_t>;

template struct Map<BindSecond<Sub, float>, float, float>;
template struct Map<BindSecond<Sub, double>, double, double>;
template struct Map<BindSecond<Sub, std::int32_t>, std::int32_t, std::int32_t>;
template struct Map<BindSecond<Sub, std::int64_t>, std::int64_t, std::int64_t>;

template struct Map<Sub, float, float, float>;
template struct Map<Sub, double, double, double>;
template struct Map<Sub, std::int32_t, std::int32_t, std::int32_t>;
template struct Map<Sub, std::int64_t, std::int64_t, std::int64_t>;

}  // namespace tapeflow::cuda_backend
