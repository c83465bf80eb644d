#pragma once
// A move-only std::function that stores captures of up to `Inline` bytes inside itself and larger
// ones in a per-thread small block. std::function puts any capture over 16 bytes (two Tensors, or
// a Tensor and a Scalar) on the heap: one malloc/free pair per recorded op for most backwards.
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

#include "core/small_alloc.hpp"

namespace tapeflow::detail {

template <class Signature, std::size_t Inline>
class SmallFunction;

template <class R, class... Args, std::size_t Inline>
class SmallFunction<R(Args...), Inline> {
 public:
  SmallFunction() = default;
  SmallFunction(std::nullptr_t) {}  // NOLINT: like std::function
  template <class F, class D = std::decay_t<F>,
            class = std::enable_if_t<!std::is_same_v<D, SmallFunction> && std::is_invocable_r_v<R, D&, Args...>>>
  SmallFunction(F&& f) {  // NOLINT: implicit, like std::function
    if constexpr (fits_inline<D>) {
      ::new (static_cast<void*>(buffer_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      void* p = small_alloc(sizeof(D));  // 64-byte aligned
      try {
        ::new (p) D(std::forward<F>(f));
      } catch (...) {
        small_free(p, sizeof(D));
        throw;
      }
      *reinterpret_cast<void**>(buffer_) = p;
      ops_ = &kHeapOps<D>;
    }
  }
  SmallFunction(SmallFunction&& o) noexcept { take(o); }
  SmallFunction& operator=(SmallFunction&& o) noexcept {
    if (this != &o) {
      reset();
      take(o);
    }
    return *this;
  }
  SmallFunction(const SmallFunction&) = delete;
  SmallFunction& operator=(const SmallFunction&) = delete;
  ~SmallFunction() { reset(); }

  explicit operator bool() const { return ops_ != nullptr; }
  R operator()(Args... args) const { return ops_->call(buffer_, std::forward<Args>(args)...); }

 private:
  struct Ops {
    R (*call)(void* self, Args&&... args);
    void (*move)(void* from, void* to) noexcept;  // moves into raw storage and destroys the source
    void (*destroy)(void* self) noexcept;
  };
  template <class D>
  static constexpr bool fits_inline = sizeof(D) <= Inline && alignof(D) <= alignof(std::max_align_t) &&
                                      std::is_nothrow_move_constructible_v<D>;
  template <class D>
  static D& inline_target(void* b) { return *std::launder(reinterpret_cast<D*>(b)); }
  template <class D>
  static D& heap_target(void* b) { return *static_cast<D*>(*reinterpret_cast<void**>(b)); }

  template <class D>
  static constexpr Ops kInlineOps{
      [](void* b, Args&&... a) -> R { return inline_target<D>(b)(std::forward<Args>(a)...); },
      [](void* from, void* to) noexcept {
        ::new (to) D(std::move(inline_target<D>(from)));
        inline_target<D>(from).~D();
      },
      [](void* b) noexcept { inline_target<D>(b).~D(); }};
  template <class D>
  static constexpr Ops kHeapOps{
      [](void* b, Args&&... a) -> R { return heap_target<D>(b)(std::forward<Args>(a)...); },
      [](void* from, void* to) noexcept { *reinterpret_cast<void**>(to) = *reinterpret_cast<void**>(from); },
      [](void* b) noexcept {
        heap_target<D>(b).~D();
        small_free(*reinterpret_cast<void**>(b), sizeof(D));
      }};

  void take(SmallFunction& o) noexcept {
    if (!o.ops_) return;
    o.ops_->move(o.buffer_, buffer_);
    ops_ = o.ops_;
    o.ops_ = nullptr;
  }
  void reset() noexcept {
    if (ops_) ops_->destroy(buffer_);
    ops_ = nullptr;
  }

  alignas(std::max_align_t) mutable unsigned char buffer_[Inline];
  const Ops* ops_ = nullptr;
};

}  // namespace tapeflow::detail
