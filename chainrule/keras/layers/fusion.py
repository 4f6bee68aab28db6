"""Which consecutive layers a model runs as one node: :func:`rewrite`, the one pass over a built model's plan
(chainrule/keras/graph.py; Sequential and functional models alike) that pairs a step with the only step reading its
output when the two layers fuse.

``Conv2D(..., activation='relu')`` followed by ``MaxPooling2D`` (the seeds' CNN block) runs as the single op
``Conv2DReluMaxPool`` (chainrule/ops/conv_pool.py): same values, a fraction of the memory traffic. Only the exact
built-in classes fuse, with nothing observing the output in between (no activity regularizer, no subclass call), and
only on concrete tensors; everything else runs layer by layer.

>>> import numpy as np
>>> from chainrule.keras.layers import Conv2D, MaxPooling2D
>>> conv, pool = Conv2D(4, 3, activation="relu"), MaxPooling2D()
>>> x = np.random.default_rng(0).random((2, 8, 8, 1), "float32")
>>> fused = run_conv_max_pool(conv, pool, x)
>>> bool(np.array_equal(fused.numpy(), pool(conv(x)).numpy()))
True
"""
from __future__ import annotations

from chainrule.keras.layers.base import Layer
from chainrule.keras.layers.conv import Conv2D, conv_output_length
from chainrule.keras.layers.pool import MaxPooling2D
from chainrule.ops.conv_pool import Conv2DReluMaxPool
from chainrule.engine.tensor import Tensor


def rewrite(steps: list, keep: set[int]) -> list:
    """The plan ``steps`` with each fusable pair (a plain one-input call whose output only the next layer of the pair
    reads, and which is not a model output: slots in ``keep``) replaced by one :class:`FusedConvMaxPool` step."""
    readers: dict[int, list] = {}
    for step in steps:
        for s in step.reads:
            readers.setdefault(s, []).append(step)
    fused_followers: set[int] = set()
    plan = []
    for step in steps:
        if id(step) in fused_followers:
            continue
        follower = _only_reader(step, readers, keep)
        if follower is not None and layers_fuse(step.layer, follower.layer):
            plan.append(FusedConvMaxPool(step, follower))
            fused_followers.add(id(follower))
        else:
            plan.append(step)
    return plan


def _only_reader(step, readers: dict, keep: set[int]):
    """The one plain step (``layer(x)``, one output) that reads ``step``'s output, when ``step`` is plain too."""
    if not _plain(step) or step.outs[0] in keep:
        return None
    users = readers.get(step.outs[0], [])
    return users[0] if len(users) == 1 and _plain(users[0]) else None


def _plain(step) -> bool:
    return step.single is not None and len(step.outs) == 1


class FusedConvMaxPool:
    """A plan step for Conv2D(relu) then MaxPooling2D: one Conv2DReluMaxPool node when :func:`fuses_with_next`
    holds for the input, else the two layer steps one after the other."""

    __slots__ = ("conv", "pool", "layer", "reads", "outs", "single")

    def __init__(self, conv_step, pool_step):
        self.conv, self.pool = conv_step, pool_step
        self.layer, self.reads, self.single = conv_step.layer, conv_step.reads, conv_step.single
        self.outs = pool_step.outs

    def run(self, values: list, training: bool) -> None:
        x = values[self.single]
        if fuses_with_next(self.conv.layer, self.pool.layer, x):
            values[self.outs[0]] = run_conv_max_pool(self.conv.layer, self.pool.layer, x)
        else:
            self.conv.run(values, training)
            self.pool.run(values, training)


def layers_fuse(layer: Layer, following: Layer) -> bool:
    """Whether ``layer`` then ``following`` are a pair that runs as one node (on 4-D tensors the pool fits)."""
    return (type(layer) is Conv2D and type(following) is MaxPooling2D and layer._fused_relu
            and following.padding == "valid" and following.strides == following.pool_size
            and layer.activity_regularizer is None and following.activity_regularizer is None
            and following.dtype == layer.dtype)


def fuses_with_next(layer: Layer, following: Layer, inputs) -> bool:
    """Whether ``layer`` then ``following`` run as one node on ``inputs`` (a masked input goes layer by layer, so
    that the conv reports the mask it drops)."""
    return (type(inputs) is Tensor and layers_fuse(layer, following) and inputs.ndim == 4
            and getattr(inputs, "_keras_mask", None) is None
            and "call" not in vars(layer) and "call" not in vars(following)  # (a call observed: GradientHealth)
            and _pool_fits(layer, following, inputs.shape))


def _pool_fits(conv: Conv2D, pool: MaxPooling2D, shape) -> bool:
    """Whether the pool window fits in the conv's output (if not, the layers raise their own errors)."""
    return all(conv_output_length(size, k, conv.padding, s, d) >= p for size, k, s, d, p in
               zip(shape[1:3], conv.kernel_size, conv.strides, conv.dilation_rate, pool.pool_size))


def run_conv_max_pool(conv: Conv2D, pool: MaxPooling2D, inputs) -> Tensor:
    """``pool(conv(inputs))`` as one Conv2DReluMaxPool node (conv's activation must be relu)."""
    x = conv._checked_input(inputs)
    pool.built = True
    return Conv2DReluMaxPool.apply(x, conv.kernel, conv.bias, pool=pool.pool_size, **conv._geometry(x.shape))
