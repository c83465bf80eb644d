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
// optim
#include "tapeflow/optim/optimizer.hpp"
// optimizers
#include "tapeflow/optim/adagrad.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/adamw.hpp"
#include "tapeflow/optim/clip_grad.hpp"
#include "tapeflow/optim/regularization.hpp"
#include "tapeflow/optim/rmsprop.hpp"
#include "tapeflow/optim/sgd.hpp"
// lr schedulers
