"""Scaled dot-product attention as one node: ``softmax(q kᵀ * scale + bias, masked) v`` over (..., steps, features).

One node instead of five (two matmuls, scale, mask, softmax): the forward keeps the probabilities, and the backward
needs only ``Σ g·out`` per query row for the softmax's term (``Σ_j dP_ij P_ij = Σ_d g_id out_id``), the identity
that flash attention uses.

Masks follow PyTorch's ``attn_mask``: a boolean mask keeps the positions where it is True; a float mask is added to
the scores (and gets a gradient, as Keras's ``bias``). ``is_causal`` keeps key j for query i when j <= i. A masked
score becomes a large finite negative number rather than -inf and its probability is then set to 0, so a query whose
keys are all masked gets zeros, as PyTorch's kernels and Keras's masked softmax give, rather than NaN.

>>> import numpy as np
>>> q = k = np.eye(2)[None]
>>> v = np.array([[[1.0, 0.0], [0.0, 1.0]]])
>>> scaled_dot_product_attention(q, k, v, is_causal=True).numpy()[0, 0]
array([1., 0.])
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.backend.kernels import attention as attention_kernels
from chainrule.backend.threads import parallel_region, run_on_rows
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.activation import Softmax
from chainrule.ops.broadcast import unbroadcast
from chainrule.ops.linalg import _swap_last
from chainrule.ops.math import Where, cast
from chainrule.ops.nn import _mask_generator


MIN_SCORES = 1 << 16  # a part's least work: fewer scores gain less from a thread than its start costs


def masked_score(dtype) -> float:
    """The score a masked position gets: far below any real score, yet finite (Keras's ``-0.7 * max``)."""
    return float(-0.7 * np.finfo(dtype).max)


def _keep(mask, is_causal: bool, steps: tuple[int, int], like=None):
    """The boolean positions attention keeps (the mask and the causal triangle together), or None for all; on the
    backend of ``like`` (NumPy's when None)."""
    if not is_causal:
        return mask
    if like is None or type(like) is np.ndarray:
        causal = np.tri(steps[0], steps[1], 0, dtype=bool)
    else:
        xp = backend.array_namespace(like)
        causal = xp.tril(xp.ones(steps, dtype=xp.bool))
    return causal if mask is None else mask & causal


def _dropout_factors(seed, shape: tuple[int, ...], rate: float, like):
    """Dropout's kept/(1 - rate) factors over the probabilities, drawn on the host as the dropout op draws them, on
    the backend of ``like``."""
    dtype = backend.numpy_dtype(like.dtype)
    kept = _mask_generator(seed).random(shape, dtype=np.float32) >= rate
    factors = kept.astype(dtype) * dtype.type(1.0 / (1.0 - rate))
    return factors if type(like) is np.ndarray else backend.extras_for(like).from_host(factors)


class ScaledDotProductAttention(Function):
    # S = q kᵀ s + b (masked),  P = softmax(S),  W = P D (D: dropout's kept/(1-rate), or 1),  y = W v
    # ->  dv = Wᵀ g,  dP = (g vᵀ) D,  dS = P (dP - Σ_j dP P),  dq = s dS k,  dk = s dSᵀ q,  db = dS
    # (Σ_j dP P = Σ_d g y without dropout; P = 0, so dS = 0, where masked; the dropout mask is drawn in forward, so a
    # replayed step draws a new one, as the dropout op does)
    def forward(self, q, k, v, bias, mask, scale, is_causal, dropout_rate, seed):
        xp = backend.xp
        self.scale = scale
        self.keep = keep = _keep(mask, is_causal, (q.shape[-2], k.shape[-2]), like=q)
        lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        scores_shape = lead + (q.shape[-2], k.shape[-2])
        self.drop = drop = _dropout_factors(seed, scores_shape, dropout_rate, q) if dropout_rate else None
        if type(q) is not np.ndarray:
            out, self.probs = attend_namespace(q, k, v, scale, bias, keep, drop)
            return out
        probs = xp.empty(scores_shape, q.dtype)
        out = xp.empty(lead + (q.shape[-2], v.shape[-1]), q.dtype)
        scale_q = q.size <= k.size

        def attend(lo, hi):  # the items lo:hi of the leading axis (all of them without one)
            part = _part_of(lead, lo, hi)
            k_t = _transposed_copy(part(k), xp)  # BLAS multiplies the small matrices faster in this layout
            if scale_q:
                q_ = part(q) * scale
            else:
                q_ = part(q)
                k_t *= scale
            attend_part(q_, k_t, part(v), part(probs), part(out), part(bias), part(keep), part(drop))

        _on_leading_items(attend, lead, probs.size)
        self.probs = probs
        return out

    def _probabilities(self):
        """P: saved on the fast path; rebuilt from the inputs with differentiable ops under create_graph."""
        if self.graph_out is None:
            return self.probs
        q, k, _, bias = self.args[:4]
        scores = (q * self.scale) @ _swap_last(k)
        if bias is not None:
            scores = scores + bias
        if self.keep is not None:
            scores = Where.apply(self.keep, scores, masked_score(scores.dtype))
        probs = Softmax.apply(scores, axis=scores.ndim - 1)
        return probs if self.keep is None else probs * self.keep

    def backward(self, g):
        q, k, v, bias = self.args[:4]
        need_q, need_k, need_v, need_bias = self.needs_input_grad[:4]
        shapes = [None if a is None else a.shape for a in self.arrays[:4]]
        if self.graph_out is None and all(shape[:-2] == g.shape[:-2] for shape in shapes[:3]) \
                and not (need_bias and shapes[3] != self.probs.shape):
            if type(g) is not np.ndarray:
                grads = differentiate_namespace(g, self.output, *self.arrays[:3], self.probs, self.drop, self.scale)
                return tuple(d if need else None for d, need in zip(grads, (need_q, need_k, need_v, need_bias))) + \
                    (None,)
            return self._backward_arrays(g, need_q, need_k, need_v, need_bias) + (None,)
        probs, drop = self._probabilities(), self.drop
        dv = unbroadcast(_swap_last(probs if drop is None else probs * drop) @ g, shapes[2]) if need_v else None
        if not (need_q or need_k or need_bias):
            return None, None, dv, None, None
        if drop is not None:
            dprobs = (g @ _swap_last(v)) * drop
            dscores = probs * (dprobs - _row_sum(dprobs * probs))
        else:
            dscores = probs * (g @ _swap_last(v) - _row_sum(g * self.output))
        dq = unbroadcast(_scaled(dscores @ k, self.scale), shapes[0]) if need_q else None
        dk = unbroadcast(_scaled(_swap_last(dscores) @ q, self.scale), shapes[1]) if need_k else None
        dbias = unbroadcast(dscores, shapes[3]) if need_bias else None
        return dq, dk, dv, dbias, None

    def _backward_arrays(self, g, need_q, need_k, need_v, need_bias):
        """The backward over arrays whose leading axes are all the scores' (nothing to sum over broadcast axes), by
        parts of the leading axis side by side as the forward ran: (dq, dk, dv, dbias)."""
        xp = backend.xp
        q, k, v = self.arrays[:3]
        probs, drop, y, lead = self.probs, self.drop, self.output, g.shape[:-2]
        grads = [xp.empty_like(a) if need else None for a, need in zip((q, k, v, probs), (need_q, need_k, need_v,
                                                                                        need_bias))]
        dq, dk, dv, dbias = grads
        scores_needed = need_q or need_k or need_bias

        def differentiate(lo, hi):
            part = _part_of(lead, lo, hi)
            differentiate_part(part(g), part(y), part(q), part(k), part(v), part(probs), part(drop), self.scale,
                               part(dq), part(dk), part(dv), part(dbias), scores_needed)

        _on_leading_items(differentiate, lead, probs.size)
        return dq, dk, dv, dbias


def _row_sum(x):
    """Σ over the last axis, kept, of a Tensor or of any backend's array."""
    if isinstance(x, Tensor):
        return x.sum(axis=-1, keepdims=True)
    return backend.array_namespace(x).sum(x, axis=-1, keepdims=True)


def attend_namespace(q, k, v, scale: float, bias=None, keep=None, drop=None):
    """(attention's output, its probabilities) for any backend's arrays, on the standard's functions: the scores
    ``q kᵀ scale + bias``, ``keep``'s masked positions at :func:`masked_score`, the softmax (a row with every key
    masked gives zeros), then ``probs v`` (times the dropout factors ``drop``)."""
    owner = backend.extras_for(q)
    xp = owner.namespace
    scores = xp.matmul(q * scale, xp.matrix_transpose(k))
    if bias is not None:
        scores = scores + bias
    if keep is not None:
        scores = xp.where(keep, scores, masked_score(backend.numpy_dtype(scores.dtype)))
    probs = xp.exp(scores - xp.max(scores, axis=-1, keepdims=True))
    probs = probs / xp.sum(probs, axis=-1, keepdims=True)
    if keep is not None:
        probs = probs * owner.as_numeric(keep, probs.dtype)
    return xp.matmul(probs if drop is None else probs * drop, v), probs


def differentiate_namespace(g, y, q, k, v, probs, drop, scale: float):
    """(dq, dk, dv, the scores' gradient) of :func:`attend_namespace` for any backend's arrays whose leading axes
    are all the scores' (``y``: its output)."""
    xp = backend.array_namespace(g)
    dv = xp.matmul(xp.matrix_transpose(probs if drop is None else probs * drop), g)
    dprobs = xp.matmul(g, xp.matrix_transpose(v))
    if drop is None:  # Σ_j dP P = Σ_d g y
        row_dot = xp.sum(g * y, axis=-1, keepdims=True)
    else:
        dprobs = dprobs * drop
        row_dot = xp.sum(dprobs * probs, axis=-1, keepdims=True)
    ds = probs * (dprobs - row_dot)
    return xp.matmul(ds, k) * scale, xp.matmul(xp.matrix_transpose(ds), q) * scale, dv, ds


def attend_part(q, k_t, v, probs, out, bias=None, keep=None, drop=None) -> None:
    """Attention over arrays of one part: the scores ``q k_t`` (the scale already in q or k_t) into ``probs``, plus
    ``bias``, ``keep``'s masked positions at :func:`masked_score`, the softmax in place, then ``probs v`` (times the
    dropout factors ``drop``) into ``out`` (which may be a strided view)."""
    xp = backend.xp
    xp.matmul(q, k_t, out=probs)
    if bias is not None:
        probs += bias
    if keep is not None:
        xp.copyto(probs, probs.dtype.type(masked_score(probs.dtype)), where=~keep)
    # the softmax in place on the fresh scores (NumPy's vectorized exp beats a row kernel's scalar one here)
    attention_kernels.subtract_row_max_(probs)
    xp.exp(probs, out=probs)
    attention_kernels.normalize_rows_(probs)
    if keep is not None:  # a row with every key masked: zeros, not a uniform average
        probs *= keep
    xp.matmul(probs if drop is None else probs * drop, v, out=out)


def differentiate_part(g, y, q, k, v, probs, drop, scale: float, dq, dk, dv, ds=None, scores_needed: bool = True):
    """The attention backward over arrays of one part, into ``dq``, ``dk``, ``dv`` (each None if not needed; any
    may be strided views) and the scores' gradient into ``ds`` (a fresh array if None)."""
    xp = backend.xp
    if dv is not None:
        xp.matmul((probs if drop is None else probs * drop).swapaxes(-1, -2), g, out=dv)
    if not scores_needed:
        return
    ds = xp.matmul(g, _transposed_copy(v, xp), out=ds)
    if drop is None:  # Σ_j dP P = Σ_d g y
        row_dot = (g * y).sum(axis=-1, keepdims=True)
    else:
        ds *= drop
        row_dot = (ds * probs).sum(axis=-1, keepdims=True)
    attention_kernels.softmax_grad_(ds, probs, row_dot)
    if dq is not None:
        xp.matmul(ds, k, out=dq)
        dq *= scale
    if dk is not None:
        xp.matmul(ds.swapaxes(-1, -2), q, out=dk)
        dk *= scale


def _transposed_copy(a, xp):
    """The last two axes of ``a`` swapped, as a new C-ordered array."""
    return xp.array(a.swapaxes(-1, -2), order="C")


def _part_of(lead: tuple[int, ...], lo: int, hi: int):
    """A function giving an array's items lo:hi of the leading axis of ``lead`` (the broadcast leading shape), or the
    whole array where it broadcasts along that axis (size 1 there, or fewer dimensions)."""
    if not lead or (lo, hi) == (0, lead[0]):
        return lambda a: a
    rank = len(lead) + 2
    return lambda a: a[lo:hi] if a is not None and a.ndim == rank and a.shape[0] != 1 else a


def _on_leading_items(fn, lead: tuple[int, ...], scores: int) -> None:
    """``fn(lo, hi)`` over the items of the leading axis in parts side by side (backend/threads.py), each part at
    least ``MIN_SCORES`` attention scores; all at once without a leading axis or with little work."""
    items = lead[0] if lead else 1
    min_items = -(-MIN_SCORES * items // max(scores, 1))
    with parallel_region(items, min_items):
        run_on_rows(fn, items, min_items)


def _scaled(x, scale: float):
    """``x * scale``, in place on a fresh array."""
    if isinstance(x, Tensor):
        return x * scale
    x *= scale
    return x


def _checked_mask(mask, scores_shape: tuple[int, ...], dtype) -> tuple[Tensor | None, Tensor | None]:
    """(an additive float mask, a boolean mask), tensors broadcastable to the scores (a tensor, not an array, so that
    a replayed step reads each batch's mask rather than the traced one's)."""
    if mask is None:
        return None, None
    is_tensor = isinstance(mask, Tensor)
    if not (is_tensor or backend.is_array(mask)):  # (any backend's array stays where it lives)
        mask = np.asarray(mask)
    kind = backend.dtype_kind(mask.dtype)
    try:
        np.broadcast_shapes(tuple(mask.shape), scores_shape)
    except ValueError:
        raise ValueError(f"scaled_dot_product_attention: mask of shape {tuple(np.shape(mask))} does not broadcast "
                         f"to the attention scores' shape {scores_shape} (..., query steps, key steps)") from None
    if kind == "b":
        return None, mask if is_tensor else as_tensor(mask)
    if kind != "f":
        raise TypeError(f"scaled_dot_product_attention: mask must be boolean (True = attend) or float (added to the "
                        f"scores), got dtype {backend.numpy_dtype(mask.dtype)}")
    bias = mask if is_tensor else as_tensor(mask, dtype=dtype)
    return (bias if bias.dtype == dtype else cast(bias, dtype)), None


@op
def scaled_dot_product_attention(query: TensorLike, key: TensorLike, value: TensorLike, mask: TensorLike | None = None,
                                 scale: float | None = None, is_causal: bool = False, dropout_rate: float = 0.0,
                                 seed: int | np.random.Generator | None = None) -> Tensor:
    """``softmax(query keyᵀ * scale + mask) value`` over tensors shaped (..., steps, features), as
    ``torch.nn.functional.scaled_dot_product_attention``: leading axes (batch, heads) broadcast, ``scale`` defaults
    to ``1 / sqrt(features)``, ``mask`` is boolean (True = attend) or float (added), ``is_causal`` masks later keys.
    ``dropout_rate`` (torch's ``dropout_p``) drops attention probabilities and scales the rest by 1 / (1 - rate),
    the mask drawn as the ``dropout`` op draws it (``seed``: None, an op seed, or a Generator).
    """
    q, k, v = as_tensor(query), as_tensor(key), as_tensor(value)
    for name, t in (("query", q), ("key", k), ("value", v)):
        if t.dtype.kind != "f":
            raise TypeError(f"scaled_dot_product_attention: {name} must be a floating-point tensor, got {t.dtype}")
        if t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} needs at least 2 dimensions (steps, features), "
                             f"got shape {t.shape}")
    dtype = np.result_type(q.dtype, k.dtype, v.dtype)
    q, k, v = (t if t.dtype == dtype else cast(t, dtype) for t in (q, k, v))
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {q.shape} and key {k.shape} need the same last axis, "
                         f"key and value {v.shape} the same number of steps")
    try:
        lead = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"scaled_dot_product_attention: the leading axes of query {q.shape}, key {k.shape} and "
                         f"value {v.shape} do not broadcast") from None
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    bias, keep = _checked_mask(mask, lead + (q.shape[-2], k.shape[-2]), dtype)
    dropout_rate = float(dropout_rate)
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_rate must be in [0, 1), got {dropout_rate}")
    return ScaledDotProductAttention.apply(q, k, v, bias, keep, scale=scale, is_causal=bool(is_causal),
                                           dropout_rate=dropout_rate, seed=seed)
