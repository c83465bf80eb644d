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
#include "tapeflow/nn/options.hpp"
#include "tapeflow/nn/linear.hpp"
#include "tapeflow/nn/conv.hpp"
#include "tapeflow/nn/pooling.hpp"
#include "tapeflow/nn/normalization.hpp"
#include "tapeflow/nn/dropout.hpp"
#include "tapeflow/nn/embedding.hpp"
#include "tapeflow/nn/activation.hpp"
#include "tapeflow/nn/flatten.hpp"
// nn init
#include "tapeflow/nn/init.hpp"
// losses
// optim
#include "tapeflow/optim/optimizer.hpp"
// optimizers
// lr schedulers
