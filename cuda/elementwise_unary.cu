// CUDA instances of the elementwise maps: one-input ops of the same dtype in and out (elementwise_unary.cpp).
// One line per functor and dtype the op layer uses; a CUDA build that misses one fails to link
// with "undefined reference to ...Map<F, Out, In...>::run", naming the line to add here.
#include <cstdint>

#include "elementwise.cuh"

namespace tapeflow::cuda_backend {
using namespace tapeflow::cpu;  // the functors

template struct Map<Abs, float, float>;
template struct Map<Abs, double, double>;
template struct Map<Abs, std::int32_t, std::int32_t>;
template struct Map<Abs, std::int64_t, std::int64_t>;

template struct Map<Ceil, float, float>;
template struct Map<Ceil, double, double>;

template struct Map<Clamp<float>, float, float>;
template struct Map<Clamp<double>, double, double>;
template struct Map<Clamp<std::int32_t>, std::int32_t, std::int32_t>;
template struct Map<Clamp<std::int64_t>, std::int64_t, std::int64_t>;

template struct Map<Cos, float, float>;
template struct Map<Cos, double, double>;

template struct Map<Elu<float>, float, float>;
template struct Map<Elu<double>, double, double>;

template struct Map<Exp, float, float>;
template struct Map<Exp, double, double>;

template struct Map<Expm1, float, float>;
template struct Map<Expm1, double, double>;

template struct Map<Floor, float, float>;
template struct Map<Floor, double, double>;

template struct Map<Gelu, float, float>;
template struct Map<Gelu, double, double>;

template struct Map<GeluDerivative, float, float>;
template struct Map<GeluDerivative, double, double>;

template struct Map<GeluTanh, float, float>;
template struct Map<GeluTanh, double, double>;

template struct Map<LeakyRelu<float>, float, float>;
template struct Map<LeakyRelu<double>, double, double>;

template struct Map<Log, float, float>;
template struct Map<Log, double, double>;

template struct Map<Log1p, float, float>;
template struct Map<Log1p, double, double>;

template struct Map<Neg, float, float>;
template struct Map<Neg, double, double>;
template struct Map<Neg, std::int32_t, std::int32_t>;
template struct Map<Neg, std::int64_t, std::int64_t>;

template struct Map<Relu, float, float>;
template struct Map<Relu, double, double>;
template struct Map<Relu, std::int32_t, std::int32_t>;
template struct Map<Relu, std::int64_t, std::int64_t>;

template struct Map<Round, float, float>;
template struct Map<Round, double, double>;

template struct Map<Rsqrt, float, float>;
template struct Map<Rsqrt, double, double>;

template struct Map<Sigmoid, float, float>;
template struct Map<Sigmoid, double, double>;

template struct Map<Sign, float, float>;
template struct Map<Sign, double, double>;
template struct Map<Sign, std::int32_t, std::int32_t>;
template struct Map<Sign, std::int64_t, std::int64_t>;

template struct Map<Silu, float, float>;
template struct Map<Silu, double, double>;

template struct Map<Sin, float, float>;
template struct Map<Sin, double, double>;

template struct Map<Softplus<float>, float, float>;
template struct Map<Softplus<double>, double, double>;

template struct Map<Sqrt, float, float>;
template struct Map<Sqrt, double, double>;

template struct Map<Square, float, float>;
template struct Map<Square, double, double>;
template struct Map<Square, std::int32_t, std::int32_t>;
template struct Map<Square, std::int64_t, std::int64_t>;

template struct Map<Tanh, float, float>;
template struct Map<Tanh, double, double>;

}  // namespace tapeflow::cuda_backend
