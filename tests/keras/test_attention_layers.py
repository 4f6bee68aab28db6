"""MultiHeadAttention, Attention, AdditiveAttention and EinsumDense: PyTorch's nn.MultiheadAttention with mapped
weights (float64 and float32, masks, causal), Keras's masks from Embedding(mask_zero=True), the fused and the einsum
paths agreeing, configs, model files, and fit replayed bit for bit as eager."""
import json

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}


def rand(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def torch_twin(mha: layers.MultiHeadAttention, dtype) -> torch.nn.MultiheadAttention:
    """torch.nn.MultiheadAttention with the Keras layer's weights: Keras's (features, heads, key_dim) kernels are
    torch's (heads * key_dim, features) matrices transposed, head by head in the same order."""
    q, k, v, o = mha.query_dense, mha.key_dense, mha.value_dense, mha.output_dense
    width = q.kernel.shape[0]
    twin = torch.nn.MultiheadAttention(width, mha.num_heads, batch_first=True, dtype=torch.float64
                                       if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        twin.in_proj_weight.copy_(torch.tensor(np.concatenate(
            [d.kernel.numpy().reshape(width, -1).T for d in (q, k, v)])))
        twin.in_proj_bias.copy_(torch.tensor(np.concatenate([d.bias.numpy().reshape(-1) for d in (q, k, v)])))
        twin.out_proj.weight.copy_(torch.tensor(o.kernel.numpy().reshape(-1, width).T))
        twin.out_proj.bias.copy_(torch.tensor(o.bias.numpy()))
    return twin


def _grads_of(mha):
    return [mha.query_dense.kernel, mha.key_dense.kernel, mha.value_dense.kernel, mha.output_dense.kernel,
            mha.output_dense.bias]


def _torch_grads(twin):
    return [twin.in_proj_weight.grad, twin.out_proj.weight.grad, twin.out_proj.bias.grad]


def _compare_grads(mha, twin, width, tol):
    ours = [g.numpy() for g in mha._test_grads]
    wq, wk, wv = (g.reshape(width, -1).T for g in ours[:3])
    np.testing.assert_allclose(np.concatenate([wq, wk, wv]), twin.in_proj_weight.grad.numpy(), **tol)
    np.testing.assert_allclose(ours[3].reshape(-1, width).T, twin.out_proj.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(ours[4], twin.out_proj.bias.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("masking", ["none", "causal", "padding", "padding+causal", "cross"])
def test_multi_head_attention_matches_torch(dtype, masking):
    keras.utils.set_random_seed(1)
    heads, width, batch, steps = 4, 16, 3, 6
    mha = layers.MultiHeadAttention(heads, width // heads, dtype="float64" if dtype == np.float64 else "float32",
                                    bias_initializer="random_normal")
    query = rand(batch, steps, width, dtype=dtype)
    value = rand(batch, steps + 2, width, seed=1, dtype=dtype) if masking == "cross" else query
    keep = np.ones((batch, value.shape[1]), bool)
    if "padding" in masking:
        keep[0, 4:], keep[2, 2:] = False, False
    causal = "causal" in masking
    q, v = cr.Variable(query), cr.Variable(value)
    with cr.GradientTape() as tape:
        out = mha(q, v, attention_mask=np.broadcast_to(keep[:, None, :], (batch, steps, value.shape[1])),
                  use_causal_mask=causal)
        loss = cr.reduce_sum(out * rand(*out.shape, seed=3, dtype=dtype))
    grads = tape.gradient(loss, [q, v] + _grads_of(mha))
    twin = torch_twin(mha, dtype)
    tq, tv = torch.tensor(query, requires_grad=True), torch.tensor(value, requires_grad=True)
    attn_mask = torch.tensor(np.tri(steps, value.shape[1], dtype=bool) == 0) if causal else None
    ref, _ = twin(tq, tv, tv, key_padding_mask=torch.tensor(~keep), attn_mask=attn_mask, need_weights=False)
    (ref * torch.tensor(rand(*out.shape, seed=3, dtype=dtype))).sum().backward()
    tol = TOL[dtype]
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **tol)
    np.testing.assert_allclose(grads[0].numpy(), tq.grad.numpy(), **tol)
    if masking == "cross":
        np.testing.assert_allclose(grads[1].numpy(), tv.grad.numpy(), **tol)
    mha._test_grads = grads[2:]
    _compare_grads(mha, twin, width, tol)


def test_the_fused_and_the_einsum_paths_agree_and_scores_are_probabilities():
    keras.utils.set_random_seed(2)
    mha = layers.MultiHeadAttention(2, 3, value_dim=5, output_shape=7, dtype="float64")
    x, y = rand(2, 4, 6), rand(2, 5, 6, seed=1)
    keep = np.random.default_rng(3).random((2, 4, 5)) > 0.3
    fused = mha(x, y, attention_mask=keep, use_causal_mask=True)
    through_einsum, scores = mha(x, y, attention_mask=keep, use_causal_mask=True, return_attention_scores=True)
    assert tuple(fused.shape) == (2, 4, 7) and tuple(scores.shape) == (2, 2, 4, 5)
    np.testing.assert_allclose(fused.numpy(), through_einsum.numpy(), rtol=1e-12, atol=1e-12)
    allowed = keep[:, None] & np.tri(4, 5, dtype=bool)
    assert np.all(scores.numpy()[~np.broadcast_to(allowed, scores.shape)] == 0)
    sums = scores.numpy().sum(-1)
    np.testing.assert_allclose(sums[np.broadcast_to(allowed.any(-1), sums.shape)], 1.0)
    assert [w.shape for w in mha.weights] == [(6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (6, 2, 5), (2, 5), (2, 5, 7),
                                              (7,)]


def test_attention_over_two_axes_matches_a_numpy_reference():
    keras.utils.set_random_seed(4)
    mha = layers.MultiHeadAttention(2, 3, attention_axes=(1, 2), dtype="float64")
    x = rand(2, 3, 4, 5)
    out, scores = mha(x, x, return_attention_scores=True)
    q = np.einsum("btsd,dnh->btsnh", x, mha.query_dense.kernel.numpy()) + mha.query_dense.bias.numpy()
    k = np.einsum("btsd,dnh->btsnh", x, mha.key_dense.kernel.numpy()) + mha.key_dense.bias.numpy()
    v = np.einsum("btsd,dnh->btsnh", x, mha.value_dense.kernel.numpy()) + mha.value_dense.bias.numpy()
    logits = np.einsum("btsnh,bjknh->bntsjk", q / np.sqrt(3), k).reshape(2, 2, 3, 4, 12)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p = (p / p.sum(-1, keepdims=True)).reshape(2, 2, 3, 4, 3, 4)
    np.testing.assert_allclose(scores.numpy(), p, rtol=1e-10)
    o = np.einsum("bntsjk,bjknh->btsnh", p, v)
    want = np.einsum("btsnh,nhd->btsd", o, mha.output_dense.kernel.numpy()) + mha.output_dense.bias.numpy()
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10)


def test_embedding_masks_flow_into_attention_and_padding_changes_nothing_on_real_steps():
    keras.utils.set_random_seed(5)
    embed = layers.Embedding(20, 8, mask_zero=True)
    mha = layers.MultiHeadAttention(2, 4)
    short = np.array([[3, 4, 5]])
    padded = np.array([[3, 4, 5, 0, 0]])
    outs, grads = [], []
    for ids in (short, padded):
        with cr.GradientTape() as tape:
            x = embed(ids)
            out = mha(x, x)
            loss = cr.reduce_sum(out[:, :3] * np.arange(24, dtype="float32").reshape(1, 3, 8))
        outs.append(out.numpy()[:, :3])
        grads.append([g.numpy() for g in tape.gradient(loss, mha.trainable_variables + embed.trainable_variables)])
        np.testing.assert_array_equal(np.asarray(out._keras_mask), ids != 0)  # the query's mask goes on
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_multi_head_attention_errors_and_config_round_trip():
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="key_dim"):
        layers.MultiHeadAttention(2, 1.5)
    with pytest.raises(ValueError, match="All dimensions of `value` and `key`"):
        layers.MultiHeadAttention(2, 4)(rand(2, 3, 4), rand(2, 5, 4), key=rand(2, 6, 4))
    mha = layers.MultiHeadAttention(2, 4, value_dim=3, dropout=0.1, output_shape=(5,), use_bias=False, seed=3,
                                    kernel_initializer="he_normal")
    config = json.loads(json.dumps(mha.get_config()))
    clone = layers.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    x = rand(2, 3, 4, dtype=np.float32)
    mha(x, x)
    clone(x, x)
    clone.set_weights(mha.get_weights())
    np.testing.assert_array_equal(clone(x, x).numpy(), mha(x, x).numpy())
    assert not mha.query_dense.bias and [tuple(w.shape) for w in mha.weights] == [(4, 2, 4), (4, 2, 4), (4, 2, 3),
                                                                                 (2, 3, 5)]


def _text_classifier(attention="mha"):
    inputs = keras.Input((6,), dtype="int32")
    x = layers.Embedding(30, 8, mask_zero=True)(inputs)
    if attention == "mha":
        x = layers.LayerNormalization()(layers.Add()([x, layers.MultiHeadAttention(2, 4, dropout=0.1)(x, x)]))
    elif attention == "causal":
        x = layers.MultiHeadAttention(2, 4)(x, x, use_causal_mask=True)
    elif attention == "luong":
        x = layers.Attention(use_scale=True, score_mode="concat")([x, x])
    else:
        x = layers.AdditiveAttention()([x, x])
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(x))


@pytest.mark.parametrize("attention", ["mha", "causal", "luong", "additive"])
def test_attention_models_train_replayed_bit_for_bit_as_eager_and_reload(attention, tmp_path):
    rng = np.random.default_rng(6)
    x = rng.integers(0, 30, (40, 6))
    x[::3, 4:] = 0  # padding
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 40)]
    histories, models = [], []
    for eagerly in (True, False):
        keras.utils.set_random_seed(7)
        model = _text_classifier(attention)
        model.compile(keras.optimizers.Adam(1e-2), "categorical_crossentropy", run_eagerly=eagerly)
        histories.append(model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False).history["loss"])
        models.append(model)
    assert histories[0] == histories[1] and histories[0][-1] < histories[0][0]
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        assert a.tobytes() == b.tobytes()
    path = tmp_path / "model.keras"
    models[1].save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), models[1].predict(x, verbose=0))


