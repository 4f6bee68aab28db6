"""``keras.layers``: every layer of :mod:`chainrule.layers`, and ``Input`` (as Keras also exports it here)."""
from chainrule.functional import Input
from chainrule.layers import *  # noqa: F401,F403
from chainrule.layers import __all__ as _layers_all

__all__ = [*_layers_all, "Input"]
