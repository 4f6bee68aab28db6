"""``tf.version`` and ``tf.__version__``: a TensorFlow 2 version with chainrule's own release as its local label.

``import chainrule as tf`` makes ``tf.__version__`` chainrule's ``__version__``, and programs read it to choose
between their TensorFlow 1 and 2 code (``tf.__version__.startswith("2")``, ``int(tf.__version__.split(".")[0])``,
``packaging.version.parse(tf.__version__) >= packaging.version.parse("2.4")``). It is therefore
``"2.21.0+chainrule.<release>"``: the TensorFlow API level chainrule follows (TensorFlow 2.21 with Keras 3.15, the
versions its benchmarks and accuracy references are run against), then chainrule's release (``CHAINRULE_VERSION``,
pyproject.toml's version) after the ``+`` of a PEP 440 local version label, which version comparisons with public
versions ignore except to rank it just above 2.21.0. ``keras.__version__`` is built the same way on Keras 3.15.

>>> import chainrule as tf
>>> tf.version.VERSION == tf.__version__ and tf.__version__.startswith("2.")
True
>>> tf.__version__.split("+chainrule.")[1] == tf.version.CHAINRULE_VERSION
True
"""
from chainrule.utils.release import CHAINRULE_VERSION, TENSORFLOW_VERSION as VERSION

__all__ = ["CHAINRULE_VERSION", "VERSION"]