# --- Attention and AdditiveAttention ----------------------------------------------------------------------------------
def _luong(q, v, k, scale=1.0, concat=None, keep=None, causal=False):
    """Keras's formulas in torch: dot or concat scores, -1e9 on masked keys, softmax, weighted values."""
    if concat is None:
        scores = q @ k.transpose(-1, -2) * scale
    else:
        scores = concat * torch.tanh(scale * (q[..., :, None, :] + k[..., None, :, :])).sum(-1)
    allowed = torch.ones(scores.shape, dtype=torch.bool)
    if keep is not None:
        allowed = allowed & torch.tensor(keep)[:, None, :]
    if causal:
        allowed = allowed & torch.tensor(np.tri(*scores.shape[-2:], dtype=bool))
    scores = torch.where(allowed, scores, scores - 1e9)
    return torch.softmax(scores, -1) @ v


@pytest.mark.parametrize("score_mode,use_scale,causal", [("dot", False, False), ("dot", True, True),
                                                         ("concat", True, False), ("concat", False, True)])
def test_attention_matches_keras_formula_in_torch(score_mode, use_scale, causal):
    q, v, k = rand(2, 4, 3), rand(2, 5, 3, seed=1), rand(2, 5, 3, seed=2)
    keep = np.ones((2, 5), bool)
    keep[1, 3:] = False
    layer = layers.Attention(use_scale=use_scale, score_mode=score_mode, dtype="float64")
    ins = [cr.Variable(a) for a in (q, v, k)]
    with cr.GradientTape() as tape:
        out = layer(ins, mask=[None, keep], use_causal_mask=causal)
        loss = cr.reduce_sum(out * rand(2, 4, 3, seed=4))
    grads = tape.gradient(loss, ins)
    if use_scale:
        layer.scale.assign(np.float64(1.3))
        with cr.GradientTape() as tape:
            out = layer(ins, mask=[None, keep], use_causal_mask=causal)
            loss = cr.reduce_sum(out * rand(2, 4, 3, seed=4))
        grads = tape.gradient(loss, ins)
    tq, tv, tk = (torch.tensor(a, requires_grad=True) for a in (q, v, k))
    ref = _luong(tq, tv, tk, 1.3 if use_scale else 1.0, 1.0 if score_mode == "concat" else None, keep, causal)
    (ref * torch.tensor(rand(2, 4, 3, seed=4))).sum().backward()
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for mine, theirs in zip(grads, (tq, tv, tk)):
        np.testing.assert_allclose(mine.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_attention_query_mask_zeroes_padded_steps_and_passes_on():
    q = rand(2, 4, 3, dtype=np.float32)
    query_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    out, scores = layers.Attention()([q, q], mask=[query_mask, None], return_attention_scores=True)
    assert np.all(out.numpy()[0, 2:] == 0) and tuple(scores.shape) == (2, 4, 4)
    layer = layers.Attention()
    assert layer.compute_mask([q, q], [query_mask, None]) is query_mask
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        layer(q)
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="cosine")


