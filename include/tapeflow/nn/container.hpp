#pragma once
// Containers: Sequential (runs its children in order), ModuleList and ModuleDict (hold
// children so that their parameters are registered, without a forward of their own), and
// Functional (wraps a plain function as a module, e.g. to put `relu` or a reshape in a
// Sequential).
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapeflow/nn/module.hpp"

namespace tapeflow::nn {

namespace detail {
// The typed shared_ptr inside a holder (nn::Linear -> shared_ptr<LinearImpl>) or a shared_ptr itself.
template <typename M>
auto typed_module_ptr(M&& m) {
  using D = std::decay_t<M>;
  if constexpr (requires { typename D::ContainedType; }) {
    return m.ptr();
  } else {
    static_assert(std::is_base_of_v<Module, typename D::element_type>, "containers hold nn::Modules");
    return std::shared_ptr<typename D::element_type>(m);
  }
}
template <typename M>
concept ModuleHandle = requires { typename std::decay_t<M>::ContainedType; } ||
                       requires { typename std::decay_t<M>::element_type; };
}  // namespace detail

// A module that calls a function: Functional(relu), Functional([](const Tensor& x) { ... }).
class FunctionalImpl : public Module {
 public:
  using Function = std::function<Tensor(const Tensor&)>;
  explicit FunctionalImpl(Function fn);
  Tensor forward(const Tensor& x) { return fn_(x); }

 private:
  Function fn_;
};
TAPEFLOW_MODULE(Functional);

// Runs its children in insertion order, each one's output feeding the next. Children are named
// "0", "1", ... unless given names. Every child needs a `Tensor forward(const Tensor&)`.
class SequentialImpl : public Module {
 public:
  SequentialImpl() = default;
  template <typename... Modules>
    requires(sizeof...(Modules) > 0)
  explicit SequentialImpl(Modules&&... modules) {
    (push_back(std::forward<Modules>(modules)), ...);
  }
  // Named children, in order: Sequential({{"fc", nn::Linear(2, 3)}, {"act", nn::ReLU()}}).
  template <detail::ModuleHandle M>
  void push_back(M&& module) {
    push_back(std::to_string(size()), std::forward<M>(module));
  }
  template <detail::ModuleHandle M>
  void push_back(std::string name, M&& module) {
    auto typed = detail::typed_module_ptr(std::forward<M>(module));
    auto* impl = typed.get();
    add(std::move(name), std::move(typed), [impl](const Tensor& x) { return impl->forward(x); });
  }
  // A plain function as a step (wrapped in a Functional child).
  void push_back(Functional::ContainedType::Function fn) { push_back(Functional(std::move(fn))); }

  Tensor forward(const Tensor& x);
  std::size_t size() const { return steps_.size(); }
  bool is_empty() const { return steps_.empty(); }
  std::shared_ptr<Module> operator[](std::size_t i) const;
  std::shared_ptr<Module> ptr(std::size_t i) const { return (*this)[i]; }
  template <typename M>
  auto* at(std::size_t i) const { return (*this)[i]->template as<M>(); }

 private:
  void add(std::string name, std::shared_ptr<Module> module, std::function<Tensor(const Tensor&)> step);
  void pretty_print(std::ostream& os) const override;

  std::vector<std::shared_ptr<Module>> modules_;
  std::vector<std::function<Tensor(const Tensor&)>> steps_;
};
TAPEFLOW_MODULE(Sequential);

// Holds modules by position; they are registered as children "0", "1", ...
class ModuleListImpl : public Module {
 public:
  ModuleListImpl() = default;
  template <typename... Modules>
    requires(sizeof...(Modules) > 0)
  explicit ModuleListImpl(Modules&&... modules) {
    (push_back(std::forward<Modules>(modules)), ...);
  }
  template <detail::ModuleHandle M>
  void push_back(M&& module) {
    append(detail::typed_module_ptr(std::forward<M>(module)));
  }
  std::size_t size() const { return modules_.size(); }
  bool is_empty() const { return modules_.empty(); }
  std::shared_ptr<Module> operator[](std::size_t i) const;
  template <typename M>
  auto* at(std::size_t i) const { return (*this)[i]->template as<M>(); }
  auto begin() const { return modules_.begin(); }
  auto end() const { return modules_.end(); }

 private:
  void append(std::shared_ptr<Module> module);
  std::vector<std::shared_ptr<Module>> modules_;
};
TAPEFLOW_MODULE(ModuleList);

// Holds modules by name (insertion order kept).
class ModuleDictImpl : public Module {
 public:
  ModuleDictImpl() = default;
  template <detail::ModuleHandle M>
  void insert(std::string key, M&& module) {
    add(std::move(key), detail::typed_module_ptr(std::forward<M>(module)));
  }
  std::size_t size() const { return named_children().size(); }
  bool is_empty() const { return size() == 0; }
  bool contains(const std::string& key) const { return named_children().contains(key); }
  std::vector<std::string> keys() const { return named_children().keys(); }
  std::vector<std::shared_ptr<Module>> values() const { return children(); }
  std::shared_ptr<Module> operator[](const std::string& key) const;
  template <typename M>
  auto* at(const std::string& key) const { return (*this)[key]->template as<M>(); }

 private:
  void add(std::string key, std::shared_ptr<Module> module);
};
TAPEFLOW_MODULE(ModuleDict);

}  // namespace tapeflow::nn
