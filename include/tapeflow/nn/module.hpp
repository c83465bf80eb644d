#pragma once
// nn::Module, the base of every layer and model, and ModuleHolder, the shared handle that
// layers are used through (as in PyTorch's C++ frontend):
//
//   struct NetImpl : nn::Module {
//     NetImpl() : fc1(register_module("fc1", nn::Linear(784, 256))),
//                 fc2(register_module("fc2", nn::Linear(256, 10))) {}
//     Tensor forward(const Tensor& x) { return fc2(relu(fc1(x))); }
//     nn::Linear fc1, fc2;
//   };
//   TAPEFLOW_MODULE(Net);   // declares `Net`, a ModuleHolder<NetImpl>
//
// A module owns named parameters (tensors that require grad), named buffers (state that is not
// trained, such as BatchNorm's running statistics) and named child modules. Names are dotted
// through the tree ("features.0.weight"), which is what state_dict() and named_parameters()
// report and what load_state_dict() expects.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tapeflow/device.hpp"
#include "tapeflow/dtype.hpp"
#include "tapeflow/state_dict.hpp"

namespace tapeflow {
namespace nn {

template <typename Impl>
class ModuleHolder;

namespace detail {
// A ModuleHolder<Impl> or a class derived from one (what TAPEFLOW_MODULE declares).
template <typename T>
struct is_module_holder : std::false_type {};
template <typename T>
  requires requires { typename T::ContainedType; }
struct is_module_holder<T> : std::is_base_of<ModuleHolder<typename T::ContainedType>, T> {};
}  // namespace detail

// What load_state_dict found when strict=false (strict mode throws instead).
struct LoadStateDictResult {
  std::vector<std::string> missing_keys;     // expected by the module, absent from the dict
  std::vector<std::string> unexpected_keys;  // in the dict, unknown to the module
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  // `name` is what printing shows; by default the C++ class name without namespaces and a
  // trailing "Impl" ("Linear" for nn::LinearImpl, "Net" for a user's NetImpl).
  explicit Module(std::string name = "");
  virtual ~Module() = default;
  // Modules are shared through handles; a silent copy would share parameters yet look separate.
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& name() const;

  // ---- registration (names may not contain '.' and must be unique within this module) ----
  // Stores `tensor` (detached: it becomes a leaf) and sets requires_grad. An undefined tensor
  // registers a placeholder that parameters() skips (e.g. Linear without bias).
  Tensor& register_parameter(std::string name, Tensor tensor, bool requires_grad = true);
  Tensor& register_buffer(std::string name, Tensor tensor);
  template <typename M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    static_assert(std::is_base_of_v<Module, M>, "register_module needs an nn::Module");
    add_child(std::move(name), module);
    return module;
  }
  // Returns the shared module, which converts to the holder: `fc1(register_module("fc1", nn::Linear(2, 3)))`.
  template <typename Impl>
  std::shared_ptr<Impl> register_module(std::string name, ModuleHolder<Impl> holder) {
    add_child(std::move(name), holder.ptr());
    return holder.ptr();
  }
  // Swaps a registered child for another (same name), returning the new one.
  template <typename M>
  std::shared_ptr<M> replace_module(const std::string& name, std::shared_ptr<M> module) {
    replace_child(name, module);
    return module;
  }

  // ---- traversal ----
  std::vector<Tensor> parameters(bool recurse = true) const;
  OrderedDict<std::string, Tensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  OrderedDict<std::string, Tensor> named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;
  OrderedDict<std::string, std::shared_ptr<Module>> named_children() const;
  // Every module of the tree in pre-order, this one first ("" is its name in named_modules).
  // Needs this module to be owned by a shared_ptr (as every holder-made module is).
  std::vector<std::shared_ptr<Module>> modules(bool include_self = true);
  OrderedDict<std::string, std::shared_ptr<Module>> named_modules(bool include_self = true);
  // Calls fn on every module of the tree, children first then this one (as PyTorch's apply).
  void apply(const std::function<void(Module&)>& fn);
  // Elements in parameters() (only those requiring grad when trainable_only).
  std::int64_t parameter_count(bool trainable_only = false) const;

