"""LayerNormalization, GroupNormalization, UnitNormalization: PyTorch's nn.LayerNorm / nn.GroupNorm / F.normalize with
the same weights (float64 and float32, outputs and gradients), Keras's defaults, errors, configs, model files, replay."""
import json
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


def rand(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _run(layer, x, weights):
    """(output, gradient of x, gradients of weights) for a random projection of the output."""
    xv = cr.Variable(x)
    with cr.GradientTape() as tape:
        y = layer(xv)
        loss = cr.reduce_sum(y * rand(*y.shape, seed=9, dtype=x.dtype))
    grads = tape.gradient(loss, [xv] + weights)
    return y.numpy(), [g.numpy() for g in grads]


def _torch_run(fn, x, params):
    tx = torch.tensor(x, requires_grad=True)
    y = fn(tx)
    (y * torch.tensor(rand(*y.shape, seed=9, dtype=x.dtype))).sum().backward()
    return y.detach().numpy(), [tx.grad.numpy()] + [p.grad.numpy() for p in params]


def _dtype_name(dtype):
    return "float64" if dtype == np.float64 else "float32"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [-1, [-2, -1]])
def test_layer_normalization_matches_torch_layer_norm(dtype, axis):
    x = rand(4, 3, 5, dtype=dtype) * 3 + 1
    layer = layers.LayerNormalization(axis=axis, epsilon=1e-5, gamma_initializer="random_normal",
                                      beta_initializer="random_normal", dtype=_dtype_name(dtype))
    layer.build(x.shape)
    out, grads = _run(layer, x, [layer.gamma, layer.beta])
    normalized = tuple(x.shape[d] for d in layer.axis)
    twin = torch.nn.LayerNorm(normalized, eps=1e-5, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(layer.gamma.numpy()))
        twin.bias.copy_(torch.tensor(layer.beta.numpy()))
    ref, ref_grads = _torch_run(twin, x, [twin.weight, twin.bias])
    np.testing.assert_allclose(out, ref, **TOL[dtype])
    for mine, theirs in zip(grads, ref_grads):
        np.testing.assert_allclose(mine, theirs, **TOL[dtype])
    assert out.dtype == dtype


def test_layer_normalization_defaults_and_an_inner_axis():
    layer = layers.LayerNormalization()
    assert (layer.axis, layer.epsilon, layer.center, layer.scale, layer.rms_scaling) == (-1, 1e-3, True, True, False)
    x = rand(2, 4, 3, dtype=np.float32)
    inner = layers.LayerNormalization(axis=1, center=False)
    y = inner(x).numpy()
    assert inner.axis == [1] and inner.beta is None and [w.shape for w in inner.weights] == [(4,)]
    want = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)


def test_rms_scaling_is_keras_deprecated_formula_with_its_warning():
    with pytest.warns(UserWarning, match="rms_scaling=True.*deprecated"):
        layer = layers.LayerNormalization(rms_scaling=True)
    x = rand(3, 6, dtype=np.float32) + 2
    y = layer(x).numpy()
    assert layer.beta is None and layer.gamma is not None
    np.testing.assert_allclose(y, x / np.sqrt(x.var(-1, keepdims=True) + 1e-3), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("groups,shape", [(2, (3, 5, 4)), (3, (2, 4, 4, 6)), (-1, (2, 7, 3))])
def test_group_normalization_matches_torch_group_norm(dtype, groups, shape):
    x = rand(*shape, dtype=dtype) * 2 - 1
    layer = layers.GroupNormalization(groups=groups, epsilon=1e-5, gamma_initializer="random_normal",
                                      beta_initializer="random_normal", dtype=_dtype_name(dtype))
    layer.build(x.shape)
    out, grads = _run(layer, x, [layer.gamma, layer.beta])
    channels = shape[-1]
    twin = torch.nn.GroupNorm(channels if groups == -1 else groups, channels, eps=1e-5,
                              dtype=torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        twin.weight.copy_(torch.tensor(layer.gamma.numpy()))
        twin.bias.copy_(torch.tensor(layer.beta.numpy()))
    last_to_first = lambda t: t.movedim(-1, 1)  # noqa: E731 (torch's GroupNorm is channels-first)
    ref, ref_grads = _torch_run(lambda t: twin(last_to_first(t)).movedim(1, -1), x, [twin.weight, twin.bias])
    np.testing.assert_allclose(out, ref, **TOL[dtype])
    for mine, theirs in zip(grads, ref_grads):
        np.testing.assert_allclose(mine, theirs, **TOL[dtype])


def test_group_normalization_errors_and_defaults():
    assert layers.GroupNormalization().groups == 32
    with pytest.raises(ValueError, match="Number of groups \\(5\\) cannot be more than the number of channels"):
        layers.GroupNormalization(5)(rand(2, 4))
    with pytest.raises(ValueError, match="must be a multiple"):
        layers.GroupNormalization(3)(rand(2, 4))
    with pytest.raises(ValueError, match="invalid value for argument `groups`"):
        layers.GroupNormalization(0)
    x = rand(2, 3, 4, dtype=np.float32)
    channels_first = layers.GroupNormalization(groups=3, axis=1)(x).numpy()
    grouped = x.reshape(2, 3, 1, 4)
    want = (grouped - grouped.mean((2, 3), keepdims=True)) / np.sqrt(grouped.var((2, 3), keepdims=True) + 1e-3)
    np.testing.assert_allclose(channels_first, want.reshape(x.shape), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_unit_normalization_matches_torch_normalize(axis):
    x = rand(3, 4, 5)
    out, (dx,) = _run(layers.UnitNormalization(axis=axis, dtype="float64"), x, [])
    dims = (-1,) if axis == -1 else (1, 2)
    ref, (ref_dx,) = _torch_run(lambda t: t / t.square().sum(dims, keepdim=True).sqrt().clamp_min(1e-12), x, [])
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-10, atol=1e-12)
    if axis == -1:
        np.testing.assert_allclose(out, F.normalize(torch.tensor(x), dim=-1).numpy(), rtol=1e-12)
    assert layers.UnitNormalization()(np.zeros((1, 3), "float32")).numpy().tolist() == [[0.0, 0.0, 0.0]]


@pytest.mark.parametrize("layer", [lambda: layers.LayerNormalization(axis=[1, 2], epsilon=1e-4, center=False),
                                   lambda: layers.GroupNormalization(groups=2, scale=False),
                                   lambda: layers.UnitNormalization(axis=[1])])
def test_configs_round_trip(layer):
    layer = layer()
    x = rand(2, 3, 4, dtype=np.float32)
    want = layer(x).numpy()
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    got = clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), want)
    assert clone.get_config() == layer.get_config()
    assert got.shape == want.shape


def test_a_model_of_them_trains_replayed_bit_for_bit_as_eager_and_reloads(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((24, 4, 8)).astype("float32"), rng.standard_normal((24, 2)).astype("float32")

    def build():
        keras.utils.set_random_seed(3)
        return keras.Sequential([keras.Input((4, 8)), layers.Dense(8), layers.LayerNormalization(),
                                 layers.GroupNormalization(4), layers.UnitNormalization(), layers.Flatten(),
                                 layers.Dense(2)])
    models, histories = [], []
    for eagerly in (True, False):
        model = build()
        model.compile("adam", "mse", run_eagerly=eagerly)
        histories.append(model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False).history["loss"])
        models.append(model)
    assert histories[0] == histories[1] and histories[0][-1] < histories[0][0]
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        assert a.tobytes() == b.tobytes()
    path = tmp_path / "norms.keras"
    models[1].save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), models[1].predict(x, verbose=0))
