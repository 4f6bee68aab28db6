"""The CTC loss's forward-backward recursions in log space, NumPy (vectorized over the batch, a Python loop over time)
beside a numba kernel (one compiled loop per sequence), and the same recursions on the array API for other backends.

With the extended label l' = (blank, l1, blank, l2, ..., blank) of S = 2L + 1 states and log-probabilities lp[t, c]:

    alpha[0, 0] = lp[0, blank],  alpha[0, 1] = lp[0, l'1]
    alpha[t, s] = logsumexp(alpha[t-1, s], alpha[t-1, s-1], alpha[t-1, s-2] if l'[s] != blank and l'[s] != l'[s-2])
                  + lp[t, l'[s]]
    beta[T-1, S-1] = beta[T-1, S-2] = 0,  beta[t, s] = logsumexp over the states s' that s moves to of
                  beta[t+1, s'] + lp[t+1, l'[s']]
    loss = -log p,  log p = logsumexp(alpha[T-1, S-1], alpha[T-1, S-2])
    d loss / d logits[t, c] = softmax[t, c] - Σ_{s: l'[s] = c} exp(alpha[t, s] + beta[t, s] - log p)   (t < T)

A labelling longer than its input allows (p = 0) has an infinite loss and a zero gradient, so that one impossible
sequence leaves the rest of a batch's gradient intact.

>>> import numpy as np
>>> lp = np.log(np.full((1, 2, 2), 0.5))
>>> loss, _ = ctc_numpy(lp, np.array([[1]]), np.array([1]), np.array([2]), 0)
>>> np.round(np.exp(-loss), 6)   # paths (1, 1), (1, blank), (blank, 1)
array([0.75])
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import jit, runs_on


def extended_labels(labels, blank: int):
    """(batch, 2L + 1): blank, l1, blank, l2, ..., blank."""
    xp = backend.array_namespace(labels)
    ext = xp.full((labels.shape[0], 2 * labels.shape[1] + 1), blank, dtype=labels.dtype)
    ext[:, 1::2] = labels
    return ext


def ctc_numpy(lp, labels, label_length, logit_length, blank: int):
    """(loss per sequence, d loss / d logits) for log-softmax outputs ``lp`` (batch, time, classes): NumPy arrays."""
    xp = np
    batch, steps, classes = lp.shape
    ext = extended_labels(labels, blank)
    states = ext.shape[1]
    emit = xp.take_along_axis(lp, xp.broadcast_to(ext[:, None, :], (batch, steps, states)), axis=2)
    skip = xp.zeros((batch, states), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    used = xp.arange(states)[None, :] < (2 * label_length + 1)[:, None]
    minus_inf = xp.asarray(-xp.inf, dtype=lp.dtype)
    alpha = xp.full((batch, steps, states), minus_inf, dtype=lp.dtype)
    if steps:
        alpha[:, 0, :2] = emit[:, 0, :2]
        alpha[:, 0] = xp.where(used, alpha[:, 0], minus_inf)
    for t in range(1, steps):
        prev = alpha[:, t - 1]
        one = xp.concatenate([xp.full((batch, 1), minus_inf, lp.dtype), prev[:, :-1]], axis=1)
        two = xp.concatenate([xp.full((batch, 2), minus_inf, lp.dtype), prev[:, :-2]], axis=1)
        two = xp.where(skip, two, minus_inf)
        alpha[:, t] = xp.where(used, xp.logaddexp(xp.logaddexp(prev, one), two) + emit[:, t], minus_inf)
    rows = xp.arange(batch)
    last_t = xp.maximum(logit_length - 1, 0)
    final = alpha[rows, last_t]  # (batch, states)
    end = 2 * label_length  # the last state
    log_p = xp.logaddexp(final[rows, end], xp.where(end >= 1, final[rows, xp.maximum(end - 1, 0)], minus_inf))
    log_p = xp.where(logit_length > 0, log_p, xp.where(label_length == 0, 0.0, minus_inf)).astype(lp.dtype)

    beta = xp.full((batch, steps, states), minus_inf, dtype=lp.dtype)
    state_ids = xp.arange(states)[None, :]
    ends = (state_ids == end[:, None]) | (state_ids == end[:, None] - 1)
    for t in range(steps - 1, -1, -1):
        if t + 1 < steps:
            nxt = beta[:, t + 1] + emit[:, t + 1]
            one = xp.concatenate([nxt[:, 1:], xp.full((batch, 1), minus_inf, lp.dtype)], axis=1)
            two = xp.where(skip, nxt, minus_inf)
            two = xp.concatenate([two[:, 2:], xp.full((batch, 2), minus_inf, lp.dtype)], axis=1)
            step = xp.logaddexp(xp.logaddexp(nxt, one), two)
        else:
            step = xp.full((batch, states), minus_inf, dtype=lp.dtype)
        at_end = (t == logit_length - 1)[:, None]
        beta[:, t] = xp.where(at_end & ends, 0.0, xp.where((t < logit_length - 1)[:, None] & used, step, minus_inf))

    feasible = xp.isfinite(log_p)
    with np.errstate(invalid="ignore"):
        occupancy = xp.exp(alpha + beta - xp.where(feasible, log_p, 0.0)[:, None, None])
    one_hot = (ext[:, :, None] == xp.arange(classes)[None, None, :]).astype(lp.dtype)
    gamma = occupancy @ one_hot  # (batch, time, classes)
    valid = (xp.arange(steps)[None, :] < logit_length[:, None]) & feasible[:, None]
    grad = xp.where(valid[:, :, None], xp.exp(lp) - gamma, 0.0).astype(lp.dtype)
    return (-log_p).astype(lp.dtype), grad


def ctc_namespace(lp, labels, label_length, logit_length, blank: int):
    """:func:`ctc_numpy`'s recursions on any backend's arrays (the array API only): each time step's alpha and beta
    a new array, stacked at the end; the gathers by label and by length through ``take_along_axis``."""
    xp = backend.array_namespace(lp)
    batch, steps, classes = lp.shape
    label_length, logit_length = xp.astype(label_length, xp.int64), xp.astype(logit_length, xp.int64)
    ext = extended_labels(xp.astype(labels, xp.int64), blank)
    states = ext.shape[1]
    minus_inf, zero = xp.full((), -xp.inf, dtype=lp.dtype), xp.zeros((), dtype=lp.dtype)

    def shifted(a, k: int, later: bool):
        """``a`` (batch, states) moved k states later (or earlier), -inf where nothing moves in."""
        fill = xp.full((batch, min(k, states)), -xp.inf, dtype=lp.dtype)
        return xp.concat([fill, a[:, :max(states - k, 0)]] if later else [a[:, min(k, states):], fill], axis=1)

    emit = xp.take_along_axis(lp, xp.broadcast_to(ext[:, None, :], (batch, steps, states)), axis=2)
    skip = xp.concat([xp.zeros((batch, min(2, states)), dtype=bool),
                      (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])], axis=1)
    state_ids = xp.arange(states, dtype=xp.int64)[None, :]
    used = state_ids < (2 * label_length + 1)[:, None]
    alphas = []
    for t in range(steps):
        if t == 0:
            step = xp.where(state_ids < 2, emit[:, 0, :], minus_inf)
        else:
            prev = alphas[-1]
            two = xp.where(skip, shifted(prev, 2, later=True), minus_inf)
            step = xp.logaddexp(xp.logaddexp(prev, shifted(prev, 1, later=True)), two) + emit[:, t, :]
        alphas.append(xp.where(used, step, minus_inf))
    end = 2 * label_length  # the last state
    if steps:
        alpha = xp.stack(alphas, axis=1)
        last_t = xp.clip(logit_length - 1, 0, None)
        final = xp.take_along_axis(alpha, xp.broadcast_to(last_t[:, None, None], (batch, 1, states)), axis=1)[:, 0, :]
        at_end = xp.take_along_axis(final, end[:, None], axis=1)[:, 0]
        before_end = xp.take_along_axis(final, xp.clip(end - 1, 0, None)[:, None], axis=1)[:, 0]
        log_p = xp.logaddexp(at_end, xp.where(end >= 1, before_end, minus_inf))
    else:
        alpha, log_p = xp.full((batch, 0, states), -xp.inf, dtype=lp.dtype), xp.full((batch,), -xp.inf, dtype=lp.dtype)
    log_p = xp.where(logit_length > 0, log_p, xp.where(label_length == 0, zero, minus_inf))

    ends = (state_ids == end[:, None]) | (state_ids == end[:, None] - 1)
    betas = []
    for t in range(steps - 1, -1, -1):
        if betas:
            nxt = betas[-1] + emit[:, t + 1, :]
            two = shifted(xp.where(skip, nxt, minus_inf), 2, later=False)
            step = xp.logaddexp(xp.logaddexp(nxt, shifted(nxt, 1, later=False)), two)
        else:
            step = xp.full((batch, states), -xp.inf, dtype=lp.dtype)
        inside = (t < logit_length - 1)[:, None] & used
        betas.append(xp.where((t == logit_length - 1)[:, None] & ends, zero, xp.where(inside, step, minus_inf)))
    beta = xp.stack(betas[::-1], axis=1) if steps else alpha

    feasible = xp.isfinite(log_p)
    occupancy = xp.exp(alpha + beta - xp.where(feasible, log_p, zero)[:, None, None])
    one_hot = xp.astype(ext[:, :, None] == xp.arange(classes, dtype=xp.int64)[None, None, :], lp.dtype)
    gamma = occupancy @ one_hot  # (batch, time, classes)
    valid = (xp.arange(steps, dtype=xp.int64)[None, :] < logit_length[:, None]) & feasible[:, None]
    grad = xp.where(valid[:, :, None], xp.exp(lp) - gamma, zero)
    return -log_p, grad


@jit(bit_exact=False)  # sums in another order than NumPy: compiled in the calling thread
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@jit(bit_exact=False)
def _ctc_kernel(lp, ext, label_length, logit_length, blank, loss, grad, alpha, beta):
    batch, steps, classes = lp.shape
    minus_inf = -np.inf
    for b in range(batch):
        n_t = logit_length[b]
        n_s = 2 * label_length[b] + 1
        for t in range(steps):
            for s in range(ext.shape[1]):
                alpha[t, s] = minus_inf
                beta[t, s] = minus_inf
        if n_t == 0:
            loss[b] = 0.0 if label_length[b] == 0 else np.inf
            continue
        alpha[0, 0] = lp[b, 0, ext[b, 0]]
        if n_s > 1:
            alpha[0, 1] = lp[b, 0, ext[b, 1]]
        for t in range(1, n_t):
            for s in range(n_s):
                a = alpha[t - 1, s]
                if s >= 1:
                    a = _logaddexp(a, alpha[t - 1, s - 1])
                if s >= 2 and ext[b, s] != blank and ext[b, s] != ext[b, s - 2]:
                    a = _logaddexp(a, alpha[t - 1, s - 2])
                if a != minus_inf:
                    alpha[t, s] = a + lp[b, t, ext[b, s]]
        log_p = alpha[n_t - 1, n_s - 1]
        if n_s > 1:
            log_p = _logaddexp(log_p, alpha[n_t - 1, n_s - 2])
        loss[b] = -log_p
        if log_p == minus_inf:
            continue
        beta[n_t - 1, n_s - 1] = 0.0
        if n_s > 1:
            beta[n_t - 1, n_s - 2] = 0.0
        for t in range(n_t - 2, -1, -1):
            for s in range(n_s):
                a = beta[t + 1, s] + lp[b, t + 1, ext[b, s]]
                if s + 1 < n_s:
                    a = _logaddexp(a, beta[t + 1, s + 1] + lp[b, t + 1, ext[b, s + 1]])
                if s + 2 < n_s and ext[b, s + 2] != blank and ext[b, s + 2] != ext[b, s]:
                    a = _logaddexp(a, beta[t + 1, s + 2] + lp[b, t + 1, ext[b, s + 2]])
                beta[t, s] = a
        for t in range(n_t):
            for c in range(classes):
                grad[b, t, c] = np.exp(lp[b, t, c])
            for s in range(n_s):
                occupancy = alpha[t, s] + beta[t, s]
                if occupancy != minus_inf:
                    grad[b, t, ext[b, s]] -= np.exp(occupancy - log_p)


def ctc(lp, labels, label_length, logit_length, blank: int):
    """:func:`ctc_numpy`'s results, by the numba kernel where it runs (off NumPy :func:`ctc_namespace`'s)."""
    if type(lp) is not np.ndarray:
        return ctc_namespace(lp, labels, label_length, logit_length, blank)
    if not (runs_on(lp.dtype) and lp.flags.c_contiguous):
        return ctc_numpy(lp, labels, label_length, logit_length, blank)
    xp = np
    ext = extended_labels(labels.astype(np.int64), blank)
    loss = xp.zeros(lp.shape[0], dtype=lp.dtype)
    grad = xp.zeros_like(lp)
    scratch = (lp.shape[1], ext.shape[1])
    _ctc_kernel(lp, ext, label_length.astype(np.int64), logit_length.astype(np.int64), int(blank), loss, grad,
                xp.empty(scratch, lp.dtype), xp.empty(scratch, lp.dtype))
    return loss, grad
