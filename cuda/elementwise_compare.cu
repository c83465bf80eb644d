// CUDA instances of the elementwise maps: comparisons, logical ops and predicates giving bool, and where (elementwise_compare.cpp).
// One line per functor and dtype the op layer uses; a CUDA build that misses one fails to link
// with "undefined reference to ...Map<F, Out, In...>::run", naming the line to add here.
#include <cstdint>

#include "elementwise.cuh"

namespace tapeflow::cuda_backend {
using namespace tapeflow::cpu;  // the functors

template struct Map<BindSecond<Eq, float>, bool, float>;
template struct Map<BindSecond<Eq, double>, bool, double>;
template struct Map<BindSecond<Eq, std::int32_t>, bool, std::int32_t>;
template struct Map<BindSecond<Eq, std::int64_t>, bool, std::int64_t>;
template struct Map<BindSecond<Eq, bool>, bool, bool>;

template struct Map<Eq, bool, float, float>;
template struct Map<Eq, bool, double, double>;
template struct Map<Eq, bool, std::int32_t, std::int32_t>;
template struct Map<Eq, bool, std::int64_t, std::int64_t>;
template struct Map<Eq, bool, bool, bool>;

template struct Map<BindSecond<Ge, float>, bool, float>;
template struct Map<BindSecond<Ge, double>, bool, double>;
template struct Map<BindSecond<Ge, std::int32_t>, bool, std::int32_t>;
template struct Map<BindSecond<Ge, std::int64_t>, bool, std::int64_t>;
template struct Map<BindSecond<Ge, bool>, bool, bool>;

template struct Map<Ge, bool, float, float>;
template struct Map<Ge, bool, double, double>;
template struct Map<Ge, bool, std::int32_t, std::int32_t>;
template struct Map<Ge, bool, std::int64_t, std::int64_t>;
template struct Map<Ge, bool, bool, bool>;

template struct Map<BindSecond<Gt, float>, bool, float>;
template struct Map<BindSecond<Gt, double>, bool, double>;
template struct Map<BindSecond<Gt, std::int32_t>, bool, std::int32_t>;
template struct Map<BindSecond<Gt, std::int64_t>, bool, std::int64_t>;
template struct Map<BindSecond<Gt, bool>, bool, bool>;

template struct Map<Gt, bool, float, float>;
template struct Map<Gt, bool, double, double>;
template struct Map<Gt, bool, std::int32_t, std::int32_t>;
template struct Map<Gt, bool, std::int64_t, std::int64_t>;
template struct Map<Gt, bool, bool, bool>;

template struct Map<IsFinite, bool, float>;
template struct Map<IsFinite, bool, double>;
template struct Map<IsFinite, bool, std::int32_t>;
template struct Map<IsFinite, bool, std::int64_t>;
template struct Map<IsFinite, bool, bool>;

template struct Map<IsInf, bool, float>;
template struct Map<IsInf, bool, double>;
template struct Map<IsInf, bool, std::int32_t>;
template struct Map<IsInf, bool, std::int64_t>;
template struct Map<IsInf, bool, bool>;

template struct Map<IsNan, bool, float>;
template struct Map<IsNan, bool, double>;
template struct Map<IsNan, bool, std::int32_t>;
template struct Map<IsNan, bool, std::int64_t>;
template struct Map<IsNan, bool, bool>;

template struct Map<BindSecond<Le, float>, bool, float>;
template struct Map<BindSecond<Le, double>, bool, double>;
template struct Map<BindSecond<Le, std::int32_t>, bool, std::int32_t>;
template struct Map<BindSecond<Le, std::int64_t>, bool, std::int64_t>;
template struct Map<BindSecond<Le, bool>, bool, bool>;

template struct Map<Le, bool, float, float>;
template struct Map<Le, bool, double, double>;
template struct Map<Le, bool, std::int32_t, std::int32_t>;
template struct Map<Le, bool, std::int64_t, std::int64_t>;
template struct Map<Le, bool, bool, bool>;

template struct Map<LogicalAnd, bool, float, float>;
template struct Map<LogicalAnd, bool, double, double>;
template struct Map<LogicalAnd, bool, std::int32_t, std::int32_t>;
template struct Map<LogicalAnd, bool, std::int64_t, std::int64_t>;
template struct Map<LogicalAnd, bool, bool, bool>;

template struct Map<LogicalNot, bool, float>;
template struct Map<LogicalNot, bool, double>;
template struct Map<LogicalNot, bool, std::int32_t>;
template struct Map<LogicalNot, bool, std::int64_t>;
template struct Map<LogicalNot, bool, bool>;

template struct Map<LogicalOr, bool, float, float>;
template struct Map<LogicalOr, bool, double, double>;
template struct Map<LogicalOr, bool, std::int32_t, std::int32_t>;
template struct Map<LogicalOr, bool, std::int64_t, std::int64_t>;
template struct Map<LogicalOr, bool, bool, bool>;

template struct Map<BindSecond<Lt, float>, bool, float>;
template struct Map<BindSecond<Lt, double>, bool, double>;
template struct Map<BindSecond<Lt, std::int32_t>, bool, std::int32_t>;
template struct Map<BindSecond<Lt, std::int64_t>, bool, std::int64_t>;
template struct Map<BindSecond<Lt, bool>, bool, bool>;

template struct Map<Lt, bool, float, float>;
template struct Map<Lt, bool, double, double>;
template struct Map<Lt, bool, std::int32_t, std::int32_t>;
template struct Map<Lt, bool, std::int64_t, std::int64_t>;
template struct Map<Lt, bool, bool, bool>;

template struct Map<BindSecond<Ne, float>, bool, float>;
template struct Map<BindSecond<Ne, double>, bool, double>;
template struct Map<BindSecond<Ne, std::int32_t>, bool, std::int32_t>;
template struct Map<BindSecond<Ne, std::int64_t>, bool, std::int64_t>;
template struct Map<BindSecond<Ne, bool>, bool, bool>;

template struct Map<Ne, bool, float, float>;
template struct Map<Ne, bool, double, double>;
template struct Map<Ne, bool, std::int32_t, std::int32_t>;
template struct Map<Ne, bool, std::int64_t, std::int64_t>;
template struct Map<Ne, bool, bool, bool>;

template struct Map<Where, float, bool, float, float>;
template struct Map<Where, double, bool, double, double>;
template struct Map<Where, std::int32_t, bool, std::int32_t, std::int32_t>;
template struct Map<Where, std::int64_t, bool, std::int64_t, std::int64_t>;
template struct Map<Where, bool, bool, bool, bool>;

template struct Map<WhereScalarA<float>, float, bool, float>;
template struct Map<WhereScalarA<double>, double, bool, double>;
template struct Map<WhereScalarA<std::int32_t>, std::int32_t, bool, std::int32_t>;
template struct Map<WhereScalarA<std::int64_t>, std::int64_t, bool, std::int64_t>;
template struct Map<WhereScalarA<bool>, bool, bool, bool>;

template struct Map<WhereScalarB<float>, float, bool, float>;
template struct Map<WhereScalarB<double>, double, bool, double>;
template struct Map<WhereScalarB<std::int32_t>, std::int32_t, bool, std::int32_t>;
template struct Map<WhereScalarB<std::int64_t>, std::int64_t, bool, std::int64_t>;
template struct Map<WhereScalarB<bool>, bool, bool, bool>;

}  // namespace tapeflow::cuda_backend
