"""Module paths from before the layered layout still import: ``from chainrule.layers import Dense`` gets the module
``chainrule.keras.layers`` itself (one module object under two names, so ``isinstance`` and patches agree).

>>> import chainrule.layers, chainrule.keras.layers
>>> chainrule.layers is chainrule.keras.layers
True
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

MOVED = {  # old name -> where the module lives now
    "chainrule._config": "chainrule.keras.configurable",
    "chainrule.activations": "chainrule.keras.activations",
    "chainrule.autograd": "chainrule.engine.autograd",
    "chainrule.callbacks": "chainrule.keras.callbacks",
    "chainrule.cli_data": "chainrule.cli.data",
    "chainrule.cli_images": "chainrule.cli.images",
    "chainrule.cli_plots": "chainrule.cli.plots",
    "chainrule.experimental": "chainrule.compat.tf.experimental",  # tf.experimental (import ...experimental.numpy)
    "chainrule.experimental.numpy": "chainrule.compat.tf.experimental.numpy",
    "chainrule.functional": "chainrule.keras.graph",
    "chainrule.initializers": "chainrule.keras.initializers",
    "chainrule.keras.datasets": "chainrule.data.datasets",
    "chainrule.keras.schedules": "chainrule.keras.optimizers.schedules",
    "chainrule.kernels": "chainrule.backend.kernels",
    "chainrule.kernels.activation": "chainrule.backend.kernels.activation",
    "chainrule.kernels.col2im": "chainrule.backend.kernels.col2im",
    "chainrule.kernels.optim": "chainrule.backend.kernels.optim",
    "chainrule.kernels.pooling": "chainrule.backend.kernels.pooling",
    "chainrule.kernels.softmax": "chainrule.backend.kernels.softmax",
    "chainrule.layers": "chainrule.keras.layers",
    "chainrule.layers.activations": "chainrule.keras.layers.activations",
    "chainrule.layers.base": "chainrule.keras.layers.base",
    "chainrule.layers.conv": "chainrule.keras.layers.conv",
    "chainrule.layers.core": "chainrule.keras.layers.core",
    "chainrule.layers.fusion": "chainrule.keras.layers.fusion",
    "chainrule.layers.merge": "chainrule.keras.layers.merge",
    "chainrule.layers.norm": "chainrule.keras.layers.norm",
    "chainrule.layers.pool": "chainrule.keras.layers.pool",
    "chainrule.losses": "chainrule.keras.losses",
    "chainrule.math": "chainrule.compat.tf.math",
    "chainrule.metrics": "chainrule.keras.metrics",
    "chainrule.models": "chainrule.keras.models",
    "chainrule.nn": "chainrule.compat.tf.nn",
    "chainrule.ops.function": "chainrule.engine.function",
    "chainrule.optimizers": "chainrule.keras.optimizers",
    "chainrule.random": "chainrule.compat.tf.random",
    "chainrule.regularizers": "chainrule.keras.regularizers",
    "chainrule.schedules": "chainrule.keras.optimizers.schedules",
    "chainrule.summary": "chainrule.keras.summary",
    "chainrule.tape": "chainrule.engine.tape",
    "chainrule.tensor": "chainrule.engine.tensor",
    "chainrule.testing": "chainrule.engine.gradcheck",
    "chainrule.tf_api": "chainrule.compat.tf.api",
    "chainrule.training": "chainrule.keras.training",
    "chainrule.training.adapters": "chainrule.keras.training.adapters",
    "chainrule.training.compile_utils": "chainrule.keras.training.compile_utils",
    "chainrule.training.replay": "chainrule.engine.tracer",
    "chainrule.training.trainer": "chainrule.keras.training.trainer",
    "chainrule.utils.numerical_utils": "chainrule.keras.utils.numerical_utils",
    "chainrule.utils.rng_utils": "chainrule.keras.utils.rng_utils",
    "chainrule.zoo": "chainrule.cli.zoo",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers an import of an old name with the module at its new name."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module) -> None:
        pass  # the module ran under its own name already


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _MovedModuleFinder())
