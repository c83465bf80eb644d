#pragma once
// The umbrella header: everything a user needs.
#include "tapeflow/creation.hpp"
#include "tapeflow/device.hpp"
#include "tapeflow/dtype.hpp"
#include "tapeflow/error.hpp"
#include "tapeflow/autograd.hpp"
#include "tapeflow/autograd_function.hpp"
#include "tapeflow/io/idx.hpp"
#include "tapeflow/io/npy.hpp"
#include "tapeflow/ops/elementwise.hpp"
#include "tapeflow/ops/index.hpp"
#include "tapeflow/ops/linalg.hpp"
#include "tapeflow/ops/nn.hpp"
#include "tapeflow/ops/reduce.hpp"
#include "tapeflow/ops/shape.hpp"
#include "tapeflow/parallel.hpp"
#include "tapeflow/progress.hpp"
#include "tapeflow/random.hpp"
#include "tapeflow/scalar.hpp"
#include "tapeflow/shape.hpp"
#include "tapeflow/tensor.hpp"
#include "tapeflow/ordered_dict.hpp"
#include "tapeflow/state_dict.hpp"
// nn modules
#include "tapeflow/nn/module.hpp"
#include "tapeflow/nn/container.hpp"
// nn layers
// nn init
// losses
#include "tapeflow/nn/reduction.hpp"
#include "tapeflow/nn/loss_options.hpp"
#include "tapeflow/nn/functional/loss.hpp"
#include "tapeflow/nn/loss.hpp"
// optim
#include "tapeflow/optim/optimizer.hpp"
// optimizers
// lr schedulers
#include "tapeflow/optim/lr_scheduler.hpp"
#include "tapeflow/optim/step_schedulers.hpp"
#include "tapeflow/optim/cosine_annealing_lr.hpp"
#include "tapeflow/optim/one_cycle_lr.hpp"
#include "tapeflow/optim/reduce_lr_on_plateau.hpp"
#include "tapeflow/optim/chained.hpp"
