// Gradient checkpointing: the forward runs without recording; one tape entry stands for the
// whole segment, and its backward replays the segment with recording on (same random numbers:
// the default generator's state is saved and replayed), then differentiates the replay.
#include "autograd/engine.hpp"
#include "tapeflow/random.hpp"

namespace tapeflow {
namespace {
const bool registered = autograd::register_ops({"checkpoint"});
}

std::vector<Tensor> checkpoint(const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& fn,
                               const std::vector<Tensor>& inputs) {
  if (!autograd::should_record_list(inputs)) return fn(inputs);
  const Generator::Reservation rng = default_generator().get_state();
  std::vector<Tensor> outputs;
  {
    NoGradGuard no_grad;
    outputs = fn(inputs);
  }
  std::vector<Tensor> differentiable;
  for (const Tensor& o : outputs)
    if (o.defined() && o.is_floating_point()) differentiable.push_back(o);
  if (differentiable.empty()) return outputs;

  autograd::record("checkpoint", inputs, differentiable, [fn, inputs, rng](const autograd::BackwardArgs& a) {
    // Replay the segment on detached copies of the inputs, with recording on.
    std::vector<Tensor> replay_inputs;
    std::vector<Tensor> sources;
    std::vector<std::size_t> source_pos;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      Tensor d = inputs[i].detach();
      if (a.needs(i)) {
        d.requires_grad_(true);
        sources.push_back(d);
        source_pos.push_back(i);
      }
      replay_inputs.push_back(d);
    }
    const std::uint64_t start = autograd::tape().next_seq;
    std::vector<Tensor> replayed;
    {
      EnableGradGuard grad_on;
      const Generator::Reservation now = default_generator().get_state();
      default_generator().set_state(rng);
      replayed = fn(replay_inputs);
      default_generator().set_state(now);
    }
    std::vector<Tensor> roots, seeds;
    std::size_t k = 0;
    for (const Tensor& o : replayed) {
      if (!o.defined() || !o.is_floating_point()) continue;
      if (k < a.grad_outputs.size() && a.grad_outputs[k].defined() && autograd::tracked(o)) {
        roots.push_back(o);
        seeds.push_back(a.grad_outputs[k]);
      }
      ++k;
    }
    autograd::Grads grads(inputs.size());
    if (roots.empty() || sources.empty()) return grads;
    autograd::BackwardRequest r;
    r.roots = roots;
    r.root_grads = seeds;
    r.create_graph = GradMode::is_enabled();  // the outer backward's create_graph
    r.retain_graph = false;
    r.sources = &sources;
    r.min_seq = start;
    r.api = "checkpoint";
    std::vector<Tensor> g = autograd::run_backward(r);
    for (std::size_t i = 0; i < source_pos.size(); ++i) grads[source_pos[i]] = g[i];
    return grads;
  });
  return outputs;
}

}  // namespace tapeflow
