"""Dot (and dot, batch_dot): Keras's shapes and axes rules, values and gradients against PyTorch, normalize as the
cosine similarity, config, a two-input model that trains and reloads."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.layers.merge import batch_dot
from layer_checks import rand


@pytest.mark.parametrize("a_shape, b_shape, axes, out_shape, equation", [
    ((3, 4), (3, 4), 1, (3, 1), "bi,bi->b"),
    ((3, 4), (3, 4), -1, (3, 1), "bi,bi->b"),
    ((3, 5, 4), (3, 6, 4), (2, 2), (3, 5, 6), "bij,bkj->bik"),
    ((3, 5, 4), (3, 4, 6), (2, 1), (3, 5, 6), "bij,bjk->bik"),
    ((3, 4, 5), (3, 4), (1, 1), (3, 5), "bij,bi->bj"),
    ((3, 2, 4, 5), (3, 5, 6), (3, 1), (3, 2, 4, 6), "bijk,bkl->bijl"),
])
def test_dot_matches_torch(a_shape, b_shape, axes, out_shape, equation):
    a, b = rand(*a_shape, dtype="float64"), rand(*b_shape, seed=1, dtype="float64")
    at, bt = cr.Tensor(a, requires_grad=True), cr.Tensor(b, requires_grad=True)
    layer = layers.Dot(axes, dtype="float64")
    y = layer([at, bt])
    assert y.shape == out_shape
    assert layer.compute_output_shape([(None,) + a_shape[1:], (None,) + b_shape[1:]]) == (None,) + out_shape[1:]
    g = rand(*y.shape, seed=2, dtype="float64")
    da, db = cr.grad(cr.reduce_sum(y * g), [at, bt])
    a_t, b_t = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ref = torch.einsum(equation, a_t, b_t).reshape(out_shape)
    (ref * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(da.numpy(), a_t.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db.numpy(), b_t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_dot_normalize_is_the_cosine_similarity():
    a, b = rand(4, 6), rand(4, 6, seed=1)
    y = layers.dot([a, b], axes=1, normalize=True).numpy()
    ref = F.cosine_similarity(torch.tensor(a), torch.tensor(b), dim=1).numpy()[:, None]
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    zero = layers.Dot(1, normalize=True)([np.zeros((1, 3), "float32"), np.ones((1, 3), "float32")]).numpy()
    assert np.all(np.isfinite(zero)) and zero[0, 0] == 0.0


def test_dot_config_and_errors():
    layer = layers.Dot(axes=(2, 1), normalize=True, name="sim")
    config = layer.get_config()
    assert config["axes"] == (2, 1) and config["normalize"] is True and config["name"] == "sim"
    clone = layers.Dot.from_config(config)
    assert clone.axes == (2, 1) and clone.normalize
    with pytest.raises(TypeError, match=r"Invalid type for argument `axes`"):
        layers.Dot(axes="1")
    with pytest.raises(ValueError, match=r"it should contain two elements"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match=r"Incompatible input shapes: axis values 4 \(at axis 1\) != 5"):
        layers.Dot(1)([rand(2, 4), rand(2, 5)])
    with pytest.raises(ValueError, match=r"needs exactly 2 inputs, got 3"):
        layers.Dot(1)([rand(2, 4)] * 3)
    with pytest.raises(ValueError, match=r"Cannot perform batch_dot over axis 0"):
        batch_dot(rand(2, 4), rand(2, 4), (0, 0))


def test_dot_in_a_two_input_model_trains_and_reloads(tmp_path):
    """The dual-encoder pattern: two Dense towers, their cosine similarity as the output."""
    left, right = keras.Input((5,)), keras.Input((4,))
    similarity = layers.Dot(axes=1, normalize=True)([layers.Dense(3)(left), layers.Dense(3)(right)])
    model = keras.Model([left, right], similarity)
    assert model.output_shape == (None, 1)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    x = [rand(8, 5), rand(8, 4, seed=1)]
    y = np.ones((8, 1), "float32")
    losses = [model.train_on_batch(x, y) for _ in range(3)]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "dot.keras")
    loaded = keras.models.load_model(tmp_path / "dot.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
