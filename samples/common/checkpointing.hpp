#pragma once
// Everything a resumed run needs to continue exactly where it stopped: the model, the
// optimizer, the LR scheduler, the number of finished epochs and the random generator's state
// (which decides the data order and dropout masks). Saved after each epoch as safetensors files
// in one folder: model.safetensors (loadable by PyTorch, see samples/load_in_pytorch.py),
// optimizer.safetensors and trainer.safetensors. Uses only tapeflow's public headers.
#include <bit>
#include <cstdint>
#include <filesystem>
#include <string>

#include "tapeflow/tapeflow.hpp"

namespace samples {

namespace tf = tapeflow;

template <typename Model>
void save_training_state(const std::string& dir, Model& model, const tf::optim::Optimizer& optimizer,
                         const tf::optim::LRScheduler* scheduler, std::int64_t finished_epochs) {
  std::filesystem::create_directories(dir);
  tf::save(dir + "/model.safetensors", model);
  tf::save(dir + "/optimizer.safetensors", optimizer);
  tf::StateDict trainer;
  const auto rng = tf::default_generator().get_state();
  trainer.insert("epoch", tf::scalar_tensor(finished_epochs, tf::kInt64));
  trainer.insert("rng.seed", tf::scalar_tensor(std::bit_cast<std::int64_t>(rng.seed), tf::kInt64));
  trainer.insert("rng.offset", tf::scalar_tensor(std::bit_cast<std::int64_t>(rng.offset), tf::kInt64));
  if (scheduler)
    for (const auto& item : scheduler->state_dict()) trainer.insert("scheduler." + item.key(), item.value());
  tf::save(dir + "/trainer.safetensors", trainer);
}

// Restores what save_training_state wrote; returns the number of finished epochs.
template <typename Model>
std::int64_t load_training_state(const std::string& dir, Model& model, tf::optim::Optimizer& optimizer,
                                 tf::optim::LRScheduler* scheduler) {
  tf::load(dir + "/model.safetensors", model);
  tf::load(dir + "/optimizer.safetensors", optimizer);
  const tf::StateDict trainer = tf::load(dir + "/trainer.safetensors");
  tf::StateDict scheduler_state;
  for (const auto& item : trainer)
    if (item.key().starts_with("scheduler.")) scheduler_state.insert(item.key().substr(10), item.value());
  if (scheduler) scheduler->load_state_dict(scheduler_state);
  tf::default_generator().set_state({std::bit_cast<std::uint64_t>(trainer["rng.seed"].item<std::int64_t>()),
                                     std::bit_cast<std::uint64_t>(trainer["rng.offset"].item<std::int64_t>())});
  return trainer["epoch"].item<std::int64_t>();
}

}  // namespace samples