def test_additive_attention_matches_bahdanau_in_torch():
    q, v = rand(2, 4, 3), rand(2, 5, 3, seed=1)
    layer = layers.AdditiveAttention(dtype="float64")
    out = layer([q, v])
    scale = layer.scale.numpy()
    tq, tv = torch.tensor(q), torch.tensor(v)
    scores = (torch.tensor(scale) * torch.tanh(tq[:, :, None] + tv[:, None])).sum(-1)
    np.testing.assert_allclose(out.numpy(), (torch.softmax(scores, -1) @ tv).numpy(), rtol=1e-10)
    assert [w.shape for w in layer.weights] == [(3,)]
    config = layer.get_config()
    assert "score_mode" not in config and config["use_scale"] is True
    assert layers.AdditiveAttention.from_config(config).get_config() == config


# --- EinsumDense ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("equation,output_shape,bias_axes,x_shape", [
    ("ab,bc->ac", 4, "c", (3, 5)),
    ("abc,cde->abde", (None, 2, 4), "de", (3, 6, 5)),
    ("abcd,cde->abe", (None, 4), "e", (3, 6, 2, 5)),
    ("...b,bc->...c", 4, None, (3, 2, 5)),
    ("abc,cd->abd", (None, 4), "b", (3, 6, 5)),  # a bias along a kept axis: the einsum path
    ("abc,bcd->ad", 4, "d", (3, 6, 5)),
])
def test_einsum_dense_matches_numpy_einsum(equation, output_shape, bias_axes, x_shape):
    layer = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, bias_initializer="random_normal",
                               dtype="float64")
    x = rand(*x_shape)
    y = layer(x)
    want = np.einsum(equation, x, layer.kernel.numpy())
    if bias_axes:
        want = want + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-12)
    assert tuple(y.shape) == tuple(layer.compute_output_shape(x_shape))
    config = json.loads(json.dumps(layer.get_config()))
    assert layers.EinsumDense.from_config(config).get_config() == config


