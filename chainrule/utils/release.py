"""chainrule's release, and the TensorFlow and Keras versions it answers as ``tf.__version__`` and
``keras.__version__`` (see :mod:`chainrule.compat.tf.version` for why they are TensorFlow 2's and Keras 3's).

>>> TENSORFLOW_VERSION.startswith("2."), KERAS_VERSION.startswith("3.")
(True, True)
"""
CHAINRULE_VERSION = "0.1.0"  # as in pyproject.toml (tests/test_engine.py checks they agree)
TENSORFLOW_VERSION = f"2.21.0+chainrule.{CHAINRULE_VERSION}"
KERAS_VERSION = f"3.15.0+chainrule.{CHAINRULE_VERSION}"
