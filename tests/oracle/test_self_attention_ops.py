"""self_attention (the fused multi-head self-attention node): finite differences (first and second order), PyTorch
(the projections as products and F.scaled_dot_product_attention per head) with boolean and causal masks, with and
without biases, value and output sizes of their own; any split of the batch in threads gives one part's numbers;
dropout's mask is the attention node's; errors name the argument; Keras's MultiHeadAttention takes this node for
self-attention and gives what its unfused path gives."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import compare_with_torch, covers

import test_second_order

import chainrule as cr
from chainrule import keras
from chainrule.backend import threads
from chainrule.engine.gradcheck import check_gradients
from chainrule.ops.self_attention import self_attention

B, T, D, N, H, HV, E = 3, 5, 6, 2, 3, 4, 7


def weights(seed=0, bias=True, value_size=HV, outputs=E):
    rng = np.random.default_rng(seed)
    shapes = [(D, N, H), (N, H), (D, N, H), (N, H), (D, N, value_size), (N, value_size), (N, value_size, outputs),
              (outputs,)]
    return [None if (i % 2 and not bias) else rng.standard_normal(shape) * 0.5 for i, shape in enumerate(shapes)]


def keep_mask(seed=5):
    keep = np.random.default_rng(seed).random((B, 1, T, T)) > 0.4
    keep[..., 0] = True
    return keep


def torch_self_attention(x, wq, bq, wk, bk, wv, bv, wo, bo, mask=None, causal=False):
    batch, steps, features = x.shape

    def project(kernel, bias):
        y = x.reshape(-1, features) @ kernel.reshape(features, -1)
        y = y if bias is None else y + bias.reshape(-1)
        return y.reshape(batch, steps, kernel.shape[1], -1).transpose(1, 2)

    if mask is not None and causal:  # torch takes one or the other: the causal triangle joins the mask
        mask, causal = mask & np.tri(steps, steps, 0, dtype=bool), False
    o = F.scaled_dot_product_attention(project(wq, bq), project(wk, bk), project(wv, bv),
                                       attn_mask=None if mask is None else torch.tensor(mask), is_causal=causal)
    y = o.transpose(1, 2).reshape(batch * steps, -1) @ wo.reshape(-1, wo.shape[-1])
    return (y if bo is None else y + bo).reshape(batch, steps, -1)


def _with_arrays(fn, bias: bool):
    """fn over (x, the weights given) with the absent biases put back as None."""
    def call(x, *given):
        given = iter(given)
        return fn(x, *[next(given) if bias or i % 2 == 0 else None for i in range(8)])
    return call


@covers("self_attention", kind="fd")
@pytest.mark.parametrize("masking", ["none", "bool", "causal"])
def test_self_attention_finite_differences(masking):
    keep = keep_mask() if masking == "bool" else None
    x = np.random.default_rng(1).standard_normal((B, T, D))
    check_gradients(
        lambda x, *w: self_attention(x, *w, mask=keep, is_causal=masking == "causal"), x, *weights())


def test_self_attention_finite_differences_without_biases():
    x = np.random.default_rng(1).standard_normal((B, T, D))
    w = [a for a in weights(bias=False) if a is not None]
    check_gradients(_with_arrays(self_attention, False), x, *w)


def test_self_attention_second_order_matches_torch():
    # (the output bias's gradient, Σ of the output's, depends on no input: it is left out, as a constant)
    x = np.random.default_rng(1).standard_normal((2, 3, D))
    *w, bo = weights(value_size=2, outputs=3)
    test_second_order.assert_second_order_matches_torch(
        lambda x, *w: self_attention(x, *w, bo, is_causal=True),
        lambda x, *w: torch_self_attention(x, *w, torch.tensor(bo), causal=True), x, *w)


@covers("self_attention", kind="torch")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("masking", ["none", "bool", "causal", "bool+causal"])
@pytest.mark.parametrize("bias", [True, False])
def test_self_attention_matches_torch(dtype, masking, bias):
    keep = keep_mask() if "bool" in masking else None
    causal = "causal" in masking
    x = np.random.default_rng(1).standard_normal((B, T, D))
    w = [a for a in weights(bias=bias) if a is not None]
    tol = {} if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    compare_with_torch(_with_arrays(lambda *a: self_attention(*a, mask=keep, is_causal=causal), bias),
                       _with_arrays(lambda *a: torch_self_attention(*a, mask=keep, causal=causal), bias),
                       x, *w, dtype=dtype, **tol)


def _run_split(split, monkeypatch, dtype="float32", dropout=0.0, masking=True):
    def parts(count, min_rows=None):
        bounds = [0, *(count * point // B for point in split), count]
        return list(zip(bounds[:-1], bounds[1:]))

    monkeypatch.setattr(threads, "parts", parts)
    x = cr.Variable(np.random.default_rng(1).standard_normal((B, T, D)).astype(dtype))
    w = [cr.Variable(a.astype(dtype)) for a in weights()]
    with cr.GradientTape() as tape:
        y = self_attention(x, *w, mask=keep_mask() if masking else None, dropout_rate=dropout,
                           seed=np.random.default_rng(3) if dropout else None)
        loss = cr.reduce_sum(y * y)
    return [y.numpy()] + [g.numpy() for g in tape.gradient(loss, [x, *w])]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("dropout", [0.0, 0.4])
def test_any_split_of_the_batch_gives_the_same_numbers(dtype, dropout, monkeypatch):
    whole = _run_split([], monkeypatch, dtype, dropout)
    for split in ([1], [1, 2]):
        for ours, reference in zip(_run_split(split, monkeypatch, dtype, dropout), whole):
            scale = max(np.abs(reference).max(), 1.0)  # (the key bias's gradient is 0 up to rounding)
            np.testing.assert_allclose(ours, reference, rtol=0, atol=scale * (1e-5 if dtype == "float32" else 1e-13))


def test_dropout_drops_what_the_attention_node_drops():
    """The fused node draws its dropout mask as scaled_dot_product_attention does: the same seed, the same output."""
    x = np.random.default_rng(1).standard_normal((B, T, D))
    w = weights()
    fused = self_attention(x, *w, dropout_rate=0.5, seed=np.random.default_rng(7))
    unfused = torch_free_composite(x, w, seed=np.random.default_rng(7))
    np.testing.assert_allclose(fused.numpy(), unfused, rtol=1e-12, atol=1e-12)


def torch_free_composite(x, w, seed):
    from chainrule.ops.attention import scaled_dot_product_attention

    wq, bq, wk, bk, wv, bv, wo, bo = w

    def project(kernel, bias):
        return (np.einsum("btd,dnh->bnth", x, kernel) + bias[:, None, :])

    o = scaled_dot_product_attention(project(wq, bq), project(wk, bk), project(wv, bv), dropout_rate=0.5, seed=seed)
    return np.einsum("bnth,nhe->bte", o.numpy(), wo) + bo


def test_errors_name_the_argument():
    x = np.ones((B, T, D))
    w = weights()
    with pytest.raises(ValueError, match="x must be a floating-point"):
        self_attention(np.ones((T, D)), *w)
    with pytest.raises(ValueError, match="the key kernel must be"):
        self_attention(x, w[0], w[1], np.ones((D + 1, N, H)), w[3], *w[4:])
    with pytest.raises(ValueError, match="kernels do not fit"):
        self_attention(x, *w[:6], np.ones((N, HV + 1, E)), w[7])
    with pytest.raises(ValueError, match="biases all, or none"):
        self_attention(x, w[0], None, *w[2:])
    with pytest.raises(ValueError, match="the output bias must have shape"):
        self_attention(x, *w[:7], np.ones(E + 1))
    with pytest.raises(TypeError, match="mask must be boolean"):
        self_attention(x, *w, mask=np.ones((T, T)))
    with pytest.raises(ValueError, match="mask of shape"):
        self_attention(x, *w, mask=np.ones((T + 1, T), bool))
    with pytest.raises(ValueError, match="dropout_rate"):
        self_attention(x, *w, dropout_rate=1.0)


@pytest.mark.parametrize("masked", [False, True])
def test_keras_multi_head_attention_takes_the_fused_node_with_the_same_numbers(masked, monkeypatch):
    """MultiHeadAttention(x, x) through the node equals the layer's unfused path (x, x passed as two tensors)."""
    layer = keras.layers.MultiHeadAttention(N, H, value_dim=HV, output_shape=E)
    x = cr.constant(np.random.default_rng(1).standard_normal((B, T, D)).astype("float32"))
    other = cr.constant(x.numpy())  # the same numbers as another tensor: the unfused path
    mask = keep_mask()[:, 0] if masked else None
    layer(x, other)  # built before the tape, as a model's layers are
    applied = []
    original = SelfAttentionSpy.install(monkeypatch, applied)
    with cr.GradientTape(persistent=True) as tape:
        tape.watch(x)
        tape.watch(other)
        fused = layer(x, x, attention_mask=mask, use_causal_mask=True)
        assert applied, "MultiHeadAttention(x, x) did not use the fused node"
        applied.clear()
        unfused = layer(x, other, attention_mask=mask, use_causal_mask=True)
        assert not applied
        fused_loss, unfused_loss = cr.reduce_sum(fused * fused), cr.reduce_sum(unfused * unfused)
    np.testing.assert_allclose(fused.numpy(), unfused.numpy(), rtol=1e-5, atol=1e-6)
    fused_grads = tape.gradient(fused_loss, [x, *layer.trainable_weights])
    query_grad, other_grad, *unfused_grads = tape.gradient(unfused_loss, [x, other, *layer.trainable_weights])
    for a, b in zip(fused_grads, [query_grad + other_grad, *unfused_grads]):  # x was query, key and value
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    assert original is not None


class SelfAttentionSpy:
    """Counts the fused node's calls from the layer module."""

    @staticmethod
    def install(monkeypatch, applied):
        import chainrule.keras.layers.attention as layer_module

        original = layer_module.self_attention

        def spy(*args, **kwargs):
            applied.append(True)
            return original(*args, **kwargs)

        monkeypatch.setattr(layer_module, "self_attention", spy)
        return original
