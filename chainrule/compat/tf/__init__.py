"""The TensorFlow namespace: ``import chainrule as tf`` re-exports everything here (``tf.Variable``, ``tf.math``,
``tf.nn``, ``tf.random``, ``tf.GradientTape``, ``tf.function``, ``tf.config``, the dtypes, ``tf.keras``, ``tf.data``).

>>> from chainrule.compat import tf
>>> tf.reduce_sum(tf.constant([1.0, 2.0])).numpy()
np.float32(3.0)
"""
import numpy as _np


from chainrule import backend, ops
from chainrule.compat.tf import nn, random
from chainrule.engine.autograd import enable_grad, grad, no_grad
from chainrule.ops.compare import (argmax, argmin, equal, greater, greater_equal, less, less_equal, logical_and,
                                   logical_or, not_equal)
from chainrule.ops.creation import fill, one_hot, ones, ones_like, shape, zeros, zeros_like
from chainrule.ops import (abs, add, broadcast_to, cast, clip, concat, div, erf, exp, expand_dims, gather, log,
                           logsumexp, maximum, minimum, mul, pad, pow, sigmoid, softmax, split, sqrt, squeeze, stack,
                           sub, tanh, transpose)
from chainrule.ops import max as reduce_max
from chainrule.ops import mean as reduce_mean
from chainrule.ops import min as reduce_min
from chainrule.ops import sum as reduce_sum
from chainrule.ops import var as reduce_variance
from chainrule.engine.tape import GradientTape
from chainrule.engine.tensor import Tensor, Variable, as_tensor, constant
from chainrule.compat.tf.math import (acos, acosh, asin, asinh, atan, atan2, atanh, cos, cosh, cumprod, cumsum, sin,
                                      sinh, tan)
from chainrule.compat.tf.api import (add_n, clip_by_global_norm, clip_by_norm, clip_by_value, einsum, global_norm,
                                     identity, is_tensor, logical_not, logical_xor, matmul, print, rank, reduce_all,
                                     reduce_any, reshape, size, square, stop_gradient, tile, where,
                                     UnconnectedGradients)

from chainrule.compat.tf import dtypes  # noqa: E402  (tf.dtypes: the dtype names, tf.as_dtype, tf.string)
from chainrule.compat.tf.dtypes import (as_dtype, bool, bool_, complex64, complex128, float16, float32,  # noqa: A004
                                        float64, int8, int16, int32, int64, string, uint8, uint16, uint32, uint64)
negative, multiply, subtract, divide = ops.neg, mul, sub, div
reduce_logsumexp = logsumexp
convert_to_tensor = as_tensor
newaxis = None  # x[..., tf.newaxis], as NumPy's np.newaxis

from chainrule.compat.tf.function import TensorSpec, executing_eagerly, function, init_scope  # noqa: E402
from chainrule.compat.tf import config  # noqa: E402
from chainrule.compat.tf import distribute  # noqa: E402  (tf.distribute: MultiWorkerMirroredStrategy on MPI)
from chainrule.compat.tf import errors, linalg, version  # noqa: E402
from chainrule.compat.tf import summary  # noqa: E402  (tf.summary: event files for TensorBoard)
from chainrule.compat.tf.control_flow import *  # noqa: E402,F401,F403  (tf.cond, tf.while_loop, tf.gather_nd, ...)
from chainrule.compat.tf import image  # noqa: E402  (tf.image: resize, flips, crops, colour, patches)
from chainrule.compat.tf import io  # noqa: E402  (tf.io: read_file, write_file, decode_raw)
from chainrule.compat.tf import lookup  # noqa: E402  (tf.lookup: StaticHashTable, StaticVocabularyTable)
from chainrule.compat.tf import experimental  # noqa: E402  (tf.experimental.numpy: NumPy on tensors)
from chainrule.compat.tf import audio  # noqa: E402  (tf.audio: decode_wav, encode_wav)
from chainrule.compat.tf import signal  # noqa: E402  (tf.signal: FFTs, stft, frames, windows, mel, dct)
from chainrule.ops.complex import complex  # noqa: E402,A004  (tf.complex; tf.math.real/imag/conj/angle)
from chainrule.compat.tf import saved_model  # noqa: E402  (tf.saved_model: export a Keras model to a folder)
from chainrule.compat.tf import sparse  # noqa: E402  (tf.sparse: SparseTensor)
from chainrule.compat.tf.sparse import SparseTensor  # noqa: E402
from chainrule.compat.tf import ragged  # noqa: E402  (tf.ragged: RaggedTensor)
from chainrule.compat.tf.ragged import RaggedTensor  # noqa: E402
from chainrule.compat.tf import strings  # noqa: E402  (tf.strings: text ops on NumPy str tensors)
from chainrule.compat.tf import train  # noqa: E402  (tf.train: Checkpoint, CheckpointManager, latest_checkpoint)
from chainrule.compat.tf import types  # noqa: E402  (tf.types.experimental: TraceType, GenericFunction)
from chainrule.compat.tf.tensor_array import TensorArray  # noqa: E402
from chainrule.compat.tf.linalg import eye, norm  # noqa: E402
from chainrule.compat.tf.array_ops import (argsort, boolean_mask, meshgrid, repeat, reverse, roll, slice,  # noqa
                                           sort, tensordot, unstack)
