"""scaled_dot_product_attention: finite differences (first and second order), PyTorch's
F.scaled_dot_product_attention with boolean, additive and causal masks, broadcasting, fully masked rows, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import test_second_order

import chainrule as cr
from chainrule.backend.kernels import attention as attention_kernels
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.attention import scaled_dot_product_attention as sdpa


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def keep_mask(*shape, seed=5):
    """A random boolean mask that keeps the first key of every row."""
    keep = np.random.default_rng(seed).random(shape) > 0.4
    keep[..., 0] = True
    return keep


@covers("scaled_dot_product_attention", kind="fd")
@pytest.mark.parametrize("causal", [False, True])
def test_attention_finite_differences(causal):
    check_gradients(lambda q, k, v: sdpa(q, k, v, is_causal=causal), rand(2, 4, 3), rand(2, 5, 3, seed=1),
                    rand(2, 5, 2, seed=2))


def test_attention_finite_differences_with_masks_and_bias():
    keep = keep_mask(2, 1, 4, 5)
    check_gradients(lambda q, k, v: sdpa(q, k, v, mask=keep, scale=0.7), rand(2, 3, 4, 3), rand(2, 3, 5, 3, seed=1),
                    rand(2, 3, 5, 2, seed=2))
    check_gradients(lambda q, k, v, b: sdpa(q, k, v, mask=b), rand(2, 4, 3), rand(2, 5, 3, seed=1),
                    rand(2, 5, 2, seed=2), rand(4, 5, seed=3))


@pytest.mark.parametrize("masking", ["causal", "float"])
def test_attention_second_order_matches_torch(masking):
    bias = rand(3, 4, seed=3)
    test_second_order.assert_second_order_matches_torch(
        lambda q, k, v: sdpa(q, k, v, mask=None if masking == "causal" else bias, is_causal=masking == "causal"),
        lambda q, k, v: F.scaled_dot_product_attention(
            q, k, v, attn_mask=None if masking == "causal" else torch.tensor(bias), is_causal=masking == "causal"),
        rand(2, 3, 3), rand(2, 4, 3, seed=1), rand(2, 4, 2, seed=2))


@covers("scaled_dot_product_attention", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("masking", ["none", "bool", "float", "causal", "bool+causal"])
def test_attention_matches_torch(dtype, masking):
    q, k, v = rand(2, 3, 6, 4), rand(2, 3, 6, 4, seed=1), rand(2, 3, 6, 5, seed=2)
    causal = "causal" in masking
    tol = {} if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    if masking in ("none", "causal"):
        compare_with_torch(lambda q, k, v: sdpa(q, k, v, is_causal=causal),
                           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal), q, k, v,
                           dtype=dtype, **tol)
    elif masking == "float":
        compare_with_torch(lambda q, k, v, m: sdpa(q, k, v, mask=m),
                           lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), q, k, v,
                           rand(3, 6, 6, seed=3), dtype=dtype, **tol)
    else:
        keep = keep_mask(2, 1, 6, 6)
        torch_keep = torch.tensor(keep & np.tri(6, 6, dtype=bool)) if causal else torch.tensor(keep)
        compare_with_torch(lambda q, k, v: sdpa(q, k, v, mask=keep, is_causal=causal),
                           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=torch_keep), q, k, v,
                           dtype=dtype, **tol)


def test_attention_with_a_custom_scale_and_broadcast_key_matches_torch():
    compare_with_torch(lambda q, k, v: sdpa(q, k, v, scale=0.3),
                       lambda q, k, v: F.scaled_dot_product_attention(q, k, v, scale=0.3),
                       rand(2, 3, 5, 4), rand(1, 3, 7, 4, seed=1), rand(1, 3, 7, 2, seed=2))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_fully_masked_row_gives_zeros_as_torch(dtype):
    keep = keep_mask(2, 3, 5, seed=6)
    keep[0, 1] = False
    out = compare_with_torch(lambda q, k, v: sdpa(q, k, v, mask=keep),
                             lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(keep)),
                             rand(2, 3, 4), rand(2, 5, 4, seed=1), rand(2, 5, 2, seed=2), dtype=dtype)
    np.testing.assert_array_equal(out.numpy()[0, 1], 0.0)


def test_attention_errors_name_the_argument():
    with pytest.raises(ValueError, match="same last axis"):
        sdpa(rand(2, 3, 4), rand(2, 3, 5), rand(2, 3, 5))
    with pytest.raises(ValueError, match="mask of shape"):
        sdpa(rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 4), mask=np.ones((3, 4), bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        sdpa(rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 4), mask=np.ones((3, 5), np.int64))
    with pytest.raises(TypeError, match="query must be a floating-point"):
        sdpa(np.ones((2, 3), np.int64), rand(3, 3), rand(3, 3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_row_max_kernel_gives_numpys_bits(dtype):
    x = rand(4, 6, 9).astype(dtype)
    x[1, 2, 3], x[2, 0] = np.nan, -np.inf
    ours, numpys = x.copy(), x.copy()
    with np.errstate(invalid="ignore"):
        attention_kernels.subtract_row_max_(ours)
        attention_kernels.subtract_row_max_numpy(numpys)
    assert ours.tobytes() == numpys.tobytes()
    strided = x[:, :, ::2].copy()[..., ::-1]  # not contiguous: the NumPy twin
    twin = strided.copy()
    with np.errstate(invalid="ignore"):
        attention_kernels.subtract_row_max_(strided)
        attention_kernels.subtract_row_max_numpy(twin)
    np.testing.assert_array_equal(strided, twin)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_row_normalize_kernel_agrees_with_numpy(dtype):
    x = rand(4, 6, 9).astype(dtype) ** 2 + 0.1
    ours, numpys = x.copy(), x.copy()
    attention_kernels.normalize_rows_(ours)
    attention_kernels.normalize_rows_numpy(numpys)
    np.testing.assert_allclose(ours, numpys, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_allclose(ours.sum(axis=-1), 1.0, rtol=10 * np.finfo(dtype).eps)
    strided = x[:, :, ::2]  # not contiguous: the NumPy twin
    twin = strided.copy()
    attention_kernels.normalize_rows_(strided)
    attention_kernels.normalize_rows_numpy(twin)
    np.testing.assert_array_equal(strided, twin)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_softmax_grad_kernel_agrees_with_numpy(dtype):
    probs = np.abs(rand(4, 6, 9).astype(dtype))
    ds, row_dot = rand(4, 6, 9, seed=1).astype(dtype), rand(4, 6, 1, seed=2).astype(dtype)
    ours, numpys = ds.copy(), ds.copy()
    attention_kernels.softmax_grad_(ours, probs, row_dot)
    attention_kernels.softmax_grad_numpy(numpys, probs, row_dot)
    np.testing.assert_array_equal(ours, numpys)  # one subtraction and one product per value, as NumPy's two passes
    strided = ds[:, :, ::2]  # not contiguous: the NumPy twin
    twin = strided.copy()
    attention_kernels.softmax_grad_(strided, probs[:, :, ::2], row_dot)
    attention_kernels.softmax_grad_numpy(twin, probs[:, :, ::2], row_dot)
    np.testing.assert_array_equal(strided, twin)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_keras_dot_product_attention_goes_through_the_fused_node(dtype):
    """keras.ops.dot_product_attention's (batch, steps, heads, features) layout, bias, mask and is_causal."""
    from chainrule.keras import ops

    q, k, v = rand(2, 5, 3, 4), rand(2, 6, 3, 4, seed=1), rand(2, 6, 3, 4, seed=2)
    bias, keep = rand(2, 3, 5, 6, seed=3), keep_mask(2, 3, 5, 6)
    to_torch = lambda t: t.transpose(1, 2)  # noqa: E731
    tol = {} if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    compare_with_torch(
        lambda q, k, v, b: ops.dot_product_attention(q, k, v, bias=b, mask=keep, is_causal=True),
        lambda q, k, v, b: F.scaled_dot_product_attention(
            to_torch(q), to_torch(k), to_torch(v),
            attn_mask=b.masked_fill(~torch.tensor(keep & np.tri(5, 6, dtype=bool)), float("-inf"))).transpose(1, 2),
        q, k, v, bias, dtype=dtype, **tol)
    with pytest.raises(ValueError, match="only supports 4D inputs"):
        ops.dot_product_attention(q[0], k[0], v[0])


