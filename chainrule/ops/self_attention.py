"""Multi-head self-attention as one node: the query, key and value projections of one input, scaled dot-product
attention per head, and the output projection (Keras's ``MultiHeadAttention`` called with ``query = value = key``).

One node instead of about a dozen (three projections, their reshapes and transposes, the attention node, the
transpose back and the output projection): the three projections are one product with the kernels side by side, the
heads are strided views of that product (no transposed copies), and the whole block runs on parts of the batch side
by side in threads (backend/threads.py), as the attention node does, so BLAS's own threads never wake in between.
Kernels keep Keras's layouts: (features, heads, head size) for the projections, (heads, head size, outputs) for the
output one.

>>> import numpy as np
>>> x = np.ones((1, 2, 3))
>>> w = np.zeros((3, 1, 2)); wo = np.ones((1, 2, 3))
>>> self_attention(x, w, None, w, None, w + 1, None, wo, None).numpy()[0, 0]   # v = 3 per head unit: 2 · 3
array([6., 6., 6.])
"""
from __future__ import annotations

import math

import numpy as np

from chainrule import backend
from chainrule.backend.kernels.activation import column_sum
from chainrule.backend.threads import added_in_order
from chainrule.engine.autograd import grad
from chainrule.engine.function import Function, op
from chainrule.engine.tensor import Tensor, TensorLike, as_tensor
from chainrule.ops.attention import (_dropout_factors, _keep, _on_leading_items, _part_of, _transposed_copy,
                                     attend_namespace, attend_part, differentiate_namespace, differentiate_part,
                                     scaled_dot_product_attention)
from chainrule.ops.linalg import linear
from chainrule.ops.math import cast
from chainrule.ops.shape import reshape, transpose

_ROLES = ("query", "key", "value", "output")


