"""GroupQueryAttention (against PyTorch's scaled_dot_product_attention with grouped heads), SpectralNormalization
(the kernel's largest singular value brought to 1, in training only), HashedCrossing (Keras's documented bins),
Pipeline, MaxNumBoundingBoxes and RandomElasticTransform."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import chainrule as cr
from chainrule import keras

RNG = np.random.default_rng(0)


# --- GroupQueryAttention ----------------------------------------------------------------------------------------------
def torch_gqa(layer, query, value, mask=None, causal=False):
    w = {v.name: torch.tensor(v.numpy(), requires_grad=True) for v in layer.weights}
    names = {key.split("/")[0]: key for key in w}
    tq = torch.tensor(query, requires_grad=True)
    tv = torch.tensor(value, requires_grad=True)

    def project(x, role):
        return torch.einsum("btm,muh->btuh", x, w[f"{role}/kernel"]) + w[f"{role}/bias"]
    q, k, v = (project(tq, "query"), project(tv, "key"), project(tv, "value"))
    attn_mask = None if mask is None else torch.tensor(mask)[:, None]
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                         attn_mask=attn_mask, is_causal=causal, enable_gqa=True).transpose(1, 2)
    out = torch.einsum("btuh,uhm->btm", out, w["attention_output/kernel"]) + w["attention_output/bias"]
    return out, tq, tv, w, names


@pytest.mark.parametrize("causal", [False, True])
def test_group_query_attention_matches_torch(causal):
    layer = keras.layers.GroupQueryAttention(head_dim=3, num_query_heads=6, num_key_value_heads=2,
                                             bias_initializer="random_normal", dtype="float64")
    query, value = RNG.normal(size=(2, 5, 7)), RNG.normal(size=(2, 4, 7))
    if causal:
        value = RNG.normal(size=(2, 5, 7))
    mask = None if causal else RNG.uniform(size=(2, 5, 4)) > 0.3
    if mask is not None:
        mask[:, :, 0] = True
    layer(query, value)
    qv, vv = cr.Variable(query), cr.Variable(value)
    cot = RNG.normal(size=(2, 5, 7))
    with cr.GradientTape() as tape:
        out = layer(qv, vv, attention_mask=mask, use_causal_mask=causal)
        loss = cr.reduce_sum(out * cot)
    got = tape.gradient(loss, [qv, vv, *layer.weights])
    tout, tq, tv, w, _ = torch_gqa(layer, query, value, mask, causal)
    (tout * torch.tensor(cot)).sum().backward()
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got[0].numpy(), tq.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got[1].numpy(), tv.grad.numpy(), rtol=1e-9, atol=1e-12)
    for variable, grad in zip(layer.weights, got[2:]):
        np.testing.assert_allclose(grad.numpy(), w[variable.name].grad.numpy(), rtol=1e-9, atol=1e-12)


def test_group_query_attention_config_scores_and_errors(tmp_path):
    layer = keras.layers.GroupQueryAttention(4, 4, 2, dropout=0.1, use_gate=True, seed=1)
    x = np.ones((2, 3, 8), "float32")
    out, scores = layer(x, x, return_attention_scores=True)
    assert out.shape == (2, 3, 8) and scores.shape == (2, 4, 3, 3)
    assert [w.name.split("/")[0] for w in layer.weights][::2] == ["query", "key", "gate", "value",
                                                                  "attention_output"]
    config = layer.get_config()
    assert config["num_key_value_heads"] == 2 and config["use_gate"] is True
    again = keras.layers.GroupQueryAttention.from_config(config)
    assert again.get_config() == config
    inputs = keras.Input((3, 8))
    model = keras.Model(inputs, keras.layers.GroupQueryAttention(4, 4, 1)(inputs, inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="divisible"):
        keras.layers.GroupQueryAttention(4, 6, 4)


# --- SpectralNormalization --------------------------------------------------------------------------------------------
def test_spectral_normalization_scales_the_kernel_in_training_only():
    layer = keras.layers.SpectralNormalization(keras.layers.Dense(5), power_iterations=30)
    x = RNG.normal(size=(3, 6)).astype("float32")
    layer(x)  # inference: the kernel as it was
    before = layer.kernel.numpy().copy()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x @ before + layer.layer.bias.numpy())
    out = layer(x, training=True).numpy()
    sigma = np.linalg.svd(before, compute_uv=False)[0]
    np.testing.assert_allclose(layer.kernel.numpy(), before / sigma, rtol=1e-4)
    np.testing.assert_allclose(out, x @ (before / sigma) + layer.layer.bias.numpy(), rtol=1e-4, atol=1e-5)
    conv = keras.layers.SpectralNormalization(keras.layers.Conv2D(4, 3), power_iterations=30)
    conv(np.ones((1, 6, 6, 2), "float32"), training=True)
    matrix = conv.kernel.numpy().reshape(-1, 4)
    np.testing.assert_allclose(np.linalg.svd(matrix, compute_uv=False)[0], 1.0, rtol=1e-3)
    config = layer.get_config()
    assert config["power_iterations"] == 30 and config["layer"]["class_name"] == "Dense"
    with pytest.raises(ValueError, match="power_iterations"):
        keras.layers.SpectralNormalization(keras.layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="kernel"):
        keras.layers.SpectralNormalization(keras.layers.Flatten())(np.ones((1, 2, 2), "float32"))


def test_spectral_normalization_inside_fit_keeps_normalizing():
    model = keras.Sequential([keras.Input((4,)), keras.layers.SpectralNormalization(keras.layers.Dense(8),
                                                                                    power_iterations=10),
                              keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    model.fit(RNG.normal(size=(64, 4)), RNG.normal(size=(64, 1)), batch_size=16, epochs=3, verbose=0)
    sigma = np.linalg.svd(model.layers[0].kernel.numpy(), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 0.05  # normalized before each step, then moved by one small SGD step


# --- HashedCrossing ---------------------------------------------------------------------------------------------------
def test_hashed_crossing_gives_kerass_documented_bins():
    feat1, feat2 = np.array(["A", "B", "A", "B", "A"]), np.array([101, 101, 101, 102, 102])
    np.testing.assert_array_equal(keras.layers.HashedCrossing(num_bins=5)((feat1, feat2)).numpy(), [1, 4, 1, 1, 3])
    one_hot = keras.layers.HashedCrossing(num_bins=5, output_mode="one_hot")((feat1, feat2)).numpy()
    np.testing.assert_array_equal(one_hot.argmax(axis=1), [1, 4, 1, 1, 3])
    assert one_hot.dtype == np.float32
    column = keras.layers.HashedCrossing(num_bins=5)((feat1[:, None], feat2[:, None])).numpy()
    np.testing.assert_array_equal(column[:, 0], [1, 4, 1, 1, 3])


def test_hashed_crossing_errors_and_config():
    layer = keras.layers.HashedCrossing(7)
    with pytest.raises(ValueError, match="at least two"):
        layer((np.array([1]),))
    with pytest.raises(ValueError, match="equal shape"):
        layer((np.array([1, 2]), np.array([1])))
    with pytest.raises(ValueError, match="integer or string"):
        layer((np.array([1.5]), np.array([1])))
    with pytest.raises(ValueError, match="output_mode"):
        keras.layers.HashedCrossing(7, output_mode="multi_hot")
    assert keras.layers.HashedCrossing.from_config(layer.get_config()).get_config() == layer.get_config()


# --- Pipeline, MaxNumBoundingBoxes, RandomElasticTransform -----------------------------------------------------------
def test_pipeline_applies_its_layers_and_round_trips():
    pipeline = keras.layers.Pipeline([keras.layers.Rescaling(0.5), keras.layers.RandomFlip("horizontal", seed=1),
                                      keras.layers.RandomGrayscale(1.0)])
    x = RNG.uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    out = pipeline(x).numpy()
    assert np.allclose(out[..., 0], out[..., 1])
    np.testing.assert_allclose(pipeline(x, training=False).numpy(), x * 0.5)
    augment = keras.layers.Pipeline([keras.layers.RandomFlip("horizontal", seed=1), keras.layers.MixUp(seed=2)])
    data = augment({"images": x, "labels": np.array([0, 1])})
    assert data["images"].shape == x.shape and data["labels"].shape == (2,)
    again = keras.layers.Pipeline.from_config(pipeline.get_config())
    assert [type(layer).__name__ for layer in again.layers] == ["Rescaling", "RandomFlip", "RandomGrayscale"]
    with pytest.raises(ValueError, match="layers"):
        keras.layers.Pipeline([lambda x: x])


def test_max_num_bounding_boxes_pads_and_cuts():
    boxes = {"boxes": np.arange(24.0).reshape(2, 3, 4), "labels": np.array([[1, 2, 3], [4, 5, 6]])}
    images = np.zeros((2, 8, 8, 3))
    padded = keras.layers.MaxNumBoundingBoxes(5, fill_value=-2)({"images": images, "bounding_boxes": boxes})
    assert padded["bounding_boxes"]["boxes"].shape == (2, 5, 4)
    assert padded["bounding_boxes"]["labels"].tolist() == [[1, 2, 3, -2, -2], [4, 5, 6, -2, -2]]
    cut = keras.layers.MaxNumBoundingBoxes(2)({"images": images, "bounding_boxes": boxes})
    np.testing.assert_array_equal(cut["bounding_boxes"]["boxes"], boxes["boxes"][:, :2])
    assert padded["images"] is images
    with pytest.raises(KeyError, match="unsupported keys"):
        keras.layers.MaxNumBoundingBoxes(2)({"images": images, "bounding_boxes": {**boxes, "scores": 1}})


def test_random_elastic_transform():
    x = RNG.uniform(0, 255, (2, 12, 12, 3)).astype("float32")
    layer = keras.layers.RandomElasticTransform(factor=(1.0, 1.0), seed=3)
    out = layer(x).numpy()
    assert out.shape == x.shape and not np.allclose(out, x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    np.testing.assert_allclose(keras.layers.RandomElasticTransform(scale=0.0, seed=3)(x).numpy(), x, atol=1e-4)
    np.testing.assert_array_equal(keras.layers.RandomElasticTransform(factor=(1.0, 1.0), seed=3)(x).numpy(), out)
    v = cr.Variable(x.astype("float64"))
    with cr.GradientTape() as tape:
        total = cr.reduce_sum(keras.layers.RandomElasticTransform(seed=3, dtype="float64")(v))
    assert np.isfinite(tape.gradient(total, v).numpy()).all()
    with pytest.raises(NotImplementedError, match="fill_mode"):
        keras.layers.RandomElasticTransform(fill_mode="mirror")
