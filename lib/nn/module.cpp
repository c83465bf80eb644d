// nn::Module: registration, traversal with dotted names, mode/device, state dicts, printing.
#include "tapeflow/nn/module.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <ostream>
#include <sstream>
#include <typeinfo>

#include "tapeflow/autograd.hpp"

namespace tapeflow::nn {
namespace {

// "tapeflow::nn::LinearImpl" -> "Linear"; "(anonymous namespace)::NetImpl" -> "Net".
std::string class_name(const std::type_info& type) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = status == 0 && demangled ? demangled : type.name();
  std::free(demangled);
  if (auto colon = name.rfind("::"); colon != std::string::npos) name = name.substr(colon + 2);
  if (name.size() > 4 && name.ends_with("Impl")) name.resize(name.size() - 4);
  return name;
}

std::string join(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return name.empty() ? prefix : prefix + "." + name;
}

void print_tree(std::ostream& os, const Module& m, int indent) {
  m.pretty_print(os);
  const auto children = m.named_children();
  if (children.is_empty()) return;
  os << "(\n";
  for (const auto& child : children) {
    os << std::string(static_cast<std::size_t>(indent + 2), ' ') << "(" << child.key() << "): ";
    print_tree(os, *child.value(), indent + 2);
    os << "\n";
  }
  os << std::string(static_cast<std::size_t>(indent), ' ') << ")";
}

}  // namespace

Module::Module(std::string name) : name_(std::move(name)) {}

const std::string& Module::name() const {
  if (name_.empty()) name_ = class_name(typeid(*this));
  return name_;
}

void Module::check_name(const char* what, const std::string& name) const {
  if (name.empty()) fail<ValueError>(what, "empty name in module ", this->name());
  if (name.find('.') != std::string::npos)
    fail<ValueError>(what, "name '", name, "' contains '.' (dots separate nesting levels)");
  if (parameters_.contains(name) || buffers_.contains(name) || children_.contains(name))
    fail<ValueError>(what, "'", name, "' is already registered in module ", this->name());
}

Tensor& Module::register_parameter(std::string name, Tensor tensor, bool requires_grad) {
  check_name("register_parameter", name);
  if (tensor.defined()) {
    if (requires_grad && !tensor.is_floating_point())
      fail<DTypeError>("register_parameter", "parameter '", name, "' of dtype ", dtype_name(tensor.dtype()),
                       " cannot require grad (floating-point only)");
    // A parameter is a leaf: cut any history the initial value came with.
    if (!tensor.is_leaf()) tensor = tensor.detach();
    tensor.requires_grad_(requires_grad);
  }
  return parameters_.insert(std::move(name), std::move(tensor));
}

Tensor& Module::register_buffer(std::string name, Tensor tensor) {
  check_name("register_buffer", name);
  if (tensor.defined() && !tensor.is_leaf()) tensor = tensor.detach();
  return buffers_.insert(std::move(name), std::move(tensor));
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
  check_name("register_module", name);
  if (!module) fail<ValueError>("register_module", "submodule '", name, "' is empty (nullptr)");
  children_.insert(std::move(name), std::move(module));
}

void Module::replace_child(const std::string& name, std::shared_ptr<Module> module) {
  auto* slot = children_.find(name);
  if (!slot) fail<ValueError>("replace_module", "no submodule '", name, "' in module ", this->name());
  if (!module) fail<ValueError>("replace_module", "submodule '", name, "' is empty (nullptr)");
  *slot = std::move(module);
}

void Module::collect(const std::string& prefix, bool params, bool recurse,
                     OrderedDict<std::string, Tensor>& out) const {
  for (const auto& item : params ? parameters_ : buffers_)
    if (item.value().defined()) out.insert(join(prefix, item.key()), item.value());
  if (!recurse) return;
  for (const auto& child : children_) child.value()->collect(join(prefix, child.key()), params, true, out);
}

OrderedDict<std::string, Tensor> Module::named_parameters(bool recurse) const {
  OrderedDict<std::string, Tensor> out("named_parameters");
  collect("", true, recurse, out);
  return out;
}

