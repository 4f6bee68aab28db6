"""Shared test helpers: run an op in chainrule and in PyTorch and compare forward and backward.

``covers(name, kind=...)`` marks a test as checking an op; the meta-test (test_registry.py) holds every registered op
to one finite-difference check and one PyTorch comparison.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

import chainrule as cr

COVERAGE: dict[str, set[str]] = {"fd": set(), "torch": set()}
TOLERANCES = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}


def covers(*names: str, kind: str):
    """Decorator: this test checks ``names`` by ``kind`` ('fd' = finite differences, 'torch' = PyTorch oracle)."""
    if kind not in COVERAGE:
        raise ValueError(f"kind must be one of {sorted(COVERAGE)}")

    def mark(test):
        COVERAGE[kind].update(names)
        return test
    return mark


def _cast(x, dtype):
    x = np.asarray(x)
    return x.astype(dtype) if x.dtype.kind == "f" else x


def compare_with_torch(cr_fn: Callable, torch_fn: Callable, *arrays, dtype=np.float64, seed: int = 0,
                       rtol: float | None = None, atol: float | None = None, check_backward: bool = True):
    """Run ``cr_fn`` and ``torch_fn`` on the same inputs; assert equal outputs and equal input gradients.

    Float inputs require grad on both sides; integer inputs are passed as constants. Returns the chainrule output.
    """
    tol = dict(TOLERANCES[np.dtype(dtype).type])
    tol.update({k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None})
    arrays = [_cast(a, dtype) for a in arrays]
    ours = [cr.Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = cr_fn(*ours)
    ref = torch_fn(*theirs)
    assert out.dtype == np.dtype(dtype) or out.dtype.kind != "f", f"output dtype {out.dtype}, expected {dtype}"
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **tol, err_msg="forward differs from torch")
    if not check_backward:
        return out
    g = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    differentiable = [(o, t) for o, t in zip(ours, theirs) if t.requires_grad]
    our_grads = cr.grad(out, [o for o, _ in differentiable], grad_outputs=cr.Tensor(g), allow_unused=True)
    their_grads = torch.autograd.grad(ref, [t for _, t in differentiable], grad_outputs=torch.tensor(g),
                                      allow_unused=True)
    for i, (mine, ref_g) in enumerate(zip(our_grads, their_grads)):
        mine = np.zeros(differentiable[i][0].shape, dtype) if mine is None else mine.numpy()
        ref_g = np.zeros_like(mine) if ref_g is None else ref_g.numpy()
        assert mine.dtype == np.dtype(dtype), f"gradient {i} has dtype {mine.dtype}, expected {dtype}"
        np.testing.assert_allclose(mine, ref_g, **tol, err_msg=f"gradient of input {i} differs from torch")
    return out
