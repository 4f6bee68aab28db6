"""The strict backend's CPU lane: ops forward and backward on array-api-strict equal to the NumPy backend's.

array-api-strict's arrays live on its second device, where NumPy cannot read them, and its namespace has only the
standard's functions: an op that calls NumPy on its arrays, a NumPy-only method (``.sum``, ``.astype``, ``.T``) or
keyword (``out=``, ``keepdims`` spelled otherwise) fails here, outside the extras each backend provides
(chainrule/backend/extras.py).

Covered (COVERED below, 113 cases, forward and the gradient of every input): elementwise math and transcendentals
(erf, sign, floormod, the inverse trigonometric functions and lgamma, whose values the host computes), reductions
(sum, mean, max, min, logsumexp, variance, std, prod), matmul and the Dense layer's linear map, the activations (gelu
exact and tanh), the softmax cross-entropies (dense and sparse), the categorical cross-entropy (from probabilities,
softmax outputs and logits) and its sparse form from probabilities, the hinge loss, sigmoid and binary cross-entropy,
mean squared error, batch normalization, layer normalization (trailing and leading axes), average pooling, where,
clip, reshape, transpose, concat, stack, expand_dims, squeeze, broadcast_to, tile, slicing, split, pad, getitem with
integer arrays, a boolean mask or a new axis, the embedding lookup, gather, scatter_update, take_along_axis
(broadcasting too), scatter, segment_sum, cumsum (both ways), cumprod (with zeros), scaled dot-product attention
(causal, boolean and float masks, broadcast heads), the fused self-attention node, the Attention layer (causal) and
MultiHeadAttention across two sequences, einsum (batched products, projections, '...', diagonals, three operands,
letters of one operand alone), keras.ops's one_hot, top_k, sort, argsort, argmax, argmin, tril and triu, the masked
Softmax layer; and short training runs whose losses and weights equal the NumPy backend's: a small Dense model
(Dense+relu, sparse categorical cross-entropy from logits, SGD) and a small sequence model (Embedding,
LayerNormalization, MultiHeadAttention, GlobalAveragePooling1D, Dense with GELU, categorical cross-entropy, Adam).
Convolution, max pooling and dropout have their lane in test_strict_vision.py, the recurrent ops in
test_strict_recurrent.py. Not yet covered: NOT_YET below.
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

import chainrule as cr  # noqa: E402
from chainrule import backend, keras  # noqa: E402
from chainrule.keras import ops  # noqa: E402
from chainrule.ops.attention import scaled_dot_product_attention  # noqa: E402
from chainrule.ops.layer_norm import layer_norm  # noqa: E402
from chainrule.ops.self_attention import self_attention  # noqa: E402


def _positive(shape, rng):
    return rng.uniform(0.5, 2.0, shape).astype(np.float32)


def _normal(shape, rng):
    return rng.standard_normal(shape).astype(np.float32)


def _one_hot(shape, rng):
    return np.eye(shape[-1], dtype=np.float32)[rng.integers(0, shape[-1], shape[:-1])]


def _seeded(make_layer):
    """A layer made after seeding, so that its weights are the same on every backend."""
    keras.utils.set_random_seed(1)
    return make_layer()


# name: (function of Tensors, [(make_input, shape, differentiable)])
COVERED = {
    "add": (lambda a, b: a + b, [(_normal, (3, 4), True), (_normal, (1, 4), True)]),
    "sub": (lambda a, b: a - b, [(_normal, (3, 4), True), (_normal, (3, 1), True)]),
    "mul": (lambda a, b: a * b, [(_normal, (3, 4), True), (_normal, (4,), True)]),
    "div": (lambda a, b: a / b, [(_normal, (3, 4), True), (_positive, (3, 4), True)]),
    "pow": (lambda a, b: a ** b, [(_positive, (3, 4), True), (_positive, (3, 4), True)]),
    "neg": (lambda a: -a, [(_normal, (3, 4), True)]),
    "exp": (cr.exp, [(_normal, (3, 4), True)]),
    "log": (cr.math.log, [(_positive, (3, 4), True)]),
    "sqrt": (cr.sqrt, [(_positive, (3, 4), True)]),
    "abs": (cr.abs, [(_normal, (3, 4), True)]),
    "square": (cr.square, [(_normal, (3, 4), True)]),
    "maximum": (cr.maximum, [(_normal, (3, 4), True), (_normal, (3, 4), True)]),
    "minimum": (cr.minimum, [(_normal, (3, 4), True), (_normal, (3, 4), True)]),
    "reduce_sum": (lambda x: cr.reduce_sum(x, axis=1), [(_normal, (3, 4), True)]),
    "reduce_sum_all": (cr.reduce_sum, [(_normal, (3, 4), True)]),
    "reduce_mean": (lambda x: cr.reduce_mean(x, axis=0, keepdims=True), [(_normal, (3, 4), True)]),
    "reduce_max": (lambda x: cr.reduce_max(x, axis=-1), [(_normal, (3, 4), True)]),
    "reduce_min": (lambda x: cr.reduce_min(x, axis=0), [(_normal, (3, 4), True)]),
    "matmul": (cr.matmul, [(_normal, (3, 4), True), (_normal, (4, 5), True)]),
    "matmul_batched": (cr.matmul, [(_normal, (2, 3, 4), True), (_normal, (2, 4, 5), True)]),
    "linear": (lambda x, w, b: cr.matmul(x, w) + b, [(_normal, (3, 4), True), (_normal, (4, 5), True),
                                                      (_normal, (5,), True)]),
    "relu": (cr.nn.relu, [(_normal, (3, 4), True)]),
    "sigmoid": (cr.sigmoid, [(_normal, (3, 4), True)]),
    "tanh": (cr.tanh, [(_normal, (3, 4), True)]),
    "softmax": (cr.nn.softmax, [(_normal, (3, 4), True)]),
    "log_softmax": (cr.nn.log_softmax, [(_normal, (3, 4), True)]),
    "softmax_cross_entropy": (lambda y, z: cr.nn.softmax_cross_entropy_with_logits(y, z),
                              [(_one_hot, (3, 4), False), (_normal, (3, 4), True)]),
    "sparse_softmax_cross_entropy": (lambda z: cr.nn.sparse_softmax_cross_entropy_with_logits(
        cr.constant([0, 3, 1]), z), [(_normal, (3, 4), True)]),
    "sigmoid_cross_entropy": (lambda y, z: cr.nn.sigmoid_cross_entropy_with_logits(y, z),
                              [(_positive, (3, 4), False), (_normal, (3, 4), True)]),
    "reshape": (lambda x: cr.reshape(x, (4, 3)), [(_normal, (3, 4), True)]),
    "transpose": (lambda x: cr.transpose(x, (1, 0, 2)), [(_normal, (2, 3, 4), True)]),
    "concat": (lambda a, b: cr.concat([a, b], axis=1), [(_normal, (3, 2), True), (_normal, (3, 4), True)]),
    "logsumexp": (lambda x: cr.reduce_logsumexp(x, axis=1), [(_normal, (3, 4), True)]),
    "reduce_variance": (lambda x: cr.math.reduce_variance(x, axis=0), [(_normal, (3, 4), True)]),
    "reduce_std": (lambda x: cr.math.reduce_std(x, axis=1), [(_normal, (3, 4), True)]),
    "where": (lambda a, b: cr.where(a > 0, a, b), [(_normal, (3, 4), True), (_normal, (3, 4), True)]),
    "expand_dims": (lambda x: cr.expand_dims(x, 1), [(_normal, (3, 4), True)]),
    "squeeze": (lambda x: cr.squeeze(x, 1), [(_normal, (3, 1, 4), True)]),
    "broadcast_to": (lambda x: cr.broadcast_to(x, (3, 4)), [(_normal, (1, 4), True)]),
    "tile": (lambda x: cr.tile(x, (2, 1)), [(_normal, (3, 4), True)]),
    "slice": (lambda x: x[1:, ::2], [(_normal, (3, 4), True)]),
    "split": (lambda x: cr.split(x, 2, axis=1)[1], [(_normal, (3, 4), True)]),
    "transpose_default": (cr.transpose, [(_normal, (3, 4), True)]),
    "leaky_relu": (lambda x: cr.nn.leaky_relu(x, 0.1), [(_normal, (3, 4), True)]),
    "elu": (cr.nn.elu, [(_normal, (3, 4), True)]),
    "softplus": (cr.nn.softplus, [(_normal, (3, 4), True)]),
    "sin": (cr.math.sin, [(_normal, (3, 4), True)]),
    "cos": (cr.math.cos, [(_normal, (3, 4), True)]),
    "log1p": (cr.math.log1p, [(_positive, (3, 4), True)]),
    "rsqrt": (cr.math.rsqrt, [(_positive, (3, 4), True)]),
    "reciprocal": (cr.math.reciprocal, [(_positive, (3, 4), True)]),
    "mean_squared_error": (cr.keras.losses.mean_squared_error, [(_normal, (3, 4), False), (_normal, (3, 4), True)]),
    "binary_crossentropy": (lambda y, z: cr.keras.losses.binary_crossentropy(y, cr.sigmoid(z)),
                            [(_positive, (3, 4), False), (_normal, (3, 4), True)]),
    "batch_normalization": (lambda x, g, b: cr.nn.batch_normalization(x, *cr.nn.moments(x, [0]), b, g, 1e-3),
                            [(_normal, (6, 4), True), (_positive, (4,), True), (_normal, (4,), True)]),
    "avg_pool2d": (lambda x: cr.nn.avg_pool2d(x, 2, 2, "VALID"), [(_normal, (2, 4, 4, 3), True)]),
    "dropout_rate_0": (lambda x: cr.nn.dropout(x, 0.0), [(_normal, (3, 4), True)]),
    "stack": (lambda a, b: cr.stack([a, b], axis=1), [(_normal, (3, 4), True), (_normal, (3, 4), True)]),
    "clip_by_value": (lambda x: cr.clip_by_value(x, -0.5, 0.5), [(_normal, (3, 4), True)]),
    "pad": (lambda x: cr.pad(x, [[1, 0], [0, 2]], constant_values=0.5), [(_normal, (3, 4), True)]),
    # sequences: embeddings, indexing, running sums and products, layer normalization, attention, einsum
    "embedding_lookup": (lambda t: cr.nn.embedding_lookup(t, cr.constant([[0, 3, 1], [3, 3, 2]])),
                         [(_normal, (4, 5), True)]),
    "gather": (lambda x: cr.gather(x, cr.constant([2, 0, 2, -1]), axis=1), [(_normal, (3, 4), True)]),
    "gather_2d_indices": (lambda x: cr.gather(x, cr.constant([[2, 0], [1, 1]]), axis=0), [(_normal, (3, 4), True)]),
    "take_along_axis": (lambda x: ops.take_along_axis(x, cr.constant([[1, 3], [0, 0], [3, 2]]), axis=1),
                        [(_normal, (3, 4), True)]),
    "take_along_axis_broadcast": (lambda x: ops.take_along_axis(x, cr.constant([[[1], [0]]]), axis=1),
                                  [(_normal, (2, 3, 4), True)]),
    "getitem_int_array": (lambda x: x[cr.constant([[0, 2], [2, 2]])], [(_normal, (3, 4), True)]),
    "getitem_list_on_axis_1": (lambda x: x[:, [3, 3, -1]], [(_normal, (3, 4), True)]),
    "getitem_two_int_arrays": (lambda x: x[[0, 1, 1, 2], [3, 3, 0, 0]], [(_normal, (3, 4), True)]),
    "getitem_boolean_mask": (lambda x: x[x > 0], [(_normal, (3, 4), True)]),
    "getitem_newaxis": (lambda x: x[None, :, 0], [(_normal, (3, 4), True)]),
    "scatter_update": (lambda x, u: ops.scatter_update(x, cr.constant([[0, 1], [2, 3], [0, 1]]), u),
                       [(_normal, (3, 4), True), (_normal, (3,), True)]),
    "asin": (cr.math.asin, [(lambda shape, rng: rng.uniform(-0.9, 0.9, shape).astype(np.float32), (3, 4), True)]),
    "atan2": (cr.math.atan2, [(_normal, (3, 4), True), (_positive, (3, 4), True)]),
    "lgamma": (cr.math.lgamma, [(_positive, (3, 4), True)]),
    "scatter": (lambda v: ops.scatter(cr.constant([[0, 1], [2, 3], [0, 1]]), v, (3, 4)), [(_normal, (3,), True)]),
    "segment_sum": (lambda x: ops.segment_sum(x, cr.constant([0, 2, 0]), num_segments=3), [(_normal, (3, 4), True)]),
    "cumsum": (lambda x: ops.cumsum(x, axis=1), [(_normal, (3, 4), True)]),
    "cumsum_reverse": (lambda x: cr.math.cumsum(x, axis=0, reverse=True), [(_normal, (3, 4), True)]),
    "cumprod": (lambda x: ops.cumprod(x, axis=0), [(_positive, (3, 4), True)]),
    "cumprod_with_zero": (lambda x: ops.cumprod(x * cr.constant([1.0, 0.0, 1.0, 1.0]), axis=1),
                          [(_normal, (3, 4), True)]),
    "reduce_prod": (lambda x: cr.reduce_prod(x, axis=1), [(_normal, (3, 4), True)]),
    "layer_norm": (lambda x, g, b: layer_norm(x, g, b, axis=-1), [(_normal, (2, 3, 4), True), (_positive, (4,), True),
                                                               (_normal, (4,), True)]),
    "layer_norm_leading_axes": (lambda x: layer_norm(x, axis=(0, 1)), [(_normal, (2, 3, 4), True)]),
    "attention": (lambda q, k, v: scaled_dot_product_attention(q, k, v), [(_normal, (2, 3, 4), True),
                                                                          (_normal, (2, 5, 4), True),
                                                                          (_normal, (2, 5, 6), True)]),
    "attention_causal": (lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True),
                         [(_normal, (2, 4, 3), True), (_normal, (2, 4, 3), True), (_normal, (2, 4, 3), True)]),
    "attention_bool_mask": (lambda q, k, v: scaled_dot_product_attention(
        q, k, v, mask=cr.constant([[True, False, True], [False, False, False]])),
        [(_normal, (2, 2, 4), True), (_normal, (2, 3, 4), True), (_normal, (2, 3, 4), True)]),
    "attention_float_mask": (lambda q, k, v, m: scaled_dot_product_attention(q, k, v, mask=m),
                             [(_normal, (2, 3, 4), True), (_normal, (2, 3, 4), True), (_normal, (2, 3, 4), True),
                              (_normal, (3, 3), True)]),
    "attention_broadcast_heads": (lambda q, k, v: scaled_dot_product_attention(q, k, v),
                                  [(_normal, (2, 2, 3, 4), True), (_normal, (1, 3, 4), True),
                                   (_normal, (2, 1, 3, 4), True)]),
    "self_attention": (lambda x, wq, bq, wk, bk, wv, bv, wo, bo: self_attention(x, wq, bq, wk, bk, wv, bv, wo, bo),
                       [(_normal, (2, 3, 4), True), (_normal, (4, 2, 3), True), (_normal, (2, 3), True),
                        (_normal, (4, 2, 3), True), (_normal, (2, 3), True), (_normal, (4, 2, 5), True),
                        (_normal, (2, 5), True), (_normal, (2, 5, 4), True), (_normal, (4,), True)]),
    "self_attention_causal": (lambda x, wq, wk, wv, wo: self_attention(x, wq, None, wk, None, wv, None, wo, None,
                                                                       is_causal=True),
                              [(_normal, (2, 3, 4), True), (_normal, (4, 2, 3), True), (_normal, (4, 2, 3), True),
                               (_normal, (4, 2, 3), True), (_normal, (2, 3, 4), True)]),
    "einsum_matmul": (lambda a, b: cr.einsum("bij,bjk->bik", a, b), [(_normal, (2, 3, 4), True),
                                                                     (_normal, (2, 4, 5), True)]),
    "einsum_projection": (lambda x, w: cr.einsum("abc,cde->abde", x, w), [(_normal, (2, 3, 4), True),
                                                                          (_normal, (4, 2, 3), True)]),
    "einsum_broadcast_sum": (lambda a, b: cr.einsum("...i,i->...", a, b), [(_normal, (2, 3, 4), True),
                                                                          (_normal, (4,), True)]),
    "einsum_letter_of_one_operand": (lambda a, b: cr.einsum("ij,j->j", a, b), [(_normal, (2, 3), True),
                                                                               (_normal, (3,), True)]),
    "einsum_diagonal": (lambda a: cr.einsum("ii->i", a), [(_normal, (3, 3), True)]),
    "einsum_three": (lambda a, b, c: cr.einsum("ij,jk,k->i", a, b, c), [(_normal, (2, 3), True),
                                                                         (_normal, (3, 4), True),
                                                                         (_normal, (4,), True)]),
    "sign": (lambda x: ops.sign(x) * x, [(_normal, (3, 4), True)]),
    "erf": (cr.math.erf, [(_normal, (3, 4), True)]),
    "gelu": (cr.nn.gelu, [(_normal, (3, 4), True)]),
    "gelu_tanh": (lambda x: cr.nn.gelu(x, approximate=True), [(_normal, (3, 4), True)]),
    "mod": (lambda a: cr.math.floormod(a, 0.7), [(_normal, (3, 4), True)]),
    "categorical_crossentropy": (lambda y, z: cr.keras.losses.categorical_crossentropy(y, cr.nn.softmax(z)),
                                 [(_one_hot, (3, 4), False), (_normal, (3, 4), True)]),
    "categorical_crossentropy_probabilities": (
        lambda y, p: cr.keras.losses.categorical_crossentropy(y, p), [(_one_hot, (3, 4), False),
                                                                      (_positive, (3, 4), True)]),
    "categorical_crossentropy_from_logits": (
        lambda y, z: cr.keras.losses.categorical_crossentropy(y, z, from_logits=True, label_smoothing=0.1),
        [(_one_hot, (3, 4), False), (_normal, (3, 4), True)]),
    "sparse_categorical_crossentropy_probabilities": (
        lambda p: cr.keras.losses.sparse_categorical_crossentropy(cr.constant([0, 3, 1]), p),
        [(_positive, (3, 4), True)]),
    "hinge": (lambda y, z: cr.keras.losses.hinge(y, z), [(_one_hot, (3, 4), False), (_normal, (3, 4), True)]),
    "attention_layer_causal": (lambda q, v: keras.layers.Attention(use_scale=True)([q, v], use_causal_mask=True),
                               [(_normal, (2, 3, 4), True), (_normal, (2, 3, 4), True)]),
    "multi_head_attention_cross": (lambda q, v: _seeded(lambda: keras.layers.MultiHeadAttention(2, 3))(q, v),
                                   [(_normal, (2, 3, 4), True), (_normal, (2, 5, 4), True)]),
    "one_hot": (lambda x: ops.one_hot(cr.constant([0, 2, -1]), 4) * x, [(_normal, (3, 4), True)]),
    "top_k": (lambda x: ops.top_k(x, 2)[0], [(_normal, (3, 4), True)]),
    "sort": (lambda x: ops.sort(x, axis=0), [(_normal, (3, 4), True)]),
    "argmax_argsort": (lambda x: ops.take_along_axis(x, ops.argsort(x), axis=1) * ops.cast(
        ops.expand_dims(ops.argmax(x, axis=1) + ops.argmin(x, axis=1), 1), "float32"), [(_normal, (3, 4), True)]),
    "tril_triu": (lambda x: ops.tril(x, -1) + 2.0 * ops.triu(x, 1), [(_normal, (3, 4), True)]),
    "masked_softmax": (lambda x: keras.layers.Softmax()(x, mask=cr.constant([[1, 1, 0, 1]] * 3)),
                       [(_normal, (3, 4), True)]),
}

# what fails on strict today (the NumPy-only call it meets), or is not tried yet
NOT_YET = ("ctc", "image transforms", "upsampling", "fft and complex ops", "linalg decompositions and matrix ops",
           "conv_transpose, depthwise and 3-D convolution", "segment_max/segment_min (ufunc.at)",
           "keras.ops' no-gradient functions given NumPy's own (logical_not, signbit, ...)",
           "metrics (accumulated on the host)")


def _run(name: str, on_device) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Forward and backward of case ``name`` (inputs from a fixed seed); values and gradients on the host."""
    fn, specs = COVERED[name]
    rng = np.random.default_rng(0)
    host = [make(shape, rng) for make, shape, _ in specs]
    inputs = [cr.Tensor(on_device(x), requires_grad=grad) for x, (_, _, grad) in zip(host, specs)]
    out = fn(*inputs)
    weights = cr.Tensor(on_device(_normal(tuple(out.shape), rng)))
    cr.reduce_sum(out * weights).backward()
    return (out.numpy(), [None if t.grad is None else t.grad.numpy() for t in inputs])


