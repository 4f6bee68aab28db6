"""Every differentiable op, importable from one place: ``from chainrule import ops; ops.conv2d(...)``."""
from chainrule.ops.activation import elu, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from chainrule.engine.function import OPS, Function, op
from chainrule.ops.broadcast import unbroadcast
from chainrule.ops.linalg import linear, matmul
from chainrule.ops.math import (abs, add, cast, clip, div, erf, exp, log, maximum, minimum, mod, mul, neg, pow, sqrt,
                                sub, where)
from chainrule.ops.reduce import logsumexp, max, mean, min, sum, var
from chainrule.ops.shape import (broadcast_to, concat, expand_dims, gather, getitem, pad, reshape, split, squeeze,
                                 stack, transpose)
from chainrule.ops.conv import conv2d
from chainrule.ops.conv_pool import conv2d_relu_max_pool2d
from chainrule.ops.conv1d import conv1d
from chainrule.ops.conv3d import avg_pool3d, conv3d, conv3d_transpose, max_pool3d
from chainrule.ops.conv_transpose import conv1d_transpose, conv2d_transpose
from chainrule.ops.depthwise import depthwise_conv2d, separable_conv2d
from chainrule.ops.image_transform import affine_transform
from chainrule.ops.pool1d import avg_pool1d, max_pool1d
from chainrule.ops.upsampling import resize_bilinear, upsample_nearest
from chainrule.ops.nn import (batch_norm_infer, batch_norm_train, dropout, mean_squared_error,
                              sigmoid_cross_entropy_with_logits, softmax_cross_entropy_with_logits,
                              sparse_softmax_cross_entropy_with_logits)
from chainrule.ops.pool import avg_pool2d, max_pool2d
from chainrule.ops.transcendental import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cos, cosh,
                                         expm1, log1p, sin, sinh, tan)
from chainrule.ops.cumulative import cumprod, cumsum
from chainrule.ops.indexing import scatter, scatter_update, segment_sum, slice_update, take, take_along_axis
from chainrule.ops.einsum import einsum
from chainrule.ops.layer_norm import layer_norm
from chainrule.ops.attention import scaled_dot_product_attention
from chainrule.ops.self_attention import self_attention
from chainrule.ops.embedding import embedding_lookup
from chainrule.ops.ctc import ctc_loss
from chainrule.ops.complex import angle, complex, conj, imag, real  # noqa: A004
from chainrule.ops.fft import fft, ifft, irfft, rfft
