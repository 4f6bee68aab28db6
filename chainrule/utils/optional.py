"""Optional packages, imported when a feature first needs them, with an ImportError that says what to install.

TFRecord files and ``tf.train.Example`` use protobuf and TensorBoard's record reader and writer; a plain install
(``pip install chainrule``, ``chainrule[train,fast]``) has neither, and importing chainrule must not need them.

>>> require_protobuf().__name__
'google.protobuf'
"""
from __future__ import annotations

import importlib
from types import ModuleType

_TENSORBOARD_PARTS = {
    "record_writer": "tensorboard.summary.writer.record_writer",
    "pywrap_tensorflow": "tensorboard.compat.tensorflow_stub.pywrap_tensorflow",
    "errors": "tensorboard.compat.tensorflow_stub.errors",
    "tensor_pb2": "tensorboard.compat.proto.tensor_pb2",
    "types_pb2": "tensorboard.compat.proto.types_pb2",
}
_HINT = "Install it with `pip install 'chainrule[tfrecord]'` (or `pip install tensorboard`)."


def require_tensorboard(part: str) -> ModuleType:
    """TensorBoard's module ``part`` (one of ``_TENSORBOARD_PARTS``), or an ImportError that says how to install it."""
    try:
        return importlib.import_module(_TENSORBOARD_PARTS[part])
    except ImportError as error:
        raise ImportError(f"TFRecord files and serialized tensors (tf.io.TFRecordWriter, tf.data.TFRecordDataset, "
                          f"tf.io.serialize_tensor) use the tensorboard package's record reader, writer and protos. "
                          f"{_HINT}") from error


def require_protobuf() -> ModuleType:
    """The ``google.protobuf`` package, or an ImportError that says how to install it."""
    try:
        return importlib.import_module("google.protobuf")
    except ImportError as error:
        raise ImportError(f"tf.train.Example and its parts are protobuf messages: they need the protobuf package. "
                          f"{_HINT}") from error
