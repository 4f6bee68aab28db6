"""The optimizers' fused numba kernels: each does one optimizer's update in one pass over memory.

The update formulas themselves, in NumPy, live beside their optimizers (``chainrule/keras/optimizers/adam.py``,
``sgd.py``, ``rmsprop.py``, ``adagrad.py``): NumPy makes a dozen passes over memory per variable (one per ufunc,
through a scratch array); a kernel makes one, reading the gradient, the weight and the slots once and writing them
back once. Both update the arrays in place and do the same float operations in the same order and the same
precision, so they agree bit for bit: each constant (a Python float) is rounded to the arrays' dtype first, as NumPy
does with a Python scalar (NEP 50), and every product and sum is then taken in that dtype (float32 stays float32)::

    Adam      m += (g - m)(1-b1);  v += (g*g - v)(1-b2);  [v_hat = max(v_hat, v)];  w -= m / (sqrt(v) + eps) * alpha
    SGD       step = g*lr;  m = m*momentum - step;  w += m  |  w = (w - step) + m*momentum  |  w -= step
    RMSprop   v = v*rho + (g*g)(1-rho);  [a = a*rho + g(1-rho)];  inc = g / sqrt(v [- a*a] + eps) * lr;
              [mom = mom*momentum + inc; inc = mom];  w -= inc
    Adagrad   acc += g*g;  w -= g / sqrt(acc + eps) * lr
    Adamax    m += (g - m)(1-b1);  u = max(u*b2, |g|);  w -= m / (u + eps) * alpha
    Nadam     m += (g - m)(1-b1);  v += (g*g - v)(1-b2);  w -= (m*m_coef + g*g_coef) / (sqrt(v*v_scale) + eps)
    Adadelta  ag = ag*rho + (g*g)(1-rho);  d = sqrt(ad + eps) * g / sqrt(ag + eps);  ad = ad*rho + (d*d)(1-rho);
              w -= d*lr
    Lion      w -= sign(m*b1 + g(1-b1)) * lr;  m = m*b2 + g(1-b2)
    Ftrl      n' = n + g*g;  z += (g + w*2s) - (sqrt(n') - sqrt(n)) / lr * w;
              w = (clip(z, ±l1) - z) / (sqrt(n')/lr + 2l2);  n = n'   (learning_rate_power=-0.5's square root only)

Every kernel also takes ``keep`` and ``gscale``: the weight is first multiplied by ``keep`` (decoupled weight
decay, ``w - w*wd*lr`` as ``w * (1 - wd*lr)``) and the gradient by ``gscale`` (``clipnorm``/``global_clipnorm``).
A slot that an option does not use (``v_hat`` without amsgrad, ...) is passed as None; ``scratch`` (the NumPy
formula's work array, in the same signature) is unused.

The kernels take float32/float64 arrays of one dtype whose weight and slots are C-contiguous (any shape: they run on
flat views; :func:`takes` says whether they do), on the NumPy backend; the optimizer runs the NumPy formula
otherwise, and also while a kernel compiles in the background (its ``*_numba`` function then raises
``kernels.NotReady``). tests/keras/test_optimizer_kernels.py holds each pair equal.

They run serially on the calling thread and without ``fastmath``: the update is memory-bound (and divider-bound),
so threads did not pay in a training step, and a reciprocal estimate would break the bit-for-bit agreement (the
measurements are in docs/performance.md, "Optimizer updates").

Each kernel has one loop per combination of options, each calling the element function with the options as
constants: a loop with a branch on an option, or a loop that reads or writes an unused slot, is not vectorized by
the compiler (the options' loops differ in which arrays they touch).

>>> w, g = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
>>> sgd_numba(w, g, None, None, 0.1, 0.0, False)  # plain SGD: w -= 0.1 * g
>>> w
array([0.95, 0.95, 0.95], dtype=float32)
"""
from __future__ import annotations

import functools

import numpy as np

from chainrule.backend import kernels


