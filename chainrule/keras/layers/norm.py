"""BatchNormalization, as Keras: batch statistics in training, moving averages of them at inference.

>>> import numpy as np
>>> bn = BatchNormalization()
>>> x = np.arange(8, dtype="float32").reshape(4, 2)
>>> y = bn(x, training=True)
>>> np.round(bn.moving_mean.numpy(), 3)   # 0.99 * 0 + 0.01 * batch mean
array([0.03, 0.04], dtype=float32)
"""
from __future__ import annotations

from chainrule.keras import initializers
from chainrule.keras import constraints
from chainrule.keras import regularizers
from chainrule.keras.layers.base import InputSpec, Layer, serialize_object
from chainrule.keras.mixed_precision.autocast import at_least_float32, in_compute_dtype
from chainrule.ops.nn import MovingAverage, batch_norm_infer, batch_norm_train


class BatchNormalization(Layer):
    """Normalize each channel (``axis``) to zero mean and unit variance, then scale by gamma and shift by beta.

    ``training=True`` (and a trainable layer) uses the batch's mean and biased variance and updates, in place,
    ``moving = moving * momentum + batch * (1 - momentum)``; otherwise the moving statistics are used.
    Weights, in Keras's order: gamma (if scale), beta (if center), moving_mean, moving_variance.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, synchronized: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise NotImplementedError(f"BatchNormalization: one axis is supported, got axis={axis}")
            axis = axis[0]
        self.axis = int(axis)
        self.momentum, self.epsilon = float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.synchronized = bool(synchronized)  # one process: nothing to synchronize
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None
        self.supports_masking = True

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"Layer '{self.name}': axis={self.axis} is not a feature axis of inputs of shape "
                             f"{tuple(input_shape)}")
        axis = self.axis % ndim
        channels = input_shape[axis]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' needs a known size along axis {self.axis}, got shape "
                             f"{tuple(input_shape)}")
        shape = (channels,)
        if self.scale:
            self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint, autocast=False, name="gamma")
        if self.center:
            self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint, autocast=False, name="beta")
        # (read as they are under mixed precision: the statistics are updated in place, and computed in float32)
        self.moving_mean = self.add_weight(shape=shape, initializer=self.moving_mean_initializer, trainable=False,
                                           autocast=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=shape, initializer=self.moving_variance_initializer,
                                               trainable=False, autocast=False, name="moving_variance")
        self.input_spec = InputSpec(ndim=ndim, axes={axis: channels})
        self.built = True

    def call(self, inputs, training=False):
        inputs = at_least_float32(inputs)  # float16 statistics overflow: computed in float32, as Keras 3
        if training and self.trainable:
            y, mean, var = batch_norm_train(inputs, self.gamma, self.beta, self.axis, self.epsilon)
            MovingAverage.apply(self.moving_mean, mean, momentum=self.momentum)  # in place
            MovingAverage.apply(self.moving_variance, var, momentum=self.momentum)
            return in_compute_dtype(self, y)
        return in_compute_dtype(self, batch_norm_infer(inputs, self.gamma, self.beta, self.moving_mean,
                                                       self.moving_variance, self.axis, self.epsilon))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": serialize_object(initializers, self.beta_initializer),
                "gamma_initializer": serialize_object(initializers, self.gamma_initializer),
                "moving_mean_initializer": serialize_object(initializers, self.moving_mean_initializer),
                "moving_variance_initializer": serialize_object(initializers, self.moving_variance_initializer),
                "beta_regularizer": serialize_object(regularizers, self.beta_regularizer),
                "gamma_regularizer": serialize_object(regularizers, self.gamma_regularizer),
                "beta_constraint": serialize_object(constraints, self.beta_constraint),
                "gamma_constraint": serialize_object(constraints, self.gamma_constraint), "synchronized": self.synchronized}


__all__ = ["BatchNormalization"]
