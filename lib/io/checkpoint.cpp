// Checkpoints as safetensors files, tagged with what they hold (see io/checkpoint.hpp).
#include "tapeflow/io/checkpoint.hpp"

#include <map>

#include "tapeflow/io/safetensors.hpp"

namespace tapeflow {
namespace {

constexpr const char* kContentKey = "tapeflow.content";

void save_tagged(const std::string& path, const StateDict& tensors, const char* content) {
  save_safetensors(path, tensors, {{kContentKey, content}});
}

StateDict load_tagged(const std::string& path, const char* content) {
  std::map<std::string, std::string> metadata;
  StateDict tensors = load_safetensors(path, &metadata);
  const auto it = metadata.find(kContentKey);
  // Plain state dicts are generic (as model.state_dict() saved by hand): they load into anything.
  if (it != metadata.end() && it->second != content && it->second != "state_dict")
    fail<IOError>("load", "'", path, "' holds a checkpoint of kind '", it->second, "', not '", content, "'");
  return tensors;
}

}  // namespace

void save(const std::string& path, const nn::Module& module) { save_tagged(path, module.state_dict(), "module"); }

nn::LoadStateDictResult load(const std::string& path, nn::Module& module, bool strict) {
  return module.load_state_dict(load_tagged(path, "module"), strict);
}

void save(const std::string& path, const optim::Optimizer& optimizer) {
  save_tagged(path, optimizer.state_dict(), "optimizer");
}

void load(const std::string& path, optim::Optimizer& optimizer) {
  optimizer.load_state_dict(load_tagged(path, "optimizer"));
}

void save(const std::string& path, const StateDict& tensors) { save_tagged(path, tensors, "state_dict"); }

// Any safetensors file is a map of named tensors, whatever it was saved from.
StateDict load(const std::string& path) { return load_safetensors(path); }

}  // namespace tapeflow
