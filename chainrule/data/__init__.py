"""Input pipelines (tf.data's ``Dataset``) and the datasets that ship as files (``datasets.mnist``, ...).

>>> import numpy as np
>>> from chainrule.data import Dataset
>>> Dataset.from_tensor_slices(np.arange(6)).batch(4).cardinality()
2
"""
from chainrule.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

AUTOTUNE = -1  # tf.data.AUTOTUNE: accepted where TensorFlow takes it (prefetch, map); NumPy runs one thing at a time

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Dataset"]