def test_einsum_dense_errors_name_the_problem():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab->b", 3)(rand(2, 3))
    with pytest.raises(ValueError, match="Bias dimension 'z'"):
        layers.EinsumDense("ab,bc->ac", 3, bias_axes="z")(rand(2, 3))
    with pytest.raises(ValueError, match="Weight dimension 'q'"):
        layers.EinsumDense("ab,bq->ab", 3)(rand(2, 3))


def test_sliding_window_and_gate_as_keras():
    keras.utils.set_random_seed(8)
    x = rand(2, 6, 8)
    band = np.abs(np.arange(6)[:, None] - np.arange(6)[None]) < 2
    windowed = layers.MultiHeadAttention(2, 4, sliding_window=2, dtype="float64")
    _, scores = windowed(x, x, use_causal_mask=True, return_attention_scores=True)
    assert np.all(scores.numpy()[..., ~(band & np.tri(6, dtype=bool))] == 0)
    plain = layers.MultiHeadAttention(2, 4, dtype="float64")
    plain(x, x)
    plain.set_weights(windowed.get_weights())
    np.testing.assert_allclose(windowed(x, x, use_causal_mask=True).numpy(),
                               plain(x, x, attention_mask=np.broadcast_to(band & np.tri(6, dtype=bool), (2, 6, 6)),
                                     use_causal_mask=True).numpy(), rtol=1e-12)
    gated = layers.MultiHeadAttention(2, 4, use_gate=True, dtype="float64")
    out = gated(x, x)
    assert [tuple(w.shape) for w in gated.weights][4:6] == [(8, 2, 4), (2, 4)]  # query, key, gate, value, output
    plain.set_weights(gated.get_weights()[:4] + gated.get_weights()[6:])
    gate = 1 / (1 + np.exp(-(np.einsum("btd,dnh->btnh", x, gated._gate_dense.kernel.numpy())
                             + gated._gate_dense.bias.numpy())))
    heads = plain._compute_attention(*(d(cr.Tensor(x)) for d in (plain.query_dense, plain.key_dense,
                                                                  plain.value_dense)))[0].numpy()
    want = np.einsum("btnh,nhd->btd", heads * gate, plain.output_dense.kernel.numpy()) + plain.output_dense.bias.numpy()
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-10)
    config = gated.get_config()
    assert config["use_gate"] is True and config["sliding_window"] is None
    assert layers.MultiHeadAttention.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="sliding_window"):
        layers.MultiHeadAttention(2, 4, sliding_window=0)
    with pytest.raises(ValueError, match="Flash attention is not supported"):
        layers.MultiHeadAttention(2, 4, flash_attention=True)


