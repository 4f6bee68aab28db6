"""More Keras 3 layers: AlphaDropout, SpatialDropout3D, DepthwiseConv1D, SeparableConv1D, RMSNormalization,
ReversibleEmbedding, the adaptive pooling layers and keras.ops.adaptive_*_pool: values and gradients against
PyTorch, statistics where the layer is random, configs, saving, and bad arguments."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import keras
from chainrule.engine.gradcheck import check_gradients

RNG = np.random.default_rng(0)


def grads(layer_call, x, weights=()):
    xv = cr.Variable(x)
    cot = np.random.default_rng(5).normal(size=layer_call(xv).shape)
    with cr.GradientTape() as tape:
        y = layer_call(xv)
        loss = cr.reduce_sum(y * cot)
    return y.numpy(), tape.gradient(loss, [xv, *weights]), cot


# --- dropout ----------------------------------------------------------------------------------------------------------
def test_alpha_dropout_keeps_selu_statistics_and_is_identity_in_inference():
    x = RNG.normal(size=(4000, 50)).astype("float32")
    layer = keras.layers.AlphaDropout(0.3, seed=2)
    y = layer(x, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    saturation = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.3) * (1 + 0.3 * saturation ** 2)) ** -0.5
    dropped = np.isclose(y, a * saturation + -a * saturation * 0.3)
    assert abs(dropped.mean() - 0.3) < 0.01
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    shared = keras.layers.AlphaDropout(0.5, noise_shape=(None, 1), seed=1)(np.ones((50, 6), "float32"), training=True)
    assert (np.ptp(shared.numpy(), axis=1) == 0).all()
    config = layer.get_config()
    assert keras.layers.AlphaDropout.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="rate"):
        keras.layers.AlphaDropout(1.5)


def test_spatial_dropout_3d_drops_whole_channels():
    x = np.ones((8, 3, 4, 4, 6), "float32")
    y = keras.layers.SpatialDropout3D(0.5, seed=3)(x, training=True).numpy()
    per_channel = y.reshape(8, -1, 6)
    assert (np.ptp(per_channel, axis=1) == 0).all() and set(np.unique(y)) <= {0.0, 2.0}
    first = keras.layers.SpatialDropout3D(0.5, data_format="channels_first", seed=3)(
        np.ones((8, 6, 3, 4, 4), "float32"), training=True).numpy()
    assert (np.ptp(first.reshape(8, 6, -1), axis=2) == 0).all()
    with pytest.raises(ValueError, match="expected"):
        keras.layers.SpatialDropout3D(0.5)(np.ones((2, 3, 3), "float32"))


# --- 1-D depthwise and separable --------------------------------------------------------------------------------------
@pytest.mark.parametrize("padding, strides, dilation", [("valid", 1, 1), ("same", 1, 2), ("valid", 2, 1)])
def test_depthwise_conv1d_matches_torch(padding, strides, dilation):
    x = RNG.normal(size=(2, 11, 3))
    layer = keras.layers.DepthwiseConv1D(3, strides=strides, padding=padding, dilation_rate=dilation,
                                         depth_multiplier=2, bias_initializer="random_normal", dtype="float64")
    layer(x)  # builds the weights the gradients are taken for
    y, (gx, gk, gb), cot = grads(layer, x, (layer.kernel, layer.bias))
    assert layer.kernel.shape == (3, 3, 2)
    tx = torch.tensor(x, requires_grad=True)
    tk = torch.tensor(layer.kernel.numpy().transpose(1, 2, 0).reshape(6, 1, 3), requires_grad=True)
    tb = torch.tensor(layer.bias.numpy(), requires_grad=True)
    xt = tx.permute(0, 2, 1)
    if padding == "same":
        total = dilation * 2
        xt = F.pad(xt, (total // 2, total - total // 2))
    ty = F.conv1d(xt, tk, tb, stride=strides, dilation=dilation, groups=3).permute(0, 2, 1)
    (ty * torch.tensor(cot)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gk.numpy(), tk.grad.numpy().reshape(3, 2, 3).transpose(2, 0, 1), rtol=1e-10)
    np.testing.assert_allclose(gb.numpy(), tb.grad.numpy(), rtol=1e-10)


def test_separable_conv1d_matches_torch_and_saves(tmp_path):
    x = RNG.normal(size=(2, 9, 4))
    layer = keras.layers.SeparableConv1D(5, 3, depth_multiplier=2, activation="relu", dtype="float64")
    layer(x)  # builds the weights the gradients are taken for
    y, (gx, gd, gp), cot = grads(layer, x, (layer.depthwise_kernel, layer.pointwise_kernel))
    assert layer.depthwise_kernel.shape == (3, 4, 2) and layer.pointwise_kernel.shape == (1, 8, 5)
    tx = torch.tensor(x, requires_grad=True)
    td = torch.tensor(layer.depthwise_kernel.numpy().transpose(1, 2, 0).reshape(8, 1, 3), requires_grad=True)
    tp = torch.tensor(layer.pointwise_kernel.numpy()[0].T[:, :, None], requires_grad=True)
    ty = F.relu(F.conv1d(F.conv1d(tx.permute(0, 2, 1), td, groups=4), tp) +
                torch.tensor(layer.bias.numpy())[:, None]).permute(0, 2, 1)
    (ty * torch.tensor(cot)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gp.numpy(), tp.grad.numpy()[:, :, 0].T[None], rtol=1e-10, atol=1e-12)
    assert keras.layers.SeparableConvolution1D is keras.layers.SeparableConv1D
    model = keras.Sequential([keras.Input((9, 4)), keras.layers.SeparableConv1D(5, 3, padding="same"),
                              keras.layers.DepthwiseConv1D(2)])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    xs = x.astype("float32")
    np.testing.assert_allclose(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="kernel_size"):
        keras.layers.DepthwiseConv1D((3, 3))


# --- RMSNormalization -------------------------------------------------------------------------------------------------
def test_rms_normalization_matches_torch():
    x = RNG.normal(size=(3, 4, 6))
    layer = keras.layers.RMSNormalization(epsilon=1e-5, dtype="float64")
    layer.build(x.shape)
    layer.scale.assign(RNG.normal(size=6))
    y, (gx, gs), cot = grads(layer, x, (layer.scale,))
    tx = torch.tensor(x, requires_grad=True)
    ts = torch.tensor(layer.scale.numpy(), requires_grad=True)
    ty = F.rms_norm(tx, (6,), ts, 1e-5)
    (ty * torch.tensor(cot)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(gs.numpy(), ts.grad.numpy(), rtol=1e-9)
    two = keras.layers.RMSNormalization(axis=[1, 2])
    out = two(x.astype("float32")).numpy()
    np.testing.assert_allclose((out ** 2).mean(axis=(1, 2)), 1.0, rtol=1e-3)
    assert two.scale.shape == (4, 6)
    assert keras.layers.RMSNormalization.from_config(two.get_config()).get_config() == two.get_config()
    with pytest.raises(ValueError, match="out of bounds"):
        keras.layers.RMSNormalization(axis=3)(np.ones((2, 3), "float32"))


# --- ReversibleEmbedding ----------------------------------------------------------------------------------------------
def test_reversible_embedding_tied_and_untied(tmp_path):
    tied = keras.layers.ReversibleEmbedding(12, 4, mask_zero=True)
    ids = np.array([[0, 3, 5]])
    hidden = tied(ids)
    logits = tied(hidden, reverse=True)
    np.testing.assert_allclose(logits.numpy(), hidden.numpy() @ tied.embeddings.numpy().T, rtol=1e-6)
    assert tied.compute_mask(ids).numpy().tolist() == [[False, True, True]]
    capped = keras.layers.ReversibleEmbedding(12, 4, tie_weights=False, logit_soft_cap=2.0)
    h = capped(ids)
    out = capped(h, reverse=True).numpy()
    np.testing.assert_allclose(out, 2.0 * np.tanh(h.numpy() @ capped.reverse_embeddings.numpy() / 2.0), rtol=1e-6)
    assert [w.name.split("/")[-1] for w in capped.weights] == ["embeddings", "reverse_embeddings"]
    inputs = keras.Input((3,), dtype="int32")
    embed = keras.layers.ReversibleEmbedding(12, 4)
    model = keras.Model(inputs, embed(keras.layers.Dense(4)(embed(inputs)), reverse=True))
    assert model.output_shape == (None, 3, 12)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0), rtol=1e-6)
    config = capped.get_config()
    assert config["tie_weights"] is False and config["logit_soft_cap"] == 2.0
    with pytest.raises(ValueError, match="output_dim"):
        tied(np.ones((1, 5), "float32"), reverse=True)


# --- adaptive pooling -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rank, size", [(1, 4), (2, (3, 5)), (3, (2, 3, 2))])
@pytest.mark.parametrize("kind", ["Average", "Max"])
def test_adaptive_pooling_matches_torch(rank, size, kind):
    shape = (2,) + (7, 10, 5)[:rank] + (3,)
    x = RNG.normal(size=shape)
    layer = getattr(keras.layers, f"Adaptive{kind}Pooling{rank}D")(size, dtype="float64")
    y, (gx,), cot = grads(layer, x)
    torch_fn = getattr(F, f"adaptive_{'avg' if kind == 'Average' else 'max'}_pool{rank}d")
    tx = torch.tensor(x, requires_grad=True)
    perm = (0, rank + 1, *range(1, rank + 1))
    back = (0, *range(2, rank + 2), 1)
    ty = torch_fn(tx.permute(*perm), size)
    ty = (ty[0] if isinstance(ty, tuple) else ty).permute(*back)
    (ty * torch.tensor(cot)).sum().backward()
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    first = getattr(keras.layers, f"Adaptive{kind}Pooling{rank}D")(size, data_format="channels_first",
                                                                   dtype="float64")
    np.testing.assert_allclose(np.moveaxis(first(np.moveaxis(x, -1, 1)).numpy(), 1, -1), y, rtol=1e-12)
    assert layer.compute_output_shape(shape) == (2, *((size,) if rank == 1 else size), 3)


def test_adaptive_pool_ops_gradients_and_errors():
    x = RNG.normal(size=(1, 5, 6, 2))
    check_gradients(lambda t: keras.ops.adaptive_average_pool(t, (2, 4)), x)
    check_gradients(lambda t: keras.ops.adaptive_max_pool(t, 3), x)
    with pytest.raises(ValueError, match="output_size"):
        keras.ops.adaptive_average_pool(x, (2,))
    with pytest.raises(TypeError, match="output_size"):
        keras.layers.AdaptiveMaxPooling2D("big")
    layer = keras.layers.AdaptiveAveragePooling2D(4)
    assert keras.layers.AdaptiveAveragePooling2D.from_config(layer.get_config()).output_size == (4, 4)
