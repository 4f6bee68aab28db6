"""keras.layers.Normalization (chainrule/keras/layers/normalization.py): Keras's documented examples, adapt() on
arrays, Tensors, Datasets, (x, y) batches, generators and lists of uneven batches (equal to NumPy's mean and
variance over all of it), axes, given statistics, invert, in a trained, saved and reloaded model, and Keras's
errors."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras

RNG = np.random.default_rng(0)
DATA = (RNG.standard_normal((50, 3)) * [1.0, 10.0, 0.1] + [5.0, -3.0, 0.0]).astype("float32")


def test_keras_documented_examples():
    layer = keras.layers.Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], "float32"))
    np.testing.assert_allclose(layer(np.array([1.0, 2.0, 3.0], "float32")).numpy(), [-1.4142135, -0.70710677, 0.0],
                               rtol=1e-6)
    layer = keras.layers.Normalization(axis=-1)
    layer.adapt(np.array([[0.0, 7.0, 4.0], [2.0, 9.0, 6.0], [0.0, 7.0, 4.0], [2.0, 9.0, 6.0]], "float32"))
    np.testing.assert_allclose(layer(np.array([[0.0, 7.0, 4.0]], "float32")).numpy(), [[-1.0, -1.0, -1.0]])
    layer = keras.layers.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(layer(np.array([[1.0], [2.0], [3.0]], "float32")).numpy(),
                               [[-1.4142135], [-0.70710677], [0.0]], rtol=1e-6)
    layer = keras.layers.Normalization(axis=-1, invert=True)
    layer.adapt(np.array([[1.0], [2.0], [3.0], [4.0], [5.0]], "float32"))
    np.testing.assert_allclose(layer(np.array([[1.0], [2.0], [3.0]], "float32")).numpy(),
                               3.0 + np.array([[1.0], [2.0], [3.0]]) * np.sqrt(2.0), rtol=1e-6)


def _expect_statistics(layer, data, axis=(0,)):
    np.testing.assert_allclose(layer.adapt_mean.numpy(), data.astype(np.float64).mean(axis=axis), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), data.astype(np.float64).var(axis=axis), rtol=1e-5)


@pytest.mark.parametrize("kind", ["array", "tensor", "dataset", "dataset_xy", "generator", "uneven_list",
                                  "unbatched_dataset"])
def test_adapt_on_every_kind_of_data_gives_numpys_statistics(kind):
    data = {
        "array": lambda: DATA,
        "tensor": lambda: tf.constant(DATA),
        "dataset": lambda: tf.data.Dataset.from_tensor_slices(DATA).batch(7),
        "dataset_xy": lambda: tf.data.Dataset.from_tensor_slices((DATA, np.zeros(50))).batch(16),
        "generator": lambda: (DATA[i:i + 10] for i in range(0, 50, 10)),
        "uneven_list": lambda: [DATA[:3], DATA[3:40], DATA[40:]],
        "unbatched_dataset": lambda: tf.data.Dataset.from_tensor_slices(DATA),
    }[kind]()
    if kind == "unbatched_dataset" and not hasattr(data, "element_spec"):
        pytest.skip("this Dataset has no element_spec to tell single vectors from batches")
    layer = keras.layers.Normalization()
    layer.adapt(data)
    _expect_statistics(layer, DATA)
    out = layer(DATA).numpy()
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1.0, rtol=1e-4)


def test_axes_kept_and_reduced():
    images = RNG.uniform(0, 255, (6, 4, 5, 3)).astype("float32")
    per_channel = keras.layers.Normalization(axis=-1)
    per_channel.adapt(images)
    _expect_statistics(per_channel, images, axis=(0, 1, 2))
    assert per_channel.mean.shape == (1, 1, 1, 3) and per_channel.adapt_mean.shape == (3,)
    per_pixel = keras.layers.Normalization(axis=(1, 2))
    per_pixel.adapt(images)
    _expect_statistics(per_pixel, images, axis=(0, 3))
    assert per_pixel(images).shape == images.shape
    with pytest.raises(ValueError, match=r"All `axis` values must be in the range \[-ndim, ndim\)"):
        keras.layers.Normalization(axis=4).adapt(images)


def test_given_statistics_broadcast_along_the_kept_axes():
    layer = keras.layers.Normalization(axis=-1, mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0])
    x = np.array([[2.0, 4.0, 6.0]], "float32")
    np.testing.assert_allclose(layer(x).numpy(), [[1.0, 1.0, 1.0]])
    assert layer.weights == [] and layer.mean.shape == (1, 3)
    round_trip = keras.layers.Normalization.from_config(layer.get_config())
    np.testing.assert_allclose(round_trip(x).numpy(), [[1.0, 1.0, 1.0]])
    constant = keras.layers.Normalization(mean=2.0, variance=0.0)  # sqrt(0) replaced by epsilon: no infinities
    assert np.isfinite(constant(np.array([[2.0, 2.0]], "float32")).numpy()).all()
    ints = keras.layers.Normalization(mean=1.0, variance=1.0)(np.array([[3]], "int64"))
    assert ints.dtype == np.float32 and ints.numpy()[0, 0] == 2.0


def test_gradients_flow_through_to_the_inputs():
    layer = keras.layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 16.0])
    x = tf.Variable([[0.0, 0.0]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(layer(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [[0.5, 0.25]])


def test_in_a_model_trained_saved_and_reloaded(tmp_path):
    norm = keras.layers.Normalization()
    norm.adapt(DATA)
    model = keras.Sequential([keras.Input((3,)), norm, keras.layers.Dense(1)])
    y = DATA @ np.array([[0.5], [0.05], [5.0]], "float32")
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(DATA, y, epochs=20, batch_size=10, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    _expect_statistics(norm, DATA)  # adapted statistics are not trained
    assert [w.name for w in norm.non_trainable_weights][:2] == [f"{norm.name}/mean", f"{norm.name}/variance"]
    path = tmp_path / "normalized.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_array_equal(restored.predict(DATA, verbose=0), model.predict(DATA, verbose=0))
    np.testing.assert_array_equal(restored.layers[0].adapt_variance.numpy(), norm.adapt_variance.numpy())


def test_adapt_again_replaces_the_statistics_and_masks_pass_through():
    layer = keras.layers.Normalization()
    layer.adapt(DATA)
    layer.adapt(DATA * 2.0)
    _expect_statistics(layer, DATA * 2.0)
    assert layer.supports_masking


def test_keras_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        keras.layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="`mean` and `variance` must have the same shape"):
        keras.layers.Normalization(mean=[1.0, 2.0], variance=1.0)
    with pytest.raises(ValueError, match="The rank of `mean` must be less than or equal to the number of axes"):
        keras.layers.Normalization(mean=np.ones((2, 2)), variance=np.ones((2, 2)))
    layer = keras.layers.Normalization()
    layer.adapt(DATA)
    with pytest.raises(ValueError, match="incompatible shape, data.shape=\\(4, 5\\)"):
        layer.adapt(np.ones((4, 5), "float32"))
    with pytest.raises(ValueError, match="adapt\\(\\) yielded a batch with incompatible shape"):
        keras.layers.Normalization().adapt([DATA, np.ones((2, 4), "float32")])
    with pytest.raises(ValueError, match="adapt\\(\\) received an empty iterable"):
        keras.layers.Normalization().adapt([])
    with pytest.raises(TypeError, match="Unsupported data type"):
        keras.layers.Normalization().adapt(3.0)
    with pytest.raises(ValueError, match="were given to the constructor"):
        keras.layers.Normalization(mean=1.0, variance=1.0).adapt(DATA)
    with pytest.raises(ValueError, match="All `axis` values to be kept must have a known shape"):
        keras.layers.Normalization(axis=1).build((None, None))
