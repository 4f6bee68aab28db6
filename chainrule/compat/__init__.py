"""Other frameworks' names over chainrule's engine: ``compat.tf`` is the TensorFlow namespace.

With ``import chainrule as tf``, ``tf.compat`` is this package, so it also holds TensorFlow's ``tf.compat`` helpers
(``as_bytes``, ``as_text``, ...), which live in ``compat/tf/compat.py``.
"""
from chainrule.compat.tf.compat import *  # noqa: F401,F403
