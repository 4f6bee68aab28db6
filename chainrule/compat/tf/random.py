"""``tf.random``: normal and uniform draws, ``set_seed``.

>>> import chainrule as tf
>>> tf.random.uniform((2,), seed=0).shape
TensorShape([2])
"""
from chainrule.ops.random import normal, set_seed, uniform

__all__ = ["normal", "set_seed", "uniform"]