def first_mask_attention(q, k, v, rate, **kwargs):
    """Attention with the first dropout mask of op seed 5's sequence: the same mask on every call."""
    cr.backend.set_seed(0)
    return sdpa(q, k, v, dropout_rate=rate, seed=5, **kwargs)


def test_attention_with_dropout_finite_differences():
    check_gradients(lambda q, k, v: first_mask_attention(q, k, v, 0.3, is_causal=True), rand(2, 4, 3),
                    rand(2, 5, 3, seed=1), rand(2, 5, 2, seed=2))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_attention_with_dropout_matches_torch_with_the_same_mask(dtype):
    rate, q, k, v = 0.25, rand(2, 3, 6, 4), rand(2, 3, 7, 4, seed=1), rand(2, 3, 7, 5, seed=2)
    # the kept-and-scaled mask, read back through values that are the identity (each output row is a row of P D)
    probs = first_mask_attention(q, k, np.broadcast_to(np.eye(7), (2, 3, 7, 7)).copy(), rate).numpy()
    plain = sdpa(q, k, np.broadcast_to(np.eye(7), (2, 3, 7, 7)).copy()).numpy()
    scale = np.where(plain > 0, probs / np.where(plain > 0, plain, 1), 0)
    assert set(np.round(np.unique(scale), 6)) <= {0.0, round(1 / (1 - rate), 6)} and (scale == 0).any()
    tol = {} if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    compare_with_torch(lambda q, k, v: first_mask_attention(q, k, v, rate),
                       lambda q, k, v: (torch.softmax(q @ k.transpose(-1, -2) / 2, -1)
                                        * torch.tensor(scale, dtype=q.dtype)) @ v, q, k, v, dtype=dtype, **tol)
    with pytest.raises(ValueError, match="dropout_rate must be in"):
        sdpa(q, k, v, dropout_rate=1.0)
