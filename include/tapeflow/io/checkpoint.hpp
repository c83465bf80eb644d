#pragma once
// Checkpoints: modules, optimizer state and plain named tensors saved as safetensors files
// (see io/safetensors.hpp), so that Python's safetensors, NumPy and PyTorch can read them.
// As torch::save / torch::load, but in the safetensors format instead of TorchScript archives.
// Saves are atomic: a failed save leaves any previous file at path intact.
// Each file records what it holds in the metadata key "tapeflow.content" ("module",
// "optimizer" or "state_dict"); loading a module from an optimizer's file (or the reverse)
// throws IOError. Files without that key (e.g. written by Python) or saved from a plain
// StateDict load into anything, and load(path) reads any safetensors file.
#include <string>

#include "tapeflow/nn/module.hpp"
#include "tapeflow/optim/optimizer.hpp"
#include "tapeflow/state_dict.hpp"

namespace tapeflow {

// module.state_dict(): parameters and buffers by dotted name.
void save(const std::string& path, const nn::Module& module);
// module.load_state_dict(tensors, strict): values are copied in (dtype converted).
nn::LoadStateDictResult load(const std::string& path, nn::Module& module, bool strict = true);

// optimizer.state_dict(): step counts, moments, options as flat named tensors.
void save(const std::string& path, const optim::Optimizer& optimizer);
void load(const std::string& path, optim::Optimizer& optimizer);

// Through a module's holder: tapeflow::save("net.safetensors", model) with `Net model;`.
template <typename Impl>
void save(const std::string& path, const nn::ModuleHolder<Impl>& module) {
  save(path, static_cast<const nn::Module&>(*module));
}
template <typename Impl>
nn::LoadStateDictResult load(const std::string& path, nn::ModuleHolder<Impl>& module, bool strict = true) {
  return load(path, static_cast<nn::Module&>(*module), strict);
}

// Plain named tensors (the names and order are kept).
void save(const std::string& path, const StateDict& tensors);
StateDict load(const std::string& path);

}  // namespace tapeflow