class SelfAttention(Function):
    # [Q K V] = x [Wq Wk Wv] + [bq bk bv];  O_h = attention(Q_h s, K_h, V_h) per head h;  y = O Wo + bo
    # ->  dO = g Woᵀ,  dWo = Oᵀ g,  dbo = Σ g;  dQ_h, dK_h, dV_h as the attention node's;
    #     dx = [dQ dK dV] [Wq Wk Wv]ᵀ,  d[Wq Wk Wv] = xᵀ [dQ dK dV],  d[bq bk bv] = Σ [dQ dK dV]   (Σ over the rows)
    def forward(self, x, wq, bq, wk, bk, wv, bv, wo, bo, mask, scale, is_causal, dropout_rate, seed):
        xp = backend.xp
        batch, steps, features = x.shape
        heads, size, value_size = wq.shape[1], wq.shape[2], wv.shape[2]
        self.scale, self.widths = scale, (heads * size, heads * size, heads * value_size)
        if type(x) is not np.ndarray:
            return self._forward_namespace(x, wq, bq, wk, bk, wv, bv, wo, bo, mask, is_causal, dropout_rate, seed)
        self.x2 = x2 = xp.ascontiguousarray(x).reshape(batch * steps, features)
        self.w = w = xp.concatenate([a.reshape(features, -1) for a in (wq, wk, wv)], axis=1)
        b = None if bq is None else xp.concatenate([a.reshape(-1) for a in (bq, bk, bv)])
        self.wo2 = wo2 = wo.reshape(heads * value_size, -1)
        self.keep = keep = _keep(mask, is_causal, (steps, steps))
        self.qkv = qkv = xp.empty((batch, steps, w.shape[1]), x.dtype)
        self.o = o = xp.empty((batch, steps, heads, value_size), x.dtype)
        self.probs = probs = xp.empty((batch, heads, steps, steps), x.dtype)
        y = xp.empty((batch, steps, wo2.shape[1]), x.dtype)
        # dropout drawn whole before the parts, as the attention node draws it
        self.drop = drop = _dropout_factors(seed, probs.shape, dropout_rate, x) if dropout_rate else None

        def attend(lo, hi):
            rows = slice(lo * steps, hi * steps)
            xp.matmul(x2[rows], w, out=qkv[lo:hi].reshape(-1, w.shape[1]))
            if b is not None:
                qkv[lo:hi] += b
            q, k, v = self._heads(qkv[lo:hi])
            part = _part_of(probs.shape[:2], lo, hi)  # the mask's and dropout's rows (or all, where they broadcast)
            attend_part(q * scale, _transposed_copy(k, xp), v, probs[lo:hi], o[lo:hi].transpose(0, 2, 1, 3),
                        keep=part(keep), drop=part(drop))
            y2 = y[lo:hi].reshape(-1, wo2.shape[1])
            xp.matmul(o[lo:hi].reshape(-1, wo2.shape[0]), wo2, out=y2)
            if bo is not None:
                y2 += bo

        _on_leading_items(attend, (batch,), probs.size)
        return y

    def _heads(self, qkv):
        """Q, K, V of (part of) the projections' array, (batch, heads, steps, size) views with strides."""
        batch, steps, _ = qkv.shape
        heads = self.probs.shape[1]
        ends = np.cumsum(self.widths)
        return tuple(qkv[..., start:end].reshape(batch, steps, heads, -1).transpose(0, 2, 1, 3)
                     for start, end in zip((0, *ends[:-1]), ends))

    def backward(self, g):
        if self.graph_out is not None:
            return self._backward_composite(g)
        if type(g) is not np.ndarray:
            return self._backward_namespace(g)
        xp = backend.xp
        need = self.needs_input_grad
        batch, steps, _ = g.shape
        heads = self.probs.shape[1]
        g = xp.ascontiguousarray(g)
        dqkv = xp.empty_like(self.qkv)
        dx = xp.empty_like(self.x2) if need[0] else None
        sums: dict[int, list] = {}  # the weight gradients of each part, added after the parts

        def differentiate(lo, hi):
            rows = slice(lo * steps, hi * steps)
            g2 = g[lo:hi].reshape(-1, g.shape[-1])
            o2 = self.o[lo:hi].reshape(-1, self.wo2.shape[0])
            do = (g2 @ self.wo2.T).reshape(hi - lo, steps, heads, -1).transpose(0, 2, 1, 3)
            q, k, v = self._heads(self.qkv[lo:hi])
            dq, dk, dv = self._heads(dqkv[lo:hi])
            differentiate_part(do, self.o[lo:hi].transpose(0, 2, 1, 3), q, k, v, self.probs[lo:hi],
                               _part_of(self.probs.shape[:2], lo, hi)(self.drop), self.scale, dq, dk, dv)
            d2 = dqkv[lo:hi].reshape(-1, dqkv.shape[-1])
            if dx is not None:
                xp.matmul(d2, self.w.T, out=dx[rows])
            sums[lo] = [o2.T @ g2, column_sum(g2), self.x2[rows].T @ d2, column_sum(d2)]

        _on_leading_items(differentiate, (batch,), self.probs.size)
        dwo, dbo, dw, db = (added_in_order({lo: part[i] for lo, part in sums.items()}) for i in range(4))
        wq, bq, wk, bk, wv, bv, wo, bo = self.arrays[1:9]
        ends = np.cumsum(self.widths)
        starts = (0, *ends[:-1])
        grads = [dx.reshape(g.shape[:-1] + (-1,)) if dx is not None else None]
        for (start, end), kernel, bias, need_kernel, need_bias in zip(
                zip(starts, ends), (wq, wk, wv), (bq, bk, bv), need[1:7:2], need[2:7:2]):
            grads.append(xp.ascontiguousarray(dw[:, start:end]).reshape(kernel.shape) if need_kernel else None)
            grads.append(xp.ascontiguousarray(db[start:end]).reshape(bias.shape) if need_bias else None)
        grads += [dwo.reshape(wo.shape) if need[7] else None, dbo if need[8] else None, None]
        return tuple(grads)

    def _forward_namespace(self, x, wq, bq, wk, bk, wv, bv, wo, bo, mask, is_causal, dropout_rate, seed):
        """The forward on any backend's arrays (the standard's functions, no parts in threads), keeping what the
        backward reads: the projections, the heads' outputs and probabilities."""
        owner = backend.extras_for(x)
        xp = owner.namespace
        batch, steps, features = x.shape
        heads = wq.shape[1]
        self.x2 = xp.reshape(x, (batch * steps, features))
        self.w = xp.concat([xp.reshape(a, (features, -1)) for a in (wq, wk, wv)], axis=1)
        qkv = xp.matmul(self.x2, self.w)
        if bq is not None:
            qkv = qkv + xp.concat([xp.reshape(a, (-1,)) for a in (bq, bk, bv)])
        self.qkv = xp.reshape(qkv, (batch, steps, -1))
        self.wo2 = xp.reshape(wo, (-1, wo.shape[-1]))
        self.keep = keep = _keep(mask, is_causal, (steps, steps), like=x)
        self.drop = _dropout_factors(seed, (batch, heads, steps, steps), dropout_rate, x) if dropout_rate else None
        o, self.probs = attend_namespace(*self._heads_namespace(self.qkv, heads), self.scale, keep=keep,
                                         drop=self.drop)
        self.o = xp.permute_dims(o, (0, 2, 1, 3))  # (batch, steps, heads, value size), as the NumPy path keeps it
        y = xp.matmul(xp.reshape(self.o, (batch * steps, -1)), self.wo2)
        return xp.reshape(y if bo is None else y + bo, (batch, steps, -1))

    def _heads_namespace(self, qkv, heads: int):
        """Q, K, V of the projections' array, (batch, heads, steps, size) each (the standard has no strided views:
        new arrays)."""
        xp = backend.array_namespace(qkv)
        batch, steps, _ = qkv.shape
        ends = np.cumsum(self.widths).tolist()
        return tuple(xp.permute_dims(xp.reshape(qkv[..., start:end], (batch, steps, heads, -1)), (0, 2, 1, 3))
                     for start, end in zip((0, *ends[:-1]), ends))

    def _backward_namespace(self, g):
        """The backward on any backend's arrays: the formula above, with the standard's functions."""
        xp = backend.array_namespace(g)
        need = self.needs_input_grad
        batch, steps, _ = g.shape
        heads = self.probs.shape[1]
        g2 = xp.reshape(g, (batch * steps, -1))
        o2 = xp.reshape(self.o, (batch * steps, -1))
        do = xp.permute_dims(xp.reshape(xp.matmul(g2, xp.matrix_transpose(self.wo2)), (batch, steps, heads, -1)),
                             (0, 2, 1, 3))
        grads = differentiate_namespace(do, xp.permute_dims(self.o, (0, 2, 1, 3)), *self._heads_namespace(
            self.qkv, heads), self.probs, self.drop, self.scale)[:3]
        d2 = xp.concat([xp.reshape(xp.permute_dims(d, (0, 2, 1, 3)), (batch * steps, -1)) for d in grads], axis=1)
        dw = xp.matmul(xp.matrix_transpose(self.x2), d2)
        db = xp.sum(d2, axis=0)
        wq, bq, wk, bk, wv, bv, wo, bo = self.arrays[1:9]
        ends = np.cumsum(self.widths).tolist()
        out = [xp.reshape(xp.matmul(d2, xp.matrix_transpose(self.w)), g.shape[:-1] + (-1,)) if need[0] else None]
        for start, end, kernel, bias, need_kernel, need_bias in zip((0, *ends[:-1]), ends, (wq, wk, wv), (bq, bk, bv),
                                                                   need[1:7:2], need[2:7:2]):
            out.append(xp.reshape(dw[:, start:end], kernel.shape) if need_kernel else None)
            out.append(xp.reshape(db[start:end], bias.shape) if need_bias else None)
        out += [xp.reshape(xp.matmul(xp.matrix_transpose(o2), g2), wo.shape) if need[7] else None,
                xp.sum(g2, axis=0) if need[8] else None, None]
        return tuple(out)

    def _backward_composite(self, g):
        """Under create_graph: the gradient of the same block built from differentiable ops (linear, the attention
        node), so that it can be differentiated again."""
        if self.drop is not None:
            raise NotImplementedError("self_attention: no second derivative with dropout in training; call the "
                                      "layer with training=False (or dropout=0) to differentiate twice")
        inputs = list(self.inputs[:9])
        y = _composite(*inputs, keep=self.keep, scale=self.scale)
        wanted = [t for t, need in zip(inputs, self.needs_input_grad[:9]) if need]
        found = iter(grad(y, wanted, grad_outputs=g, create_graph=True))
        return tuple(next(found) if need else None for need in self.needs_input_grad[:9]) + (None,)


