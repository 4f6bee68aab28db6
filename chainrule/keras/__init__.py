"""``tf.keras`` on chainrule: ``import chainrule as tf`` then ``tf.keras.Sequential``, ``tf.keras.layers.Dense``, ...

The submodules are Keras's: ``from chainrule.keras.layers import Dense`` and ``tf.keras.losses.CategoricalCrossentropy()``
both work.

========================  ===========================================================
``keras.layers``          :mod:`chainrule.keras.layers` plus ``Input``
``keras.models``          :mod:`chainrule.keras.models` (Sequential, Model, load_model)
``keras.losses`` ...      :mod:`chainrule.keras.losses`, ``optimizers``, ``metrics``, ``callbacks``, ``initializers``,
                          ``regularizers``, ``constraints``, ``activations``
``keras.utils``           to_categorical, set_random_seed, Progbar, normalize
``keras.datasets``        :mod:`chainrule.data.datasets` (mnist, fashion_mnist, imdb, reuters, cifar10, cifar100, ...)
``keras.backend``         floatx, set_floatx, clear_session
``keras.saving``          :mod:`chainrule.keras.saving` (save_model, load_model, save_weights, load_weights)
``keras.tree``            :mod:`chainrule.utils.tree` (flatten, map_structure, pack_sequence_as, ...; also tf.nest)
``keras.applications``    :mod:`chainrule.keras.applications` (ResNet50, MobileNetV2, VGG16, Xception, ...)
========================  ===========================================================

>>> import chainrule.keras as keras
>>> model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
>>> keras.models.Sequential is keras.Sequential
True
"""
from chainrule.data import datasets
from chainrule.keras import (activations, backend, callbacks, constraints, initializers, layers, losses, metrics, models,
                             optimizers, regularizers, saving, utils)
from chainrule.keras.graph import KerasTensor
from chainrule.keras.layers import Input
from chainrule.keras.models import Model, Sequential
from chainrule.keras import ops, random  # noqa: E402  (keras.ops and keras.random: Keras 3's functions)
from chainrule.keras import preprocessing  # noqa: E402  (keras.preprocessing.image / .sequence: Keras 2's names)
from chainrule.utils import tree
from chainrule.keras import config  # noqa: E402  (keras.config: Keras 3's global settings)
from chainrule.keras import mixed_precision  # noqa: E402  (dtype policies, LossScaleOptimizer)
from chainrule.keras.mixed_precision import policy as dtype_policies  # noqa: E402  (Keras 3's module of them)
from chainrule.keras.mixed_precision import DTypePolicy  # noqa: E402
from chainrule.keras import applications  # noqa: E402  (keras.applications: ResNet50, MobileNetV2, ...)
# Keras 3's top-level names for the base classes that programs subclass: class MyLayer(keras.Layer)
from chainrule.engine.tensor import Variable  # noqa: E402
from chainrule.keras.initializers import Initializer  # noqa: E402
from chainrule.keras.layers import InputSpec, Layer  # noqa: E402
from chainrule.keras.losses import Loss  # noqa: E402
from chainrule.keras.metrics import Metric  # noqa: E402
from chainrule.keras.optimizers import Optimizer  # noqa: E402
from chainrule.keras.regularizers import Regularizer  # noqa: E402
from chainrule.utils.release import KERAS_VERSION as __version__  # noqa: E402  (Keras 3's, then chainrule's release)
from chainrule.keras.graph_function import Function  # noqa: E402  (a callable graph of layers)
from chainrule.keras.operation import Operation  # noqa: E402  (the base of a computation on tensors)
from chainrule.keras.scopes import device, name_scope  # noqa: E402  (variable-name and device scopes)


def version() -> str:
    """``keras.version()``: :data:`__version__`."""
    return __version__


__all__ = ["Initializer", "Input", "InputSpec", "KerasTensor", "Layer", "Loss", "Metric", "Model", "Optimizer", "Regularizer",
           "Sequential", "Variable", "config", "activations", "backend", "callbacks", "constraints", "datasets",
           "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers", "random", "regularizers", "saving",
           "tree", "utils", "preprocessing", "version", "applications", "mixed_precision", "dtype_policies",
           "DTypePolicy", "Function", "Operation", "device", "name_scope"]
