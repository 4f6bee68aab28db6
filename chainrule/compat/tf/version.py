"""``tf.version``: the version of the library answering the TensorFlow names, which is chainrule's own
(``tf.version.VERSION == tf.__version__ == chainrule.__version__``), not a TensorFlow release number.

>>> import chainrule as tf
>>> tf.version.VERSION == tf.__version__
True
"""
from chainrule import __version__ as VERSION  # (set before chainrule imports its TensorFlow names)

__all__ = ["VERSION"]