def test_attention_dropout_runs_in_the_fused_node_only_in_training():
    keras.utils.set_random_seed(9)
    mha = layers.MultiHeadAttention(2, 4, dropout=0.5, seed=3, dtype="float64")
    x = rand(2, 6, 8)
    inference = mha(x, x).numpy()
    np.testing.assert_array_equal(mha(x, x, training=False).numpy(), inference)
    first, second = mha(x, x, training=True).numpy(), mha(x, x, training=True).numpy()
    assert not np.allclose(first, inference) and not np.allclose(first, second)  # a new mask per call
    replica = layers.MultiHeadAttention(2, 4, dropout=0.5, seed=3, dtype="float64")
    replica(x, x)
    replica.set_weights(mha.get_weights())
    np.testing.assert_array_equal(replica(x, x, training=True).numpy(), first)  # the seed's sequence


def test_a_keras_encoder_equals_torch_transformer_encoder_with_mapped_weights():
    """The benchmark's model (benchmarks/transformer.py): Embedding, two post-norm blocks of MultiHeadAttention,
    LayerNormalization and a relu feed-forward, against torch.nn.TransformerEncoder, outputs and a training step."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from benchmarks import transformer as bench

    cfg = dict(bench.WORKLOADS["transformer-b32"], steps=12, vocab=50)
    weights = bench.initial_weights(cfg, seed=1)
    ids, labels = bench.synthetic_tokens(cfg, 8, seed=1)
    ours, theirs = bench.build_chainrule(keras, cfg, weights), bench.build_torch(torch, cfg, weights)
    assert ours.count_params() == sum(p.numel() for p in theirs.parameters()) == bench.count_params(cfg)
    ids_t = torch.from_numpy(ids.astype(np.int64))
    np.testing.assert_allclose(ours(ids).numpy(), torch.softmax(theirs(ids_t), -1).detach().numpy(), atol=2e-6)
    ours.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    ours.fit(ids, labels, batch_size=8, epochs=1, verbose=0)
    optimizer = torch.optim.SGD(theirs.parameters(), lr=0.1)
    torch.nn.functional.cross_entropy(theirs(ids_t), torch.from_numpy(labels)).backward()
    optimizer.step()
    np.testing.assert_allclose(ours(ids).numpy(), torch.softmax(theirs(ids_t), -1).detach().numpy(), atol=2e-5)
