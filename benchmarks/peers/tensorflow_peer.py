#!/usr/bin/env python3
"""TensorFlow peer of tapeflow's benchmarks (workloads and layout differences: cases.md).

Run: ${TAPEFLOW_PEERS_DIR:-/opt/tapeflow-peers}/tf/bin/python benchmarks/peers/tensorflow_peer.py \
         --suite SUITE --threads N [--quick] [--case ID ...]
Eager by default; the training cases also come as `<id>:graph` (the step in a tf.function,
traced during the warm-up call).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before the import: quiet TF's C++ logs

import peer_protocol
from peer_protocol import GRAPH_SUFFIX, SUITES, Unsupported

LIBRARY = "tensorflow"
SEED = 0
ELEMENTWISE_N = 16 * 2**20
# Imported in main(), so that a missing numpy or library yields a MISSING line.
np = None
rng = None  # data generator, reseeded before every case (reseed)
tf = None
keras = None


def graph_ids(suite):
    return [case + GRAPH_SUFFIX for case in SUITES[suite]] if suite == "training" else []


def reseed():
    """Each case draws its inputs, in creation order, from default_rng(SEED): the same numbers
    in both peers whatever cases ran before."""
    global rng
    rng = np.random.default_rng(SEED)


def uniform_array(*shape):
    """float32 uniform in [-1, 1), the same numbers as in pytorch_peer.py."""
    return rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def uniform(*shape):
    return tf.constant(uniform_array(*shape))


def variable(*shape):
    return tf.Variable(uniform_array(*shape))


def labels(batch, classes):
    return tf.constant(
        np.random.default_rng(SEED + 1).integers(0, classes, size=batch, dtype=np.int64))


def unsupported(reason):
    def build():
        raise Unsupported(reason)
    return build


# ---- overhead ---------------------------------------------------------------------------------

def add_case(n, recorded):
    def build():
        if not recorded:
            a, b = uniform(n), uniform(n)
            return lambda: a + b
        a, b = variable(n), variable(n)
        # One tape per timed sample records every call of the sample (see cases.md).
        return (lambda: a + b), tf.GradientTape
    return build


def tiny_fwd_bwd():
    a, b = variable(1), variable(1)

    def step():
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(a * b + a)
        return tape.gradient(y, [a, b])
    return step


def optimizer_step(make_optimizer):
    def build():
        params = [variable(64) for _ in range(100)]
        grads = [tf.constant(np.random.default_rng(SEED + 2 + i).uniform(-1, 1, 64)
                             .astype(np.float32)) for i in range(100)]
        opt = make_optimizer()
        return lambda: opt.apply_gradients(zip(grads, params))
    return build


# ---- elementwise ------------------------------------------------------------------------------

def elementwise(kind):
    def build():
        n = ELEMENTWISE_N
        if kind == "add_inplace":
            a, b = variable(n), uniform(n)
            return lambda: a.assign_add(b, read_value=False)
        a, b = uniform(n), uniform(n)
        return {
            "add": lambda: a + b,
            "mul": lambda: a * b,
            "relu": lambda: tf.nn.relu(a),
            "exp": lambda: tf.exp(a),
            "sum": lambda: tf.reduce_sum(a),  # eager CPU ops are synchronous: no host copy
        }[kind]
    return build


def matmul(n):
    def build():
        a, b = uniform(n, n), uniform(n, n)
        return lambda: tf.matmul(a, b)
    return build


def matmul_transposed(n):
    a, b = uniform(n, n), uniform(n, n)
    return lambda: tf.matmul(a, b, transpose_b=True)


# ---- layers -----------------------------------------------------------------------------------

def conv2d():
    # TF's CPU conv2d wants NHWC input and an HWIO kernel: same sizes and FLOPs as NCHW.
    x, k, bias = uniform(32, 28, 28, 64), uniform(3, 3, 64, 64), uniform(64)
    return lambda: tf.nn.bias_add(tf.nn.conv2d(x, k, strides=1, padding="SAME"), bias)


def softmax():
    x = uniform(256, 1000)
    return lambda: tf.nn.softmax(x, axis=-1)


def cross_entropy_loss(logits, target):
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logits))


def cross_entropy():
    logits, target = uniform(256, 1000), labels(256, 1000)
    return lambda: cross_entropy_loss(logits, target)


def cross_entropy_fwd_bwd():
    logits, target = variable(256, 1000), labels(256, 1000)

    def step():
        with tf.GradientTape() as tape:
            loss = cross_entropy_loss(logits, target)
        return tape.gradient(loss, logits)
    return step


def layer_norm():
    x = uniform(256, 1024)
    layer = keras.layers.LayerNormalization(epsilon=1e-5)  # affine gamma and beta
    layer.build(x.shape)
    return lambda: layer(x)


# ---- training ---------------------------------------------------------------------------------

def train_step(make_model, input_shape, make_optimizer, graph):
    def build():
        keras.utils.set_random_seed(SEED)
        model = make_model()
        opt = make_optimizer()
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)  # batch mean
        x, y = uniform(*input_shape), labels(input_shape[0], 10)

        def step():
            with tf.GradientTape() as tape:
                loss = loss_fn(y, model(x, training=True))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return tf.function(step) if graph else step
    return build


def mlp():
    layers = keras.layers
    return keras.Sequential([keras.Input((784,)), layers.Dense(256), layers.ReLU(),
                             layers.Dense(10)])


def cnn():
    layers = keras.layers
    return keras.Sequential([keras.Input((28, 28, 1)),
                             layers.Conv2D(8, 3), layers.ReLU(), layers.MaxPooling2D(2),
                             layers.Conv2D(16, 3), layers.ReLU(), layers.MaxPooling2D(2),
                             layers.Flatten(), layers.Dense(10)])


def adam():
    return keras.optimizers.Adam(1e-3)


def sgd():
    return keras.optimizers.SGD(0.01, momentum=0.9)


def builders():
    table = {
        "add_1": add_case(1, False), "add_64": add_case(64, False),
        "add_1_recorded": add_case(1, True), "add_64_recorded": add_case(64, True),
        "tiny_fwd_bwd": tiny_fwd_bwd,
        "adam_step_100": optimizer_step(adam), "sgd_step_100": optimizer_step(sgd),
        "conv2d": conv2d, "softmax": softmax, "cross_entropy": cross_entropy,
        "cross_entropy_fwd_bwd": cross_entropy_fwd_bwd, "layer_norm": layer_norm,
        "mul_inplace": unsupported("tf.Variable has no in-place multiply (no assign_mul)"),
        "relu_inplace": unsupported("TensorFlow has no in-place relu"),
        "exp_out": unsupported("TensorFlow ops cannot write into an existing tensor"),
    }
    table.update({kind: elementwise(kind) for kind in ("add", "add_inplace", "mul", "relu",
                                                       "exp", "sum")})
    table.update({f"mm_{n}": matmul(n) for n in (64, 128, 256, 512, 1024, 2048)})
    table["mm_1024_bt"] = lambda: matmul_transposed(1024)
    table["mm_64_out"] = unsupported("TensorFlow ops cannot write into an existing tensor")
    training = {"mlp_adam_32": (mlp, (32, 784), adam), "mlp_adam_256": (mlp, (256, 784), adam),
                "cnn_sgd_64": (cnn, (64, 28, 28, 1), sgd)}
    for case, (model, shape, optimizer) in training.items():
        table[case] = train_step(model, shape, optimizer, graph=False)
        table[case + GRAPH_SUFFIX] = train_step(model, shape, optimizer, graph=True)
    return table


def main():
    global np, tf, keras
    args = peer_protocol.parse_args(LIBRARY, graph_ids)
    report = peer_protocol.Reporter()
    try:
        import numpy
        import tensorflow as imported
    except Exception as error:  # ImportError, or a broken install failing while loading
        report.missing(LIBRARY, error)
        return 0
    np, tf = numpy, imported
    # Before any op: TF refuses to change these once its runtime is initialised.
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.set_visible_devices([], "GPU")  # CPU only, like the other peers
    keras = tf.keras
    tf.random.set_seed(SEED)
    report.line("VERSION", LIBRARY, f"{tf.__version__} (keras {keras.__version__})")
    status = report.run(args.case, builders(), args.quick, LIBRARY, reseed)
    print(f"[{LIBRARY}] threads: intra_op={tf.config.threading.get_intra_op_parallelism_threads()}"
          f" inter_op={tf.config.threading.get_inter_op_parallelism_threads()}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
