"""``tf.io.serialize_tensor`` / ``tf.io.parse_tensor``: a tensor as the bytes of TensorFlow's ``TensorProto`` (the
compiled message tensorboard ships), numbers as little-endian ``tensor_content`` and strings as ``string_val``, so
the bytes read back in TensorFlow and TensorFlow's read back here.

>>> import chainrule as tf
>>> data = tf.io.serialize_tensor(tf.constant([[1.0, 2.0]]))
>>> tf.io.parse_tensor(data, out_type=tf.float32).numpy()
array([[1., 2.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule.compat.tf.dtypes import STRING, as_dtype
from chainrule.compat.tf.errors import InvalidArgumentError
from chainrule.engine.tensor import Tensor, as_tensor
from chainrule.utils.optional import require_tensorboard

# NumPy dtype name -> TensorFlow's DataType enum name
_DATA_TYPES = {"float32": "DT_FLOAT", "float64": "DT_DOUBLE", "float16": "DT_HALF", "int8": "DT_INT8",
               "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64", "uint8": "DT_UINT8",
               "uint16": "DT_UINT16", "uint32": "DT_UINT32", "uint64": "DT_UINT64", "bool": "DT_BOOL",
               "complex64": "DT_COMPLEX64", "complex128": "DT_COMPLEX128", "string": "DT_STRING"}


def _dtype_name(dtype) -> str:
    dtype = as_dtype(dtype)
    return "string" if dtype == STRING else np.dtype(dtype).name


def serialize_tensor(tensor, name=None) -> Tensor:
    """The tensor's TensorProto bytes, as a scalar string tensor."""
    array = np.asarray(tensor.numpy() if isinstance(tensor, Tensor) else as_tensor(tensor).numpy())
    dtype_name = "string" if array.dtype.kind in "USO" else array.dtype.name
    if dtype_name not in _DATA_TYPES:
        raise TypeError(f"serialize_tensor: unsupported dtype {array.dtype}")
    tensor_pb2, types_pb2 = require_tensorboard("tensor_pb2"), require_tensorboard("types_pb2")
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DataType.Value(_DATA_TYPES[dtype_name]))
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    if dtype_name == "string":
        proto.string_val.extend(x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in array.ravel().tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(array, array.dtype.newbyteorder("<")).tobytes()
    return Tensor._wrap(np.array(proto.SerializeToString(), dtype=object))


def parse_tensor(serialized, out_type, name=None) -> Tensor:
    """The tensor in TensorProto bytes; ``out_type`` must be its dtype (InvalidArgumentError otherwise)."""
    data = np.asarray(serialized.numpy() if isinstance(serialized, Tensor) else serialized, dtype=object).item()
    tensor_pb2, types_pb2 = require_tensorboard("tensor_pb2"), require_tensorboard("types_pb2")
    proto = tensor_pb2.TensorProto()
    try:
        proto.ParseFromString(data.encode("utf-8") if isinstance(data, str) else bytes(data))
    except Exception:  # protobuf's DecodeError
        raise InvalidArgumentError(None, None, "Could not parse `serialized` as TensorProto") from None
    numpy_names = {types_pb2.DataType.Value(enum): name for name, enum in _DATA_TYPES.items()}
    stored, wanted = numpy_names.get(proto.dtype), _dtype_name(out_type)
    if stored != wanted:
        raise InvalidArgumentError(None, None, f"Type mismatch between parsed tensor ({stored}) and dtype "
                                               f"({wanted})")
    shape = tuple(dim.size for dim in proto.tensor_shape.dim)
    if stored == "string":
        return Tensor._wrap(np.array(list(proto.string_val), dtype=object).reshape(shape))
    dtype = np.dtype(stored).newbyteorder("<")
    if proto.tensor_content or not shape or int(np.prod(shape)) == 0:
        values = np.frombuffer(proto.tensor_content, dtype).astype(dtype.newbyteorder("="))
    else:
        raise InvalidArgumentError(None, None, "parse_tensor: TensorProto without tensor_content is not supported")
    return Tensor._wrap(values.reshape(shape))


__all__ = ["parse_tensor", "serialize_tensor"]
