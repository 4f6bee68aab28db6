"""``tf.experimental``: ``tf.experimental.numpy`` (TensorFlow NumPy, ``tnp``).

>>> import chainrule as tf
>>> tf.experimental.numpy.square(tf.constant([1.0, 2.0])).numpy()
array([1., 4.], dtype=float32)
"""
from chainrule.compat.tf.experimental import numpy

__all__ = ["numpy"]
