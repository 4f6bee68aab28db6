"""Helpers shared across the package that are not deep learning themselves.

>>> from chainrule.utils import Progbar
>>> Progbar(10, verbose=0).update(10)
"""
from chainrule.utils.progbar import Progbar

__all__ = ["Progbar"]
