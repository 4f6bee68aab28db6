"""What the benchmark measures: the networks (as framework-free layer lists), their FLOP and weight counts, the
per-op shapes, and the step counts of each run mode. Nothing here imports chainrule or torch.

A network is a list of layer tuples on a (height, width, channels) image:

    ("conv", filters, kernel, padding, activation)   # 'valid' or 'same', stride 1
    ("pool", size)                                   # max pooling, stride == size, 'valid'
    ("flatten",)
    ("dense", units, activation)

FLOPs: a multiply-add is 2 FLOPs; only convolutions and dense layers count (bias, activations, pooling and the loss
are a rounding error). A training step costs ~3x the forward pass (the backward pass is two products per layer: the
input gradient and the weight gradient), so the train FLOPs are ``3 * forward``. The first layer needs no input
gradient, so this slightly overstates the work; it is the usual convention, kept for comparability.
"""
from __future__ import annotations

import math
from collections.abc import Callable

IMAGE = (28, 28, 1)
CLASSES = 10
EPOCH_IMAGES = 60_000  # MNIST's training set: "time per epoch" scales the measured steps to this many images

NETWORKS: dict[str, list[tuple]] = {
    # the seed programs' CNN
    "cnn": [("conv", 32, 3, "valid", "relu"), ("pool", 2), ("flatten",), ("dense", 128, "relu"),
            ("dense", CLASSES, "softmax")],
    # seed 001: four conv + pool blocks with 'same' padding, then dense (28 -> 14 -> 7 -> 3 -> 1 pixels)
    "deep-cnn": [("conv", 32, 3, "same", "relu"), ("pool", 2), ("conv", 64, 3, "same", "relu"), ("pool", 2),
                 ("conv", 128, 3, "same", "relu"), ("pool", 2), ("conv", 256, 3, "same", "relu"), ("pool", 2),
                 ("flatten",), ("dense", CLASSES, "softmax")],
    # the smallest seed network
    "mlp": [("flatten",), ("dense", 10, "relu"), ("dense", CLASSES, "softmax")],
}

# name -> (network, batch size, steps per round in a full run: about a second per round and framework on 2 cores)
TRAINING: dict[str, tuple[str, int, int]] = {
    "cnn-b32": ("cnn", 32, 120),
    "cnn-b128": ("cnn", 128, 40),
    "deep-cnn-b128": ("deep-cnn", 128, 20),
    "mlp-b32": ("mlp", 32, 1000),
}

# seed 003's loop: name -> (network, batch size, steps per round in a full run). Each round is one pass over
# ``Dataset.from_tensor_slices((x, y)).batch(batch)`` with a hand-written ``train_step`` (GradientTape, then
# ``optimizer.apply_gradients``), timed in three chainrule modes next to torch's hand-written loop; fewer steps than
# the CNN's fit row, since a round runs four trainers (0.1-0.4 s each for chainrule on a 2-core machine)
LOOPS: dict[str, tuple[str, int, int]] = {
    "loop-mlp-b32": ("mlp", 32, 1000),
    "loop-cnn-b32": ("cnn", 32, 80),
}
# the chainrule modes of a loop workload, in the order they run: model.fit on the same arrays, the loop as written,
# and the loop with ``train_step`` under ``@tf.function``
LOOP_MODES = ("fit", "eager", "function")
# the project's goals: the mode's time per step at most this many times fit's
LOOP_GOALS = {"eager": 1.5, "function": 1.15}
assert not set(LOOPS) & set(TRAINING), "workload names must be unique"

