// Sequential, ModuleList, ModuleDict and Functional.
#include "tapeflow/nn/container.hpp"

#include <ostream>

namespace tapeflow::nn {

FunctionalImpl::FunctionalImpl(Function fn) : Module("Functional"), fn_(std::move(fn)) {
  if (!fn_) fail<ValueError>("Functional", "empty function");
}

void SequentialImpl::add(std::string name, std::shared_ptr<Module> module,
                         std::function<Tensor(const Tensor&)> step) {
  register_module(std::move(name), module);
  modules_.push_back(std::move(module));
  steps_.push_back(std::move(step));
}

Tensor SequentialImpl::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& step : steps_) y = step(y);
  return y;
}

std::shared_ptr<Module> SequentialImpl::operator[](std::size_t i) const {
  if (i >= modules_.size())
    fail<IndexError>("Sequential", "index ", i, " out of range for ", modules_.size(), " modules");
  return modules_[i];
}

void SequentialImpl::pretty_print(std::ostream& os) const { os << "Sequential"; }

void ModuleListImpl::append(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

std::shared_ptr<Module> ModuleListImpl::operator[](std::size_t i) const {
  if (i >= modules_.size())
    fail<IndexError>("ModuleList", "index ", i, " out of range for ", modules_.size(), " modules");
  return modules_[i];
}

void ModuleDictImpl::add(std::string key, std::shared_ptr<Module> module) {
  register_module(std::move(key), std::move(module));
}

std::shared_ptr<Module> ModuleDictImpl::operator[](const std::string& key) const {
  const auto children = named_children();
  if (const auto* m = children.find(key)) return *m;
  fail<ValueError>("ModuleDict", "no module named '", key, "' (keys: ", children.size(), ")");
}

}  // namespace tapeflow::nn
