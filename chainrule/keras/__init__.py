"""``tf.keras`` on chainrule: ``import chainrule as tf`` then ``tf.keras.Sequential``, ``tf.keras.layers.Dense``, ...

The submodules are chainrule's own modules under Keras's names, so ``from chainrule.keras.layers import Dense`` and
``tf.keras.losses.CategoricalCrossentropy()`` both work:

========================  ===========================================================
``keras.layers``          :mod:`chainrule.layers` plus ``Input``
``keras.models``          :mod:`chainrule.models` (Sequential, Model, load_model)
``keras.losses`` ...      :mod:`chainrule.losses`, ``optimizers``, ``metrics``, ``callbacks``, ``initializers``,
                          ``regularizers``, ``activations``
``keras.utils``           to_categorical, set_random_seed, Progbar, normalize
``keras.datasets``        :mod:`chainrule.data.datasets` (mnist, fashion_mnist)
``keras.backend``         floatx, set_floatx, clear_session
========================  ===========================================================

>>> import chainrule.keras as keras
>>> model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
>>> keras.models.Sequential is keras.Sequential
True
"""
import importlib as _importlib
import sys as _sys

from chainrule.functional import Input, KerasTensor
from chainrule.models import Model, Sequential

_ALIASES = {  # keras name -> the chainrule module that is it
    "losses": "chainrule.losses",
    "optimizers": "chainrule.optimizers",
    "metrics": "chainrule.metrics",
    "callbacks": "chainrule.callbacks",
    "initializers": "chainrule.initializers",
    "regularizers": "chainrule.regularizers",
    "activations": "chainrule.activations",
    "models": "chainrule.models",
    "datasets": "chainrule.data.datasets",
}

for _name, _target in _ALIASES.items():
    _module = _importlib.import_module(_target)
    _sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module

from chainrule.keras import backend, layers, utils  # noqa: E402  (real submodules: they add Keras-only names)

__all__ = ["Input", "KerasTensor", "Model", "Sequential", "activations", "backend", "callbacks", "datasets",
           "initializers", "layers", "losses", "metrics", "models", "optimizers", "regularizers", "utils"]
