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


def sample_from_datasets(datasets: list, weights=None, seed: int | None = None,
                         stop_on_empty_dataset: bool = False) -> Dataset:
    """The older name of ``Dataset.sample_from_datasets``."""
    return Dataset.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)


def choose_from_datasets(datasets: list, choice_dataset: Dataset, stop_on_empty_dataset: bool = True) -> Dataset:
    """The older name of ``Dataset.choose_from_datasets``."""
    return Dataset.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)


def Counter(start: int = 0, step: int = 1, dtype="int64") -> Dataset:  # noqa: N802  (TensorFlow's name)
    """``start``, ``start + step``, ... without end (``Dataset.counter``)."""
    return Dataset.counter(start, step, dtype)


__all__ = ["AUTOTUNE", "AutoShardPolicy", "AutotuneOptions", "Counter", "CsvDataset", "DistributeOptions",
           "ExternalStatePolicy", "INFINITE_CARDINALITY", "OptimizationOptions", "ThreadingOptions",
           "UNKNOWN_CARDINALITY", "cardinality", "choose_from_datasets", "make_csv_dataset",
           "sample_from_datasets"]
