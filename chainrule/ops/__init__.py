"""Every differentiable op, importable from one place: ``from chainrule import ops; ops.conv2d(...)``."""
from chainrule.ops.activation import elu, gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from chainrule.ops.function import OPS, Function, op, unbroadcast
from chainrule.ops.linalg import linear, matmul
from chainrule.ops.math import (abs, add, cast, clip, div, erf, exp, log, maximum, minimum, mul, neg, pow, sqrt, sub,
                                where)
from chainrule.ops.reduce import logsumexp, max, mean, min, sum, var
from chainrule.ops.shape import (broadcast_to, concat, expand_dims, gather, getitem, pad, reshape, split, squeeze,
                                 stack, transpose)
