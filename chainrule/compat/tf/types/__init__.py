"""``tf.types``: the types TensorFlow programs subclass or check against; ``tf.types.experimental`` holds the
tracing protocol (``TraceType``, what ``__tf_tracing_type__`` returns) and the function types.

>>> import chainrule as tf
>>> isinstance(tf.function(lambda x: x), tf.types.experimental.GenericFunction)
True
"""
from chainrule.compat.tf.types import experimental

__all__ = ["experimental"]