def _composite(x, wq, bq, wk, bk, wv, bv, wo, bo, keep, scale: float):
    """The block from differentiable ops, as EinsumDense and the attention node compute it."""
    batch, steps, features = x.shape
    heads = wq.shape[1]

    def project(kernel, bias):
        flat = linear(x, reshape(kernel, (features, -1)), None if bias is None else reshape(bias, (-1,)))
        return transpose(reshape(flat, (batch, steps, heads, -1)), (0, 2, 1, 3))

    o = scaled_dot_product_attention(project(wq, bq), project(wk, bk), project(wv, bv), mask=keep, scale=scale)
    o = reshape(transpose(o, (0, 2, 1, 3)), (batch, steps, -1))
    return linear(o, reshape(wo, (-1, wo.shape[-1])), bo)


@op
def self_attention(x: TensorLike, query_kernel: TensorLike, query_bias: TensorLike | None, key_kernel: TensorLike,
                   key_bias: TensorLike | None, value_kernel: TensorLike, value_bias: TensorLike | None,
                   output_kernel: TensorLike, output_bias: TensorLike | None, mask: TensorLike | None = None,
                   scale: float | None = None, is_causal: bool = False, dropout_rate: float = 0.0,
                   seed: int | np.random.Generator | None = None) -> Tensor:
    """Multi-head self-attention of ``x`` (batch, steps, features) with Keras's ``MultiHeadAttention`` weights:
    query/key kernels (features, heads, size), the value kernel (features, heads, value size), their biases (heads,
    size) or None, the output kernel (heads, value size, outputs) and bias (outputs,) or None. ``mask`` is boolean
    (True = attend), broadcastable to (batch, heads, steps, steps); ``scale`` defaults to 1 / sqrt(size);
    ``is_causal``, ``dropout_rate`` and ``seed`` as in :func:`scaled_dot_product_attention`.
    """
    x = as_tensor(x)
    if x.ndim != 3 or x.dtype.kind != "f":
        raise ValueError(f"self_attention: x must be a floating-point (batch, steps, features) tensor, got shape "
                         f"{x.shape} and dtype {x.dtype}")
    weights = [None if a is None else as_tensor(a) for a in (query_kernel, query_bias, key_kernel, key_bias,
                                                               value_kernel, value_bias, output_kernel, output_bias)]
    weights = [a if a is None or a.dtype == x.dtype else cast(a, x.dtype) for a in weights]
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    features = x.shape[-1]
    for role, kernel in zip(_ROLES[:3], (wq, wk, wv)):
        if kernel.ndim != 3 or kernel.shape[0] != features:
            raise ValueError(f"self_attention: the {role} kernel must be (features={features}, heads, size), got "
                             f"shape {kernel.shape}")
    heads, size = wq.shape[1:]
    if wk.shape != wq.shape or wv.shape[1] != heads or wo.ndim != 3 or wo.shape[:2] != wv.shape[1:]:
        raise ValueError(f"self_attention: kernels do not fit together: query {wq.shape}, key {wk.shape}, value "
                         f"{wv.shape}, output {wo.shape} (query and key alike; output (heads, value size, outputs))")
    biases = (bq, bk, bv)
    if any(b is None for b in biases) != all(b is None for b in biases):
        raise ValueError("self_attention: give the query, key and value biases all, or none")
    for role, bias, kernel in zip(_ROLES, (*biases, bo), (wq, wk, wv, wo)):
        expected = kernel.shape[1:] if role != "output" else kernel.shape[-1:]
        if bias is not None and bias.shape != expected:
            raise ValueError(f"self_attention: the {role} bias must have shape {expected}, got {bias.shape}")
    keep = None
    if mask is not None:
        keep = mask if isinstance(mask, Tensor) else as_tensor(np.asarray(mask))
        if keep.dtype.kind != "b":
            raise TypeError(f"self_attention: mask must be boolean (True = attend), got dtype {keep.dtype}")
        try:
            np.broadcast_shapes(keep.shape, (x.shape[0], heads, x.shape[1], x.shape[1]))
        except ValueError:
            raise ValueError(f"self_attention: mask of shape {keep.shape} does not broadcast to (batch, heads, steps, "
                             f"steps) = {(x.shape[0], heads, x.shape[1], x.shape[1])}") from None
    dropout_rate = float(dropout_rate)
    if not 0.0 <= dropout_rate < 1.0:
        raise ValueError(f"self_attention: dropout_rate must be in [0, 1), got {dropout_rate}")
    scale = 1.0 / math.sqrt(size) if scale is None else float(scale)
    return SelfAttention.apply(x, *weights, keep, scale=scale, is_causal=bool(is_causal), dropout_rate=dropout_rate,
                               seed=seed)
