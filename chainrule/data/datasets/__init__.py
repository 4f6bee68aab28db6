"""Datasets that ship as files, loaded as Keras loads them: ``mnist.load_data()``, ``fashion_mnist.load_data()``,
``imdb.load_data()``, ``reuters.load_data()``, ``cifar10.load_data()``, ``cifar100.load_data()``,
``boston_housing.load_data()``, ``california_housing.load_data()``.

>>> from chainrule.data.datasets import mnist
>>> sorted(mnist.SHA256)[0]
't10k-images-idx3-ubyte'
"""
from chainrule.data.datasets import (boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb,
                                     mnist, reuters)
from chainrule.data.datasets.loader import DatasetUnavailableError

__all__ = ["DatasetUnavailableError", "boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "mnist", "reuters"]
