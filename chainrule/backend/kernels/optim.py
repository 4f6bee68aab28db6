"""Optimizer updates: each NumPy update next to the fused numba kernel of the same signature that replaces it.

The NumPy version makes a dozen passes over memory per variable (one per ufunc, through a scratch array); the
kernel makes one, reading the gradient, the weight and the slots once and writing them back once. Both update the
arrays in place and do the same float operations in the same order and the same precision, so they agree bit for
bit: each constant (a Python float) is rounded to the arrays' dtype first, as NumPy does with a Python scalar
(NEP 50), and every product and sum is then taken in that dtype (float32 stays float32)::

    Adam      m += (g - m)(1-b1);  v += (g*g - v)(1-b2);  [v_hat = max(v_hat, v)];  w -= m / (sqrt(v) + eps) * alpha
    SGD       step = g*lr;  m = m*momentum - step;  w += m  |  w = (w - step) + m*momentum  |  w -= step
    RMSprop   v = v*rho + (g*g)(1-rho);  [a = a*rho + g(1-rho)];  inc = g / sqrt(v [- a*a] + eps) * lr;
              [mom = mom*momentum + inc; inc = mom];  w -= inc
    Adagrad   acc += g*g;  w -= g / sqrt(acc + eps) * lr

Every function also takes ``keep`` and ``gscale``: the weight is first multiplied by ``keep`` (decoupled weight
decay, ``w - w*wd*lr`` as ``w * (1 - wd*lr)``) and the gradient by ``gscale`` (``clipnorm``/``global_clipnorm``);
the NumPy version skips a factor of exactly 1, which changes nothing since ``x * 1 == x``. A slot that an option
does not use (``v_hat`` without amsgrad, ...) is passed as None. ``scratch`` is the NumPy version's work array.

The ``*_numba`` functions run the kernel on float32/float64 arrays of one dtype whose weight and slots are
C-contiguous (any shape; the optimizer passes flat views) and fall back to the NumPy version otherwise. The
kernels run on the NumPy backend only; the NumPy versions also serve CuPy. tests/keras/test_optimizer_kernels.py
holds each pair equal.

They run on the calling thread. Threaded versions (``prange`` over 32k-element chunks) were measured and removed:
the update is memory-bound, and in a training step on two cores the threaded Adam of the seed CNN (692k weights) was
never faster than the serial one, and in about half the runs it made the whole step 50% slower (5.5 against 3.6 ms
at batch 32), presumably because the next step's BLAS calls then found the weights in the other core's cache.
Splitting the update over the main thread and a Python thread running a ``nogil`` kernel was worse still (7.5 against
4.1 ms per step): a second thread that must wake on this 2-core machine waits for the core OpenBLAS's thread holds.
Putting OpenBLAS's idle thread to sleep at once (``OPENBLAS_THREAD_TIMEOUT=4``) does not rescue the threaded
update: in 12 alternating rounds on a busy evening the step took 9.3 ms (threaded, timeout) and 9.8 ms (threaded)
against 5.6 ms (serial, timeout) and 5.1 ms (serial): a parallel loop waits for whichever thread a neighbour slowed.

In the step, the seed CNN's Adam (~0.8 ms) is bound by the divider as much as by memory: a stand-in kernel with the
same loads and stores but no sqrt and division made the step 0.2-0.45 ms shorter. ``fastmath`` (a reciprocal
estimate for the division) gained nothing alone and would break the bit-for-bit agreement, so the kernels stay exact.

Each kernel has one loop per combination of options, each calling the element function with the options as
constants: a loop with a branch on an option, or a loop that reads or writes an unused slot, is not vectorized by
the compiler (the options' loops differ in which arrays they touch).

>>> w, g = np.ones(3, np.float32), np.full(3, 0.5, np.float32)
>>> sgd_numba(w, g, None, None, 0.1, 0.0, False)  # plain SGD: w -= 0.1 * g
>>> w
array([0.95, 0.95, 0.95], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend import kernels



def _jit():
    """``kernels.jit`` with NumPy's error model: ``x / 0`` gives inf or nan as in NumPy (numba's default raises)."""
    def wrap(f):
        if kernels.numba is None:
            return f
        return kernels.numba.njit(cache=True, fastmath=False, error_model="numpy")(f)
    return wrap


def _ready(var, grad) -> bool:
    """Whether the kernel takes these arrays as they are: 1-D (as the optimizer passes them), float32 or float64."""
    return var.ndim == 1 and grad.ndim == 1 and grad.dtype is var.dtype and var.dtype in kernels.FLOATS


def _flat(var, grad, slots):
    """1-D views of ``var`` and its slots and the gradient as a 1-D array; None where the kernel cannot run (another
    dtype, or a weight or slot that is not C-contiguous, which a flat copy would not update)."""
    if var.dtype not in kernels.FLOATS or grad.dtype != var.dtype:
        return None
    if not (var.flags.c_contiguous and all(s is None or s.flags.c_contiguous for s in slots)):
        return None
    return var.reshape(-1), grad.reshape(-1), tuple(None if s is None else s.reshape(-1) for s in slots)


@_jit()
def _check_sizes(n, a, b, c, d):
    if a.size != n or b.size != n or c.size != n or d.size != n:
        raise ValueError("optimizer update: the gradient and the slots must have the size of the variable")


# --- Adam (and AdamW) ---------------------------------------------------------------------------------------------
def adam_numpy(var, grad, m, v, v_hat, scratch, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
               keep=1.0, gscale=1.0):
    """Keras's Adam step with ``alpha = lr sqrt(1 - b2^t) / (1 - b1^t)``; amsgrad when ``v_hat`` is given."""
    xp, t = backend.xp, scratch
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    m += xp.multiply(xp.subtract(grad, m, out=t), one_minus_beta_1, out=t)
    xp.multiply(grad, grad, out=t)
    t -= v
    t *= one_minus_beta_2
    v += t
    if v_hat is not None:
        v = xp.maximum(v_hat, v, out=v_hat)
    xp.sqrt(v, out=t)
    t += epsilon
    step = xp.divide(m, t, out=t)
    step *= alpha
    var -= step


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


