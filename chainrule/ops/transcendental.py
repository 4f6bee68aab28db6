"""Elementwise transcendental functions beyond exp, log and tanh: log1p and expm1 (exact near 0), the trigonometric
and hyperbolic functions, their inverses and the two-argument arctan2. Each backward is written with other ops, so
gradients of any order come out.

>>> import chainrule as cr
>>> cr.ops.sin(cr.constant([0.0])).numpy(), cr.ops.log1p(cr.constant([1e-10], "float64")).numpy()
(array([0.], dtype=float32), array([1.e-10]))
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine.function import Function
from chainrule.ops.broadcast import unbroadcast
from chainrule.ops.math import Sqrt, _binary, _unary


class Log1p(Function):
    # y = ln(1 + x)   ->   dx = g / (1 + x)
    def forward(self, x):
        return backend.xp.log1p(x)

    def backward(self, g):
        return g / (1 + self.args[0])


class Expm1(Function):
    # y = eˣ - 1   ->   dx = g (y + 1)
    def forward(self, x):
        return backend.xp.expm1(x)

    def backward(self, g):
        return g * (self.output + 1)


class Sin(Function):
    # y = sin x   ->   dx = g cos x
    def forward(self, x):
        return backend.xp.sin(x)

    def backward(self, g):
        return g * Cos.apply(self.args[0])


class Cos(Function):
    # y = cos x   ->   dx = -g sin x
    def forward(self, x):
        return backend.xp.cos(x)

    def backward(self, g):
        return -g * Sin.apply(self.args[0])


class Tan(Function):
    # y = tan x   ->   dx = g (1 + y²)
    def forward(self, x):
        return backend.xp.tan(x)

    def backward(self, g):
        y = self.output
        return g * (1 + y * y)


class Arcsin(Function):
    # y = asin x   ->   dx = g / √(1 - x²)
    def forward(self, x):
        return backend.array_namespace(x).asin(x)  # the standard's names, NumPy 2's aliases of arcsin, ...

    def backward(self, g):
        x = self.args[0]
        return g / Sqrt.apply(1 - x * x)


class Arccos(Function):
    # y = acos x   ->   dx = -g / √(1 - x²)
    def forward(self, x):
        return backend.array_namespace(x).acos(x)

    def backward(self, g):
        x = self.args[0]
        return -g / Sqrt.apply(1 - x * x)


class Arctan(Function):
    # y = atan x   ->   dx = g / (1 + x²)
    def forward(self, x):
        return backend.array_namespace(x).atan(x)

    def backward(self, g):
        x = self.args[0]
        return g / (1 + x * x)


class Sinh(Function):
    # y = sinh x   ->   dx = g cosh x
    def forward(self, x):
        return backend.xp.sinh(x)

    def backward(self, g):
        return g * Cosh.apply(self.args[0])


class Cosh(Function):
    # y = cosh x   ->   dx = g sinh x
    def forward(self, x):
        return backend.xp.cosh(x)

    def backward(self, g):
        return g * Sinh.apply(self.args[0])


class Arcsinh(Function):
    # y = asinh x   ->   dx = g / √(x² + 1)
    def forward(self, x):
        return backend.array_namespace(x).asinh(x)

    def backward(self, g):
        x = self.args[0]
        return g / Sqrt.apply(x * x + 1)


class Arccosh(Function):
    # y = acosh x   ->   dx = g / √(x² - 1)
    def forward(self, x):
        return backend.array_namespace(x).acosh(x)

    def backward(self, g):
        x = self.args[0]
        return g / Sqrt.apply(x * x - 1)


class Arctanh(Function):
    # y = atanh x   ->   dx = g / (1 - x²)
    def forward(self, x):
        return backend.array_namespace(x).atanh(x)

    def backward(self, g):
        x = self.args[0]
        return g / (1 - x * x)


class Arctan2(Function):
    # y = atan2(a, b), the angle of the point (b, a)   ->   da = g b / (a² + b²),  db = -g a / (a² + b²)
    def forward(self, a, b):
        return backend.array_namespace(a, b).atan2(a, b)

    def backward(self, g):
        a, b = self.args
        need_a, need_b = self.needs_input_grad
        scale = g / (a * a + b * b)
        return (unbroadcast(scale * b, np.shape(self.arrays[0])) if need_a else None,
                unbroadcast(-scale * a, np.shape(self.arrays[1])) if need_b else None)


log1p = _unary(Log1p, "log1p")
expm1 = _unary(Expm1, "expm1")
sin = _unary(Sin, "sin")
cos = _unary(Cos, "cos")
tan = _unary(Tan, "tan")
arcsin = _unary(Arcsin, "arcsin")
arccos = _unary(Arccos, "arccos")
arctan = _unary(Arctan, "arctan")
sinh = _unary(Sinh, "sinh")
cosh = _unary(Cosh, "cosh")
arcsinh = _unary(Arcsinh, "arcsinh")
arccosh = _unary(Arccosh, "arccosh")
arctanh = _unary(Arctanh, "arctanh")
arctan2 = _binary(Arctan2, "arctan2")
