"""Helpers shared across the package that are not deep learning themselves.

>>> from chainrule.utils import Progbar
>>> Progbar(10, verbose=0).update(10)
"""
from chainrule.utils.numerical_utils import normalize, to_categorical
from chainrule.utils.progbar import Progbar
from chainrule.utils.rng_utils import set_random_seed

__all__ = ["Progbar", "normalize", "set_random_seed", "to_categorical"]
