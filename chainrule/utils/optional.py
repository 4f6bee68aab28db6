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


def require(module: str, why: str) -> ModuleType:
    """The module named ``module``, or an ImportError that starts with ``why`` (what needs it and how to install it).

    >>> require("json", "unused").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(why) from error


def require_tensorboard(part: str) -> ModuleType:
    """TensorBoard's module ``part`` (one of ``_TENSORBOARD_PARTS``), or an ImportError that says how to install it."""
    return require(_TENSORBOARD_PARTS[part], "TFRecord files and serialized tensors (tf.io.TFRecordWriter, "
                   "tf.data.TFRecordDataset, tf.io.serialize_tensor) use the tensorboard package's record reader, "
                   f"writer and protos. {_HINT}")


def require_protobuf() -> ModuleType:
    """The ``google.protobuf`` package, or an ImportError that says how to install it."""
    return require("google.protobuf", "tf.train.Example and its parts are protobuf messages: they need the protobuf "
                   f"package. {_HINT}")
