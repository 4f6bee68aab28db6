"""Datasets that ship as files, loaded as Keras loads them: ``mnist.load_data()``, ``fashion_mnist.load_data()``,
``imdb.load_data()``, ``reuters.load_data()``.

>>> from chainrule.data.datasets import mnist
>>> sorted(mnist.SHA256)[0]
't10k-images-idx3-ubyte'
"""
from chainrule.data.datasets import fashion_mnist, imdb, mnist, reuters
from chainrule.data.datasets.loader import DatasetUnavailableError

__all__ = ["DatasetUnavailableError", "fashion_mnist", "imdb", "mnist", "reuters"]