@_jit()
def _adam_kernel(var, grad, m, v, v_hat, amsgrad, alpha, c1, c2, eps, keep, gscale):
    _check_sizes(var.size, grad, m, v, v_hat)
    if amsgrad:
        for i in range(var.size):
            _adam_at(i, var, grad, m, v, v_hat, True, alpha, c1, c2, eps, keep, gscale)
    else:
        for i in range(var.size):
            _adam_at(i, var, grad, m, v, v_hat, False, alpha, c1, c2, eps, keep, gscale)


def adam_numba(var, grad, m, v, v_hat, scratch, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
               keep=1.0, gscale=1.0):
    """:func:`adam_numpy` in one pass (``scratch`` unused)."""
    if not _ready(var, grad):
        flat = _flat(var, grad, (m, v, v_hat))
        if flat is None:
            return adam_numpy(var, grad, m, v, v_hat, scratch, alpha, one_minus_beta_1, one_minus_beta_2, epsilon,
                              keep, gscale)
        var, grad, (m, v, v_hat) = flat
    _adam_kernel(var, grad, m, v, v if v_hat is None else v_hat, v_hat is not None, alpha, one_minus_beta_1,
                 one_minus_beta_2, epsilon, keep, gscale)


# --- SGD ----------------------------------------------------------------------------------------------------------
def sgd_numpy(var, grad, m, scratch, learning_rate, momentum, nesterov, keep=1.0, gscale=1.0):
    """Gradient descent; with a momentum slot ``m`` (None without momentum), classical or Nesterov."""
    xp = backend.xp
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    step = xp.multiply(grad, learning_rate, out=scratch)  # lr * g
    if m is None:
        var -= step
        return
    m *= momentum
    m -= step
    if nesterov:
        var -= step
        var += xp.multiply(m, momentum, out=step)
    else:
        var += m


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
    """:func:`sgd_numpy` in one pass (``scratch`` unused)."""
    if not _ready(var, grad):
        flat = _flat(var, grad, (m,))
        if flat is None:
            return sgd_numpy(var, grad, m, scratch, learning_rate, momentum, nesterov, keep, gscale)
        var, grad, (m,) = flat
    _sgd_kernel(var, grad, var if m is None else m, m is not None, learning_rate, momentum, bool(nesterov), keep,
                gscale)


# --- RMSprop ------------------------------------------------------------------------------------------------------
def rmsprop_numpy(var, grad, velocity, mom, average_gradient, scratch, learning_rate, rho, one_minus_rho, momentum,
                  epsilon, keep=1.0, gscale=1.0):
    """RMSprop; ``mom`` (momentum) and ``average_gradient`` (centered) are None when their option is off."""
    xp, t, v = backend.xp, scratch, velocity
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    v *= rho
    v += xp.multiply(xp.multiply(grad, grad, out=t), one_minus_rho, out=t)
    if average_gradient is not None:
        a = average_gradient
        a *= rho
        a += xp.multiply(grad, one_minus_rho, out=t)
        xp.subtract(v, xp.multiply(a, a, out=t), out=t)
        t += epsilon
    else:
        xp.add(v, epsilon, out=t)
    increment = xp.divide(grad, xp.sqrt(t, out=t), out=t)
    increment *= learning_rate
    if mom is not None:
        mom *= momentum
        mom += increment
        increment = mom
    var -= increment


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
    """:func:`rmsprop_numpy` in one pass (``scratch`` unused)."""
    v, a = velocity, average_gradient
    if not _ready(var, grad):
        flat = _flat(var, grad, (v, mom, a))
        if flat is None:
            return rmsprop_numpy(var, grad, v, mom, a, scratch, learning_rate, rho, one_minus_rho, momentum, epsilon,
                                 keep, gscale)
        var, grad, (v, mom, a) = flat
    _rmsprop_kernel(var, grad, v, v if mom is None else mom, v if a is None else a, mom is not None, a is not None,
                    learning_rate, rho, one_minus_rho, momentum, epsilon, keep, gscale)


# --- Adagrad ------------------------------------------------------------------------------------------------------
def adagrad_numpy(var, grad, accumulator, scratch, learning_rate, epsilon, keep=1.0, gscale=1.0):
    """Adagrad: ``acc += g*g; w -= g / sqrt(acc + eps) * lr``."""
    xp, t, acc = backend.xp, scratch, accumulator
    if keep != 1.0:
        var *= keep
    if gscale != 1.0:
        grad = grad * gscale
    acc += xp.multiply(grad, grad, out=t)
    xp.add(acc, epsilon, out=t)
    step = xp.divide(grad, xp.sqrt(t, out=t), out=t)
    step *= learning_rate
    var -= step


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
    """:func:`adagrad_numpy` in one pass (``scratch`` unused)."""
    acc = accumulator
    if not _ready(var, grad):
        flat = _flat(var, grad, (acc,))
        if flat is None:
            return adagrad_numpy(var, grad, acc, scratch, learning_rate, epsilon, keep, gscale)
        var, grad, (acc,) = flat
    _adagrad_kernel(var, grad, acc, learning_rate, epsilon, keep, gscale)