_jit = functools.partial(kernels.jit, error_model="numpy")  # x / 0 gives inf or nan as in NumPy (numba's raises)


def _ready(var, grad) -> bool:
    """Whether the kernel takes these arrays as they are: 1-D (as the optimizer passes them), float32 or float64."""
    return var.ndim == 1 and grad.ndim == 1 and grad.dtype is var.dtype and var.dtype in kernels.FLOATS


def takes(var, grad, slots) -> bool:
    """Whether the kernels take these arrays: float32 or float64 of one dtype, the weight and the slots (None where
    absent) C-contiguous, of any shape."""
    return var.dtype in kernels.FLOATS and grad.dtype == var.dtype and var.flags.c_contiguous and \
        all(s is None or s.flags.c_contiguous for s in slots)


def _flat(var, grad, slots):
    """1-D views of ``var`` and its slots and the gradient as a 1-D array (a flat copy of a weight that is not
    C-contiguous would not be updated, hence the refusal)."""
    if not takes(var, grad, slots):
        raise TypeError(f"optimizer kernel: expected float32 or float64 arrays of one dtype, the weight and its "
                        f"slots C-contiguous; got a {var.dtype} weight (C-contiguous: {var.flags.c_contiguous}) and "
                        f"a {grad.dtype} gradient: run the optimizer's NumPy formula instead")
    return var.reshape(-1), grad.reshape(-1), tuple(None if s is None else s.reshape(-1) for s in slots)


@_jit()
def _check_sizes(n, a, b, c, d):
    if a.size != n or b.size != n or c.size != n or d.size != n:
        raise ValueError("optimizer update: the gradient and the slots must have the size of the variable")


# --- Adam (and AdamW) ---------------------------------------------------------------------------------------------
@_jit()
def _adam_at(i, var, grad, m, v, v_hat, amsgrad, alpha, one_minus_beta_1, one_minus_beta_2, epsilon, keep, gscale):
    f = var.dtype.type  # the constants in the arrays' dtype (hoisted out of the loop by the compiler)
    g = grad[i] * f(gscale)
    mi = m[i] + (g - m[i]) * f(one_minus_beta_1)
    m[i] = mi
    vi = v[i] + (g * g - v[i]) * f(one_minus_beta_2)
    v[i] = vi
    if amsgrad:
        vh = v_hat[i]
        if vi > vh or vi != vi:  # np.maximum: the larger, NaN if either is NaN
            vh = vi
        v_hat[i] = vh
        vi = vh
    var[i] = var[i] * f(keep) - mi / (np.sqrt(vi) + f(epsilon)) * f(alpha)


def _adam_loop(amsgrad: bool):
    # one kernel per option, amsgrad a constant in it: a run compiles only the loop it uses (docs/performance.md,
    # "Kernel compilation")
    def kernel(var, grad, m, v, v_hat, alpha, c1, c2, eps, keep, gscale):
        _check_sizes(var.size, grad, m, v, v_hat)
        for i in range(var.size):
            _adam_at(i, var, grad, m, v, v_hat, amsgrad, alpha, c1, c2, eps, keep, gscale)
    kernel.__qualname__ = kernel.__name__ = "_adam_amsgrad_kernel" if amsgrad else "_adam_kernel"
    return _jit()(kernel)


_ADAM_KERNELS = {amsgrad: _adam_loop(amsgrad) for amsgrad in (False, True)}


