"""Helpers that are not deep learning themselves and import nothing of chainrule above them (the bottom layer).

>>> from chainrule.utils.progbar import Progbar
>>> Progbar(10, verbose=0).update(10)
"""