OrderedDict<std::string, Tensor> Module::named_buffers(bool recurse) const {
  OrderedDict<std::string, Tensor> out("named_buffers");
  collect("", false, recurse, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const { return named_parameters(recurse).values(); }
std::vector<Tensor> Module::buffers(bool recurse) const { return named_buffers(recurse).values(); }

std::vector<std::shared_ptr<Module>> Module::children() const { return children_.values(); }
OrderedDict<std::string, std::shared_ptr<Module>> Module::named_children() const { return children_; }

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_modules(bool include_self) {
  OrderedDict<std::string, std::shared_ptr<Module>> out("named_modules");
  if (include_self) {
    std::shared_ptr<Module> self = weak_from_this().lock();
    if (!self)
      fail<ValueError>("named_modules", "module ", name(),
                       " is not owned by a shared_ptr (create it through its holder or std::make_shared)");
    out.insert("", std::move(self));
  }
  for (const auto& child : children_)
    for (const auto& sub : child.value()->named_modules(true)) out.insert(join(child.key(), sub.key()), sub.value());
  return out;
}

std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) {
  return named_modules(include_self).values();
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (const auto& child : children_) child.value()->apply(fn);
  fn(*this);
}

std::int64_t Module::parameter_count(bool trainable_only) const {
  std::int64_t n = 0;
  for (const Tensor& p : parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (const auto& child : children_) child.value()->train(on);
}

void Module::convert(const std::function<Tensor(const Tensor&)>& fn) {
  NoGradGuard no_grad;
  for (auto* dict : {&parameters_, &buffers_})
    for (auto& item : *dict) {
      Tensor& t = item.value();
      if (!t.defined()) continue;
      Tensor grad = t.grad();
      t.set_data(fn(t));
      if (grad.defined()) t.set_grad(fn(grad));
    }
  for (const auto& child : children_) child.value()->convert(fn);
}

void Module::to(Device device) {
  convert([device](const Tensor& t) { return t.to(device); });
}

void Module::to(DType dtype) {
  if (!is_floating_point(dtype))
    fail<DTypeError>("Module::to", "modules convert to floating-point dtypes only, got ", dtype_name(dtype));
  convert([dtype](const Tensor& t) { return t.is_floating_point() ? t.to(dtype) : t; });
}

void Module::to(Device device, DType dtype) {
  to(dtype);
  to(device);
}

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const Tensor& p : parameters()) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none)
      p.set_grad(Tensor());
    else
      g.zero_();
  }
}

StateDict Module::state_dict() const {
  StateDict out("state_dict");
  std::function<void(const Module&, const std::string&)> walk = [&](const Module& m, const std::string& prefix) {
    for (const auto* dict : {&m.parameters_, &m.buffers_})
      for (const auto& item : *dict)
        if (item.value().defined()) out.insert(join(prefix, item.key()), item.value());
    for (const auto& child : m.children_) walk(*child.value(), join(prefix, child.key()));
  };
  walk(*this, "");
  return out;
}

LoadStateDictResult Module::load_state_dict(const StateDict& state, bool strict) {
  const StateDict own = state_dict();
  LoadStateDictResult result;
  std::vector<std::string> mis_shaped;
  for (const auto& item : own) {
    const Tensor* src = state.find(item.key());
    if (!src) {
      result.missing_keys.push_back(item.key());
      continue;
    }
    if (!src->defined() || !(src->shape() == item.value().shape())) {
      std::ostringstream os;
      os << item.key() << ": expected shape " << item.value().shape() << ", got "
         << (src->defined() ? tapeflow::detail::cat_str(src->shape()) : std::string("an undefined tensor"));
      mis_shaped.push_back(os.str());
    }
  }
  for (const auto& item : state)
    if (!own.contains(item.key())) result.unexpected_keys.push_back(item.key());

  const bool key_problems = strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty());
  if (!mis_shaped.empty() || key_problems) {
    std::ostringstream os;
    os << "[load_state_dict] error(s) loading the state dict of " << name() << ":";
    for (const auto& m : mis_shaped) os << "\n  size mismatch for " << m;
    if (strict) {
      for (const auto& k : result.missing_keys) os << "\n  missing key: " << k;
      for (const auto& k : result.unexpected_keys) os << "\n  unexpected key: " << k;
    }
    throw ValueError(os.str());
  }
  NoGradGuard no_grad;
  for (const auto& item : own)
    if (const Tensor* src = state.find(item.key())) {
      Tensor dst = item.value();
      dst.copy_(src->to(dst.device()));
    }
  return result;
}

void Module::pretty_print(std::ostream& os) const { os << name(); }

std::ostream& operator<<(std::ostream& os, const Module& module) {
  print_tree(os, module, 0);
  return os;
}

}  // namespace tapeflow::nn
