"""chainrule: a readable deep-learning framework on NumPy, with its own backpropagation engine.

Write TensorFlow/Keras code with ``import chainrule as tf``:

>>> import chainrule as tf
>>> x = tf.Variable([1.0, 2.0])
>>> with tf.GradientTape() as tape:
...     y = tf.reduce_sum(x * x)
>>> tape.gradient(y, x).numpy()
array([2., 4.], dtype=float32)
"""
# `tf.__version__` (tf is this module) is TensorFlow 2's version with chainrule's release as its local label, so that
# programs take their TF 2 branch; chainrule's own release is CHAINRULE_VERSION (chainrule/compat/tf/version.py)
from chainrule.utils.release import CHAINRULE_VERSION, TENSORFLOW_VERSION as __version__  # noqa: E402

from chainrule import _moved_modules  # noqa: F401  (old module paths, e.g. chainrule.layers, still import)
from chainrule.compat.tf import *  # noqa: E402,F401,F403  (the TensorFlow names live in chainrule/compat/tf/)
from chainrule.compat.tf import __all__ as _tf_names  # noqa: E402
from chainrule import backend, compat, data, engine, keras, ops  # noqa: E402,F811

__all__ = sorted({*_tf_names, "backend", "compat", "data", "engine", "keras", "ops"})


def __getattr__(name: str):
    """``chainrule.layers``, ``chainrule.losses``, ...: the modules that moved, under their old names."""
    if f"chainrule.{name}" in _moved_modules.MOVED or name in ("explain", "attacks"):  # (the latter: loaded on use)
        import importlib

        return importlib.import_module(f"chainrule.{name}")
    raise AttributeError(f"module 'chainrule' has no attribute '{name}'")
