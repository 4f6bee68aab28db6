"""``tf.data.experimental``: the names TensorFlow programs still reach there.

>>> import numpy as np
>>> from chainrule.data import Dataset
>>> int(cardinality(Dataset.range(4).repeat())) == INFINITE_CARDINALITY
True
"""
from chainrule.data.csv_files import CsvDataset, make_csv_dataset
from chainrule.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from chainrule.data.options import (AutoShardPolicy, AutotuneOptions, DistributeOptions, ExternalStatePolicy,
                                    OptimizationOptions, ThreadingOptions)


def cardinality(dataset: Dataset):
    """``dataset.cardinality()``: the number of elements, or INFINITE_CARDINALITY (-1) / UNKNOWN_CARDINALITY (-2)."""
    return dataset.cardinality()


def Counter(start: int = 0, step: int = 1, dtype="int64") -> Dataset:  # noqa: N802  (TensorFlow's name)
    """``start``, ``start + step``, ... without end (``Dataset.counter``)."""
    return Dataset.counter(start, step, dtype)


__all__ = ["AUTOTUNE", "AutoShardPolicy", "AutotuneOptions", "Counter", "CsvDataset", "DistributeOptions",
           "ExternalStatePolicy", "INFINITE_CARDINALITY", "OptimizationOptions", "ThreadingOptions",
           "UNKNOWN_CARDINALITY", "cardinality", "make_csv_dataset"]