# name -> (description, kind, shapes given the batch n); shapes are NHWC / (rows, features) as chainrule sees them
# kind "conv": x, kernel (kh, kw, cin, cout), padding, which inputs need a gradient; "conv_pool": the same plus a
# bias, relu and max pooling of window `size` (chainrule: the fused node a Sequential model runs; torch: three ops)
OPS: dict[str, tuple[str, Callable[[int], dict]]] = {
    "conv2d-seed": ("conv2d 3x3 valid 1->32 (seed layer, no input grad)",
                    lambda n: dict(kind="conv", x=(n, 28, 28, 1), kernel=(3, 3, 1, 32), padding="valid",
                                   grad_x=False)),
    "conv2d-same": ("conv2d 3x3 same 32->64 on 14x14",
                    lambda n: dict(kind="conv", x=(n, 14, 14, 32), kernel=(3, 3, 32, 64), padding="same",
                                   grad_x=True)),
    "conv-pool-seed": ("the seed block: conv2d 3x3 1->32 + bias + relu + max-pool 2x2 (no input grad)",
                       lambda n: dict(kind="conv_pool", x=(n, 28, 28, 1), kernel=(3, 3, 1, 32), padding="valid",
                                      grad_x=False, size=2)),
    "max-pool": ("max-pool 2x2 on 26x26x32",
                 lambda n: dict(kind="pool", x=(n, 26, 26, 32), size=2)),
    "dense": ("dense 5408->128 (x @ W + b)",
              lambda n: dict(kind="dense", x=(n, 5408), units=128)),
    "softmax-xent": ("softmax cross-entropy 10 classes",
                     lambda n: dict(kind="xent", logits=(n, CLASSES))),
    # the layers beyond the seed programs: kernels in Keras's layouts (transpose (kh, kw, out, in); depthwise
    # (kh, kw, C, multiplier); conv1d (k, C, F)), inputs channels last
    "conv2d-transpose": ("conv2d_transpose 4x4 stride 2 same 32->16, 14x14 -> 28x28 (the DCGAN generator's layer)",
                         lambda n: dict(kind="conv_transpose", x=(n, 14, 14, 32), kernel=(4, 4, 16, 32))),
    "depthwise-conv2d": ("depthwise_conv2d 3x3 same on 28x28x32 (multiplier 1)",
                         lambda n: dict(kind="depthwise", x=(n, 28, 28, 32), kernel=(3, 3, 32, 1))),
    "conv1d": ("conv1d k=5 same 32->64 on 100 steps",
               lambda n: dict(kind="conv1d", x=(n, 100, 32), kernel=(5, 32, 64))),
    "max-pool1d": ("max_pool1d 2 on 100 steps x 32",
                   lambda n: dict(kind="pool1d", x=(n, 100, 32), size=2)),
    "upsampling2d": ("upsampling nearest 2x2 on 14x14x32",
                     lambda n: dict(kind="upsample", x=(n, 14, 14, 32), size=2)),
}

# run modes: rounds timed (after `warmup` untimed ones), steps = ceil(full steps * step_scale), per-op batch and
# repetitions per round, sgemm size and repeats, and whether each training workload gets its own worker pair
MODES = {
    "full": dict(rounds=7, warmup=1, step_scale=1.0, op_batch=128, op_reps=5, sgemm_n=2048, sgemm_reps=5,
                 fresh_workers=True),
    "quick": dict(rounds=3, warmup=1, step_scale=0.3, op_batch=128, op_reps=3, sgemm_n=2048, sgemm_reps=3,
                  fresh_workers=True),
    "tiny": dict(rounds=1, warmup=0, step_scale=0.0, op_batch=2, op_reps=1, sgemm_n=128, sgemm_reps=1,
                 fresh_workers=False),
}
TINY_STEPS = 2


def steps_for(full_steps: int, step_scale: float) -> int:
    return TINY_STEPS if step_scale <= 0 else max(1, math.ceil(full_steps * step_scale))


def walk(network: list[tuple], image=IMAGE):
    """Yield (layer, input shape, output shape, weights, forward FLOPs per image) for each layer."""
    shape = tuple(image)
    for layer in network:
        kind = layer[0]
        if kind == "conv":
            _, filters, k, padding, _ = layer
            h, w, c = shape
            out = (h, w, filters) if padding == "same" else (h - k + 1, w - k + 1, filters)
            yield layer, shape, out, k * k * c * filters + filters, 2 * out[0] * out[1] * k * k * c * filters
        elif kind == "pool":
            size = layer[1]
            out = (shape[0] // size, shape[1] // size, shape[2])
            yield layer, shape, out, 0, 0
        elif kind == "flatten":
            out = (math.prod(shape),)
            yield layer, shape, out, 0, 0
        elif kind == "dense":
            units = layer[1]
            out = (units,)
            yield layer, shape, out, shape[0] * units + units, 2 * shape[0] * units
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        shape = out


def count_params(network: list[tuple]) -> int:
    return sum(params for *_, params, _ in walk(network))


def forward_flops(network: list[tuple]) -> int:
    """Forward FLOPs for one image."""
    return sum(flops for *_, flops in walk(network))


def train_gflop_per_epoch(network: list[tuple]) -> float:
    """Training GFLOP for EPOCH_IMAGES images (3x forward); the seed CNN is ~320."""
    return 3 * forward_flops(network) * EPOCH_IMAGES / 1e9