from chainrule.keras.ops.core import custom_gradient  # noqa: E402  (tf.custom_gradient: f returns (y, grad_fn))
from chainrule.compat.tf.math import floor, reduce_prod, round, sign, truediv  # noqa: E402,A004
from chainrule.compat.tf import bitwise  # noqa: E402  (tf.bitwise: and, or, xor, invert, shifts)
from chainrule.compat.tf import debugging, sets  # noqa: E402  (tf.debugging.set_log_device_placement; tf.sets)
from chainrule.compat.tf.debugging import ensure_shape  # noqa: E402
from chainrule.compat.tf.array_search import (depth_to_space, extract_volume_patches,  # noqa: E402
                                              histogram_fixed_width, histogram_fixed_width_bins, searchsorted,
                                              space_to_depth, unique, unique_with_counts, unravel_index)
from chainrule.compat.tf.segments import bincount  # noqa: E402
from chainrule.compat.tf.space_batch import (batch_to_space, batch_to_space_nd, space_to_batch,  # noqa: E402
                                             space_to_batch_nd)
# TensorFlow 2's initializer names (tf.random_normal_initializer()(shape)), which are Keras's initializers
from chainrule.keras.initializers import (Ones as ones_initializer, RandomNormal as random_normal_initializer,  # noqa
                                          RandomUniform as random_uniform_initializer, Zeros as zeros_initializer)
from chainrule.compat.tf.module import Module, name_scope  # noqa: E402
from chainrule.compat.tf.placement import DeviceSpec, device  # noqa: E402
from chainrule.compat.tf.sequences import linspace, range  # noqa: E402
from chainrule.utils.tensor_shape import TensorShape  # noqa: E402
__version__ = version.VERSION
from chainrule import data, keras  # noqa: E402  (the TF-style namespaces: tf.keras, tf.data, tf.math)
from chainrule.compat.tf import math
from chainrule.utils import tree as nest  # noqa: E402  (tf.nest: flatten, map_structure, pack_sequence_as, ...)
from chainrule.compat.tf.symbolic import wrap_namespace as _wrap_namespace  # noqa: E402

# tf functions called on keras.Input tensors become layers of the functional model, as in TF 2
_wrap_namespace(globals(), "")
_wrap_namespace(math.__dict__, "math.")
_wrap_namespace(nn.__dict__, "nn.")
_wrap_namespace(signal.__dict__, "signal.")

_HELPER_MODULES = ("api", "array_ops", "control_flow", "symbolic", "config_experimental", "module", "placement", "sequences",
                   "ctc_decoders", "example_proto", "parsing", "sampled_losses", "tensor_serialization",
                   "tensor_array")
# the modules behind tf.image / tf.nn / tf.linalg names are not TensorFlow names themselves
_HELPER_MODULES += ("image_crop_resize", "image_draw", "image_nms", "image_ssim_multiscale",
                    "linalg_matrix_functions", "nn_conv_pool", "nn_lrn", "nn_morphology", "space_batch")
__all__ = [name for name in dir() if not name.startswith("_") and name not in _HELPER_MODULES]
