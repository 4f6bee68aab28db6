"""Gradient checking that users can run on their own functions (like ``torch.autograd.gradcheck``).

>>> import numpy as np
>>> import chainrule as cr
>>> check_gradients(lambda x: cr.tanh(x) * x, np.random.randn(3, 2))
True

Writing your own op: subclass :class:`chainrule.ops.Function` with ``forward`` (arrays in, array out) and
``backward`` (output gradient in, one gradient per input out), call it with ``MyOp.apply(tensor)``, then prove it
with ``check_gradients(MyOp.apply, x)`` on float64 inputs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from chainrule import backend
from chainrule.engine.autograd import grad, no_grad
from chainrule.engine.tensor import Tensor


def _projected(fn: Callable, inputs: list, weights: np.ndarray | None):
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"check_gradients: the function must return a Tensor, got {type(out).__name__}")
    return out, float((backend.to_host(out.data) * weights).sum()) if weights is not None else None


def check_gradients(fn: Callable[..., Tensor], *inputs, eps: float = 1e-6, atol: float = 1e-6,
                    rtol: float = 1e-5, seed: int = 0) -> bool:
    """Compare ``fn``'s backward with central finite differences; raise AssertionError naming the first mismatch.

    Float inputs are differentiated (use float64 for a meaningful check); integer inputs are held constant.
    The output is projected on fixed random weights, so every output element's gradient is checked at once.
    The inputs are perturbed on the host and go to the current backend for each evaluation, so the check runs on
    any backend (on NumPy's, the tensors share the perturbed arrays' memory).
    """
    # C-ordered host copies: the perturbations below go through a flat view, which a transposed input would not give
    hosts = [np.array(backend.to_host(x.data) if isinstance(x, Tensor) else x, order="C") for x in inputs]
    tensors = [Tensor(h, requires_grad=h.dtype.kind == "f") for h in hosts]
    for t in tensors:
        if t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"check_gradients: inputs should be float64 for a finite-difference check, got {t.dtype}")
    out, _ = _projected(fn, tensors, None)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    differentiable = [i for i, t in enumerate(tensors) if t.requires_grad]
    loss = (out * Tensor(weights, dtype=out.dtype)).sum()
    analytic = grad(loss, [tensors[i] for i in differentiable], allow_unused=True)
    for i, (position, g) in enumerate(zip(differentiable, analytic)):
        host = hosts[position]
        g = np.zeros_like(host) if g is None else g.numpy()
        numeric = np.zeros_like(host)
        flat = host.reshape(-1)
        fresh = lambda: [Tensor(h, requires_grad=t.requires_grad) for h, t in zip(hosts, tensors)]  # noqa: E731
        with no_grad():
            for k in range(flat.size):
                saved = flat[k]
                flat[k] = saved + eps
                up = _projected(fn, fresh(), weights)[1]
                flat[k] = saved - eps
                down = _projected(fn, fresh(), weights)[1]
                flat[k] = saved
                numeric.reshape(-1)[k] = (up - down) / (2 * eps)
        bad = ~np.isclose(g, numeric, rtol=rtol, atol=atol)
        if bad.any():
            k = np.argwhere(bad)[0]
            raise AssertionError(f"check_gradients: input {i} (shape {host.shape}) at index {tuple(k)}: backward "
                                 f"gives {g[tuple(k)]:.10g}, finite differences give {numeric[tuple(k)]:.10g} "
                                 f"({int(bad.sum())} of {bad.size} elements differ)")
    return True