def adam_numba(var, grad, m, v, v_hat, scratch, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
               keep=1.0, gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.adam.adam_numpy` in one pass (``scratch`` unused)."""
    if not _ready(var, grad):
        var, grad, (m, v, v_hat) = _flat(var, grad, (m, v, v_hat))
    _ADAM_KERNELS[v_hat is not None](var, grad, m, v, v if v_hat is None else v_hat, alpha, one_minus_beta_1,
                                     one_minus_beta_2, epsilon, keep, gscale)


# --- SGD ----------------------------------------------------------------------------------------------------------
@_jit()
def _sgd_at(i, var, grad, m, has_momentum, learning_rate, momentum, nesterov, keep, gscale):
    f = var.dtype.type
    step = grad[i] * f(gscale) * f(learning_rate)
    w = var[i] * f(keep)
    if not has_momentum:
        var[i] = w - step
        return
    mi = m[i] * f(momentum) - step
    m[i] = mi
    if nesterov:
        var[i] = (w - step) + mi * f(momentum)
    else:
        var[i] = w + mi


@_jit()
def _sgd_kernel(var, grad, m, has_momentum, lr, momentum, nesterov, keep, gscale):
    _check_sizes(var.size, grad, m, m, m)
    if not has_momentum:
        for i in range(var.size):
            _sgd_at(i, var, grad, m, False, lr, momentum, False, keep, gscale)
    elif nesterov:
        for i in range(var.size):
            _sgd_at(i, var, grad, m, True, lr, momentum, True, keep, gscale)
    else:
        for i in range(var.size):
            _sgd_at(i, var, grad, m, True, lr, momentum, False, keep, gscale)


def sgd_numba(var, grad, m, scratch, learning_rate, momentum, nesterov, keep=1.0, gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.sgd.sgd_numpy` in one pass (``scratch`` unused)."""
    if not _ready(var, grad):
        var, grad, (m,) = _flat(var, grad, (m,))
    _sgd_kernel(var, grad, var if m is None else m, m is not None, learning_rate, momentum, bool(nesterov), keep,
                gscale)


# --- RMSprop ------------------------------------------------------------------------------------------------------
@_jit()
def _rmsprop_at(i, var, grad, v, mom, a, has_momentum, centered, learning_rate, rho, one_minus_rho, momentum,
                epsilon, keep, gscale):
    f = var.dtype.type
    g = grad[i] * f(gscale)
    vi = v[i] * f(rho) + (g * g) * f(one_minus_rho)
    v[i] = vi
    if centered:
        ai = a[i] * f(rho) + g * f(one_minus_rho)
        a[i] = ai
        d = (vi - ai * ai) + f(epsilon)
    else:
        d = vi + f(epsilon)
    increment = g / np.sqrt(d) * f(learning_rate)
    if has_momentum:
        increment = mom[i] * f(momentum) + increment
        mom[i] = increment
    var[i] = var[i] * f(keep) - increment


@_jit()
def _rmsprop_kernel(var, grad, v, mom, a, has_momentum, centered, lr, rho, c, momentum, eps, keep, gscale):
    _check_sizes(var.size, grad, v, mom, a)
    if has_momentum and centered:
        for i in range(var.size):
            _rmsprop_at(i, var, grad, v, mom, a, True, True, lr, rho, c, momentum, eps, keep, gscale)
    elif has_momentum:
        for i in range(var.size):
            _rmsprop_at(i, var, grad, v, mom, a, True, False, lr, rho, c, momentum, eps, keep, gscale)
    elif centered:
        for i in range(var.size):
            _rmsprop_at(i, var, grad, v, mom, a, False, True, lr, rho, c, momentum, eps, keep, gscale)
    else:
        for i in range(var.size):
            _rmsprop_at(i, var, grad, v, mom, a, False, False, lr, rho, c, momentum, eps, keep, gscale)


def rmsprop_numba(var, grad, velocity, mom, average_gradient, scratch, learning_rate, rho, one_minus_rho, momentum,
                  epsilon, keep=1.0, gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.rmsprop.rmsprop_numpy` in one pass (``scratch`` unused)."""
    v, a = velocity, average_gradient
    if not _ready(var, grad):
        var, grad, (v, mom, a) = _flat(var, grad, (v, mom, a))
    _rmsprop_kernel(var, grad, v, v if mom is None else mom, v if a is None else a, mom is not None, a is not None,
                    learning_rate, rho, one_minus_rho, momentum, epsilon, keep, gscale)


# --- Adagrad ------------------------------------------------------------------------------------------------------
@_jit()
def _adagrad_at(i, var, grad, acc, learning_rate, epsilon, keep, gscale):
    f = var.dtype.type
    g = grad[i] * f(gscale)
    a = acc[i] + g * g
    acc[i] = a
    var[i] = var[i] * f(keep) - g / np.sqrt(a + f(epsilon)) * f(learning_rate)


@_jit()
def _adagrad_kernel(var, grad, acc, learning_rate, epsilon, keep, gscale):
    _check_sizes(var.size, grad, acc, acc, acc)
    for i in range(var.size):
        _adagrad_at(i, var, grad, acc, learning_rate, epsilon, keep, gscale)


def adagrad_numba(var, grad, accumulator, scratch, learning_rate, epsilon, keep=1.0, gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.adagrad.adagrad_numpy` in one pass (``scratch`` unused)."""
    acc = accumulator
    if not _ready(var, grad):
        var, grad, (acc,) = _flat(var, grad, (acc,))
    _adagrad_kernel(var, grad, acc, learning_rate, epsilon, keep, gscale)


# --- Adamax -------------------------------------------------------------------------------------------------------
@_jit()
def _adamax_kernel(var, grad, m, u, alpha, one_minus_beta_1, beta_2, epsilon, keep, gscale):
    _check_sizes(var.size, grad, m, u, u)
    f = var.dtype.type
    for i in range(var.size):
        g = grad[i] * f(gscale)
        mi = m[i] + (g - m[i]) * f(one_minus_beta_1)
        m[i] = mi
        ui = u[i] * f(beta_2)
        ag = abs(g)
        if not (ui > ag or ui != ui):  # np.maximum: the larger, NaN if either is NaN
            ui = ag
        u[i] = ui
        var[i] = var[i] * f(keep) - mi / (ui + f(epsilon)) * f(alpha)


def adamax_numba(var, grad, m, u, scratch, alpha, one_minus_beta_1, beta_2, epsilon, keep=1.0, gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.adamax.adamax_numpy` in one pass (``scratch`` unused)."""
    if not _ready(var, grad):
        var, grad, (m, u) = _flat(var, grad, (m, u))
    _adamax_kernel(var, grad, m, u, alpha, one_minus_beta_1, beta_2, epsilon, keep, gscale)


# --- Nadam --------------------------------------------------------------------------------------------------------
@_jit()
def _nadam_kernel(var, grad, m, v, one_minus_beta_1, one_minus_beta_2, m_coef, g_coef, v_scale, epsilon, keep,
                  gscale):
    _check_sizes(var.size, grad, m, v, v)
    f = var.dtype.type
    for i in range(var.size):
        g = grad[i] * f(gscale)
        mi = m[i] + (g - m[i]) * f(one_minus_beta_1)
        m[i] = mi
        vi = v[i] + (g * g - v[i]) * f(one_minus_beta_2)
        v[i] = vi
        var[i] = var[i] * f(keep) - (mi * f(m_coef) + g * f(g_coef)) / (np.sqrt(vi * f(v_scale)) + f(epsilon))


def nadam_numba(var, grad, m, v, scratch, one_minus_beta_1, one_minus_beta_2, m_coef, g_coef, v_scale, epsilon,
                keep=1.0, gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.nadam.nadam_numpy` in one pass (``scratch`` unused)."""
    if not _ready(var, grad):
        var, grad, (m, v) = _flat(var, grad, (m, v))
    _nadam_kernel(var, grad, m, v, one_minus_beta_1, one_minus_beta_2, m_coef, g_coef, v_scale, epsilon, keep,
                  gscale)


# --- Adadelta -----------------------------------------------------------------------------------------------------
@_jit()
def _adadelta_kernel(var, grad, acc_grad, acc_delta, learning_rate, rho, one_minus_rho, epsilon, keep, gscale):
    _check_sizes(var.size, grad, acc_grad, acc_delta, acc_delta)
    f = var.dtype.type
    for i in range(var.size):
        g = grad[i] * f(gscale)
        ag = acc_grad[i] * f(rho) + (g * g) * f(one_minus_rho)
        acc_grad[i] = ag
        delta = np.sqrt(acc_delta[i] + f(epsilon)) * g / np.sqrt(ag + f(epsilon))
        acc_delta[i] = acc_delta[i] * f(rho) + (delta * delta) * f(one_minus_rho)
        var[i] = var[i] * f(keep) - delta * f(learning_rate)


def adadelta_numba(var, grad, acc_grad, acc_delta, scratch, learning_rate, rho, one_minus_rho, epsilon, keep=1.0,
                   gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.adadelta.adadelta_numpy` in one pass (``scratch`` unused)."""
    if not _ready(var, grad):
        var, grad, (acc_grad, acc_delta) = _flat(var, grad, (acc_grad, acc_delta))
    _adadelta_kernel(var, grad, acc_grad, acc_delta, learning_rate, rho, one_minus_rho, epsilon, keep, gscale)


# --- Lion ---------------------------------------------------------------------------------------------------------
@_jit()
def _lion_kernel(var, grad, m, learning_rate, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, keep, gscale):
    _check_sizes(var.size, grad, m, m, m)
    f = var.dtype.type
    for i in range(var.size):
        g = grad[i] * f(gscale)
        c = m[i] * f(beta_1) + g * f(one_minus_beta_1)
        s = np.sign(c)
        var[i] = var[i] * f(keep) - s * f(learning_rate)
        m[i] = m[i] * f(beta_2) + g * f(one_minus_beta_2)


def lion_numba(var, grad, m, scratch, learning_rate, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, keep=1.0,
               gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.lion.lion_numpy` in one pass (``scratch`` unused)."""
    if not _ready(var, grad):
        var, grad, (m,) = _flat(var, grad, (m,))
    _lion_kernel(var, grad, m, learning_rate, beta_1, one_minus_beta_1, beta_2, one_minus_beta_2, keep, gscale)


# --- Ftrl ---------------------------------------------------------------------------------------------------------
@_jit()
def _ftrl_kernel(var, grad, acc, linear, learning_rate, l1, two_l2, two_shrinkage, keep, gscale):
    _check_sizes(var.size, grad, acc, linear, linear)
    f = var.dtype.type
    for i in range(var.size):
        g = grad[i] * f(gscale)
        w = var[i] * f(keep)
        new_acc = acc[i] + g * g
        shrunk = g + w * f(two_shrinkage)
        root = np.sqrt(new_acc)
        lin = linear[i] + (shrunk - (root - np.sqrt(acc[i])) / f(learning_rate) * w)
        linear[i] = lin
        quadratic = root / f(learning_rate) + f(two_l2)
        if lin > f(l1):  # np.clip(lin, -l1, l1) - lin
            var[i] = (f(l1) - lin) / quadratic
        elif lin < -f(l1):
            var[i] = (-f(l1) - lin) / quadratic
        else:
            var[i] = (lin - lin) / quadratic
        acc[i] = new_acc


def ftrl_numba(var, grad, accumulator, linear, scratch, learning_rate, power, l1, two_l2, two_shrinkage, keep=1.0,
               gscale=1.0):
    """The update of :func:`chainrule.keras.optimizers.ftrl.ftrl_numpy` in one pass (``scratch`` unused), for the
    default ``learning_rate_power=-0.5`` (a square root; other powers run the NumPy formula: NumPy's vectorized
    power and numba's ``powf`` differ in the last bit)."""
    if power != 0.5:
        raise TypeError(f"optimizer kernel: Ftrl's kernel takes learning_rate_power=-0.5 only, got {-power}: run the "
                        f"optimizer's NumPy formula instead")
    acc = accumulator
    if not _ready(var, grad):
        var, grad, (acc, linear) = _flat(var, grad, (acc, linear))
    _ftrl_kernel(var, grad, acc, linear, learning_rate, l1, two_l2, two_shrinkage, keep, gscale)