@pytest.mark.parametrize("name", sorted(COVERED))
def test_op_on_strict_equals_numpy(name, strict):
    got, got_grads = _run(name, strict.from_host)
    assert backend.current() == "strict"
    backend.set_backend("numpy")
    want, want_grads = _run(name, lambda x: x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{name}: forward")
    for i, (g, w) in enumerate(zip(got_grads, want_grads)):
        assert (g is None) == (w is None), f"{name}: gradient of input {i}"
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=f"{name}: gradient of input {i}")


def test_numpy_calls_on_strict_arrays_fail(strict):
    """The lane's premise: NumPy cannot read the strict backend's arrays, so an op that calls it fails here."""
    x = cr.Tensor(strict.from_host(np.ones(3, np.float32)))
    with pytest.raises(RuntimeError, match="NumPy array"):
        np.exp(x.data)
    np.testing.assert_array_equal(x.numpy(), np.ones(3, np.float32))  # the one way out: the backend's to_host


def _train(backend_name: str) -> tuple[list[float], list[np.ndarray]]:
    """Two epochs of a small Dense classifier on a fixed problem: the losses and the final weights."""
    backend.set_backend(backend_name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return history.history["loss"], [w.numpy() for w in model.weights]


def _assert_trains_as_on_numpy(train, loss_rtol: float, weight_rtol: float, weight_atol: float) -> None:
    """``train(backend name)``'s losses and weights on strict equal NumPy's, and NumPy's losses fall."""
    got_losses, got_weights = train("strict")
    want_losses, want_weights = train("numpy")
    np.testing.assert_allclose(got_losses, want_losses, rtol=loss_rtol)
    assert want_losses[-1] < want_losses[0]
    for got, want in zip(got_weights, want_weights):
        np.testing.assert_allclose(got, want, rtol=weight_rtol, atol=weight_atol)


def test_dense_model_trains_on_strict_as_on_numpy(strict):
    _assert_trains_as_on_numpy(_train, 1e-5, 1e-4, 1e-6)


def _train_sequence_model(backend_name: str) -> tuple[list[float], list[np.ndarray]]:
    """Two epochs of a small text classifier (Embedding, LayerNormalization, self-attention, pooling, Dense with
    GELU, categorical cross-entropy, Adam) on a fixed problem: the losses and the final weights."""
    backend.set_backend(backend_name)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, (32, 6)).astype(np.int32)
    y = np.eye(3, dtype=np.float32)[x[:, 0] % 3]
    keras.utils.set_random_seed(1)
    tokens = keras.Input((6,), dtype="int32")
    h = keras.layers.Embedding(20, 8)(tokens)
    h = keras.layers.LayerNormalization()(h)
    h = h + keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(h, h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    h = keras.layers.Dense(8, activation="gelu")(h)
    model = keras.Model(tokens, keras.layers.Dense(3, activation="softmax")(h))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy")
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    return history.history["loss"], [w.numpy() for w in model.weights]


def test_sequence_model_trains_on_strict_as_on_numpy(strict):
    _assert_trains_as_on_numpy(_train_sequence_model, 1e-4, 1e-3, 1e-5)


def test_softmax_and_activation_kernels_take_only_numpy_arrays():
    """CuPy's arrays carry NumPy's dtypes, so the numba kernels' dtype test alone would let them in: any array type
    but NumPy's (here a subclass standing for one) takes the namespace versions."""
    from chainrule.backend.kernels import activation as activation_kernels
    from chainrule.backend.kernels import runs_on
    from chainrule.backend.kernels import softmax as softmax_kernels

    class DeviceLike(np.ndarray):
        pass

    x = np.ones((2, 3), np.float32)
    assert softmax_kernels._fits(x) == activation_kernels._fits(x) == runs_on(x.dtype)  # (off: CHAINRULE_KERNELS)
    assert not softmax_kernels._fits(x.view(DeviceLike)) and not activation_kernels._fits(x.view(DeviceLike))


def test_erf_on_the_standard_matches_math_erf():
    """The standard has no erf: the series and continued fraction that stand for it off NumPy agree with the C
    library's erf to 2e-15 in float64 (infinities and NaN included), and round to the same float32 almost always."""
    import math

    from chainrule.backend.kernels.special import erf_namespace

    x = np.concatenate([np.linspace(-8.0, 8.0, 4001), [0.0, -0.0, 1e-300, 2.9999999, 3.0, np.inf, -np.inf, np.nan]])
    want = np.array([math.erf(v) for v in x])
    got = erf_namespace(x, np)
    np.testing.assert_allclose(got, want, rtol=2e-15, atol=0, equal_nan=True)
    x32 = x.astype(np.float32)
    want32 = np.array([math.erf(v) for v in x32.astype(np.float64)]).astype(np.float32)
    assert np.mean(erf_namespace(x32, np) == want32) > 0.999
