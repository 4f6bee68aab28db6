"""chainrule: a readable deep-learning framework on NumPy, with its own backpropagation engine.

Write TensorFlow/Keras code with ``import chainrule as tf``:

>>> import chainrule as tf
>>> x = tf.Variable([1.0, 2.0])
>>> with tf.GradientTape() as tape:
...     y = tf.reduce_sum(x * x)
>>> tape.gradient(y, x).numpy()
array([2., 4.], dtype=float32)
"""
CHAINRULE_VERSION = "0.1.0"  # chainrule's own release, as in pyproject.toml (tests/test_engine.py checks they agree)
# what `tf.__version__` answers (tf is this module): the TensorFlow API level first, so that programs take their
# TF 2 branch, then chainrule's release as a PEP 440 local label (see chainrule/compat/tf/version.py)
__version__ = f"2.21.0+chainrule.{CHAINRULE_VERSION}"

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
