"""``SyncBatchNormalization``: BatchNormalization whose training statistics are those of the global batch, every
rank's rows together (TF 2's ``tf.keras.layers.experimental.SyncBatchNormalization``; Keras 3's
``BatchNormalization(synchronized=True)``). Plain ``BatchNormalization`` keeps each rank's own statistics, as Keras
does by default.

The statistics are per-channel means over all ranks, computed by the registered op ``allreduce_mean``
(chainrule/distributed/collective_ops.py), whose backward is an allreduce too, so the gradient of every rank's rows
includes what they did to the other ranks' losses through the shared mean and variance. With one process it equals
BatchNormalization.

>>> import numpy as np
>>> x = np.arange(8, dtype="float32").reshape(4, 2)
>>> np.allclose(SyncBatchNormalization()(x, training=True).numpy(),
...             BatchNormalization()(x, training=True).numpy(), atol=1e-6)
True
"""
from __future__ import annotations

import numpy as np

from chainrule.distributed.collective_ops import allreduce_mean
from chainrule.distributed.comm import communicator
from chainrule.keras.layers.norm import BatchNormalization
from chainrule.ops.nn import MovingAverage


class SyncBatchNormalization(BatchNormalization):
    """BatchNormalization with the statistics of the global batch in training (one allreduce each for the mean
    and the variance, forward and backward)."""

    def call(self, inputs, training=False):
        if not (training and self.trainable) or communicator().size == 1:
            return super().call(inputs, training=training)
        axis = self.axis % inputs.ndim
        axes = tuple(i for i in range(inputs.ndim) if i != axis)
        kept = tuple(1 if i != axis else inputs.shape[axis] for i in range(inputs.ndim))
        count = int(np.prod([inputs.shape[i] for i in axes]))
        mean = allreduce_mean(inputs.sum(axis=axes), count)
        centered = inputs - mean.reshape(kept)
        var = allreduce_mean((centered * centered).sum(axis=axes), count)
        scale = (var + float(self.epsilon)) ** -0.5
        if self.gamma is not None:
            scale = scale * self.gamma
        y = centered * scale.reshape(kept)
        if self.beta is not None:
            y = y + self.beta
        MovingAverage.apply(self.moving_mean, mean, momentum=self.momentum)  # in place
        MovingAverage.apply(self.moving_variance, var, momentum=self.momentum)
        return y
