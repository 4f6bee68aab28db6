"""``keras.mixed_precision``: dtype policies and loss scaling, as Keras 3 exports them (Keras 2's names included).

Mixed precision computes in float16 while keeping the weights in float32: set the policy before making the model,
give the output layer ``dtype="float32"`` so that the softmax and the loss run in float32, and ``compile`` wraps the
optimizer in a :class:`LossScaleOptimizer`.

>>> from chainrule import keras
>>> keras.mixed_precision.set_global_policy("mixed_float16")
>>> layer = keras.layers.Dense(2)
>>> layer.compute_dtype, layer.variable_dtype
('float16', 'float32')
>>> keras.mixed_precision.set_global_policy("float32")
"""
from chainrule.keras.mixed_precision.policy import (DTypePolicy, FloatDTypePolicy, dtype_policy, get,
                                                    set_dtype_policy)
from chainrule.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy  # Keras 2's name
global_policy = dtype_policy  # Keras 2's name
set_global_policy = set_dtype_policy  # Keras 2's name

__all__ = ["DTypePolicy", "FloatDTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "get", "global_policy",
           "set_dtype_policy", "set_global_policy"]
