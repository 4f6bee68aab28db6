"""Input pipelines (tf.data's ``Dataset``) and the datasets that ship as files (``datasets.mnist``, ...).

>>> import numpy as np
>>> from chainrule.data import Dataset
>>> len(Dataset.from_tensor_slices(np.arange(6)).batch(4))
2
"""
from chainrule.data import experimental
from chainrule.data.dataset import AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset
from chainrule.data.options import Options, ThreadingOptions
from chainrule.data.spec import DatasetSpec, TensorSpec
from chainrule.data.text_line import TextLineDataset
from chainrule.data.tfrecord import TFRecordDataset

__all__ = ["AUTOTUNE", "DatasetSpec", "INFINITE_CARDINALITY", "Options", "TensorSpec", "ThreadingOptions",
           "TextLineDataset", "TFRecordDataset", "UNKNOWN_CARDINALITY", "Dataset", "experimental"]
