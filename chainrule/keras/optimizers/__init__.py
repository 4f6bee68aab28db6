"""Optimizers (``keras.optimizers``): the base class in optimizer.py, one file per optimizer, and the learning-rate
schedules (``keras.optimizers.schedules``).

>>> from chainrule.keras import optimizers
>>> optimizers.get("adam").learning_rate
0.001
>>> optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)(10)
0.05
"""
from __future__ import annotations

from chainrule.keras import configurable as _config
from chainrule.keras.configurable import serialize
from chainrule.keras.optimizers import schedules
from chainrule.keras.optimizers.adadelta import Adadelta
from chainrule.keras.optimizers.adafactor import Adafactor
from chainrule.keras.optimizers.adagrad import Adagrad
from chainrule.keras.optimizers.adam import Adam
from chainrule.keras.optimizers.adamax import Adamax
from chainrule.keras.optimizers.adamw import AdamW
from chainrule.keras.optimizers.ftrl import Ftrl
from chainrule.keras.optimizers.lamb import Lamb
from chainrule.keras.optimizers.lion import Lion
from chainrule.keras.optimizers.loss_scale_optimizer import LossScaleOptimizer
from chainrule.keras.optimizers.muon import Muon
from chainrule.keras.optimizers.nadam import Nadam
from chainrule.keras.optimizers.optimizer import LearningRate, Optimizer
from chainrule.keras.optimizers.rmsprop import RMSprop
from chainrule.keras.optimizers.schedules import LearningRateSchedule
from chainrule.keras.optimizers.sgd import SGD

ALL_OPTIMIZERS = {cls.__name__.lower(): cls for cls in (SGD, RMSprop, Adagrad, Adam, AdamW, Nadam, Adamax, Adadelta,
                                                        Lion, Ftrl)}
# Optimizers whose step reads norms or means over a whole variable, so they have no elementwise fused kernel
# (update_step in NumPy; tests/keras/test_optimizer_kernels.py pairs only ALL_OPTIMIZERS with kernels)
WHOLE_VARIABLE_OPTIMIZERS = {cls.__name__.lower(): cls for cls in (Lamb, Adafactor, Muon)}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """The optimizer that :func:`serialize` described (``custom_objects`` maps names of your own classes)."""
    # (LossScaleOptimizer is a wrapper: not made from a name alone)
    known = {**ALL_OPTIMIZERS, **WHOLE_VARIABLE_OPTIMIZERS, "lossscaleoptimizer": LossScaleOptimizer}
    cls, config = _config.resolve(config, known, "optimizer", custom_objects)
    return cls.from_config(config, custom_objects)


def get(identifier) -> Optimizer:
    """An optimizer from a name ('adam', 'SGD', 'rmsprop', 'adagrad', 'adamw', 'nadam', 'adamax', 'adadelta', 'lion',
    'ftrl', 'lamb', 'adafactor', 'muon'; Keras's defaults), a config dict,
    an instance (returned as is) or a class."""
    if identifier is None:
        raise ValueError("Could not interpret optimizer identifier: None")
    return _config.lookup(identifier, "optimizer", Optimizer, {**ALL_OPTIMIZERS, **WHOLE_VARIABLE_OPTIMIZERS},
                          deserialize)


__all__ = ["ALL_OPTIMIZERS", "WHOLE_VARIABLE_OPTIMIZERS", "Adadelta", "Adafactor", "Lamb", "Muon", "Adagrad", "Adam",
           "Adamax", "AdamW", "Ftrl", "LearningRate", "LearningRateSchedule", "Lion", "LossScaleOptimizer", "Nadam",
           "Optimizer", "RMSprop", "SGD", "deserialize", "get", "schedules", "serialize"]