  // ---- mode, device, gradients ----
  virtual void train(bool on = true);  // recursive
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves/converts every parameter and buffer in place (handles held elsewhere, e.g. by an
  // optimizer, see the new data). to(dtype) converts floating-point tensors only, as PyTorch.
  void to(Device device);
  void to(DType dtype);
  void to(Device device, DType dtype);
  // Clears (set_to_none) or zeroes the .grad() of every parameter.
  void zero_grad(bool set_to_none = true);

  // ---- state ----
  // Parameters and buffers by dotted name: this module's own first, then each child's.
  StateDict state_dict() const;
  // Copies values in (converting dtype) without recording. Mis-shaped entries always throw; in
  // strict mode missing and unexpected keys throw too. The error lists every problem at once.
  LoadStateDictResult load_state_dict(const StateDict& state, bool strict = true);

  // The module as a concrete type (nullptr if it is not one): list[0]->as<nn::Linear>().
  template <typename T>
  auto* as() {
    if constexpr (detail::is_module_holder<T>::value)
      return dynamic_cast<typename T::ContainedType*>(this);
    else
      return dynamic_cast<T*>(this);
  }

  // One line describing this module alone, e.g. "Linear(in_features=4, out_features=2, bias=true)".
  // Layers override it; operator<< prints the whole tree with children indented.
  virtual void pretty_print(std::ostream& os) const;

 private:
  void add_child(std::string name, std::shared_ptr<Module> module);
  void replace_child(const std::string& name, std::shared_ptr<Module> module);
  void check_name(const char* what, const std::string& name) const;
  void collect(const std::string& prefix, bool params, bool recurse, OrderedDict<std::string, Tensor>& out) const;
  void convert(const std::function<Tensor(const Tensor&)>& fn);

  mutable std::string name_;
  bool training_ = true;
  OrderedDict<std::string, Tensor> parameters_{"Module parameters"};
  OrderedDict<std::string, Tensor> buffers_{"Module buffers"};
  OrderedDict<std::string, std::shared_ptr<Module>> children_{"Module children"};
};

// Prints the module tree, one module per line, as PyTorch does.
std::ostream& operator<<(std::ostream& os, const Module& module);

// A shared handle to a module implementation: `nn::Linear fc(784, 256); fc(x); fc->weight`.
// Copies share the module. A default-constructed holder builds a default Impl when Impl has a
// default constructor; ModuleHolder(nullptr) is empty (for members assigned later).
template <typename Impl>
class ModuleHolder {
 public:
  using ContainedType = Impl;

  ModuleHolder() requires std::is_default_constructible_v<Impl> : impl_(std::make_shared<Impl>()) {}
  ModuleHolder(std::nullptr_t) {}
  ModuleHolder(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  // Constructs the module: nn::Linear(784, 256), nn::Conv2d(nn::Conv2dOptions(1, 8, 3)) ...
  template <typename Head, typename... Tail>
    requires(!std::is_same_v<std::decay_t<Head>, ModuleHolder> &&
             !std::is_same_v<std::decay_t<Head>, std::nullptr_t> &&
             !std::is_same_v<std::decay_t<Head>, std::shared_ptr<Impl>> &&
             std::is_constructible_v<Impl, Head, Tail...>)
  explicit(sizeof...(Tail) == 0) ModuleHolder(Head&& head, Tail&&... tail)
      : impl_(std::make_shared<Impl>(std::forward<Head>(head), std::forward<Tail>(tail)...)) {}

  Impl* operator->() { return checked(); }
  const Impl* operator->() const { return checked(); }
  Impl& operator*() { return *checked(); }
  const Impl& operator*() const { return *checked(); }
  Impl* get() { return checked(); }
  const Impl* get() const { return checked(); }
  const std::shared_ptr<Impl>& ptr() const { return impl_; }
  bool is_empty() const { return impl_ == nullptr; }
  explicit operator bool() const { return impl_ != nullptr; }

  // Calls forward: `model(x)`.
  template <typename... Args>
  decltype(auto) operator()(Args&&... args) {
    return checked()->forward(std::forward<Args>(args)...);
  }

 private:
  Impl* checked() const {
    if (!impl_) throw ValueError("[ModuleHolder] accessing an empty module holder");
    return impl_.get();
  }
  std::shared_ptr<Impl> impl_;
};

template <typename Impl>
std::ostream& operator<<(std::ostream& os, const ModuleHolder<Impl>& m) {
  return os << static_cast<const Module&>(*m);
}

}  // namespace nn
}  // namespace tapeflow

// Declares `Name` as the holder of `NameImpl`, as TORCH_MODULE does.
#define TAPEFLOW_MODULE(Name)                                           \
  class Name : public ::tapeflow::nn::ModuleHolder<Name##Impl> {       \
   public:                                                              \
    using ::tapeflow::nn::ModuleHolder<Name##Impl>::ModuleHolder;      \
  }
