"""Masks through models: the mask a layer makes (compute_mask) reaches the next layers' ``mask=`` argument in
Sequential, functional and subclassed models, on real tensors (``_keras_mask``) and symbolically (KerasTensors carry
their mask), through layers that pass it on and into nested models."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import layers
from chainrule.keras.graph import KerasTensor


class MaskZeroSteps(layers.Layer):
    """Passes its input through and masks the time steps whose features are all zero."""

    def call(self, inputs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return cr.reduce_any(cr.not_equal(inputs, 0), axis=-1)


class MaskedMean(layers.Layer):
    """The mean over time of the unmasked steps (all steps without a mask); records the mask it was given. It
    supports masking and ends the mask, as Keras's GlobalAveragePooling1D."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, mask=None):
        self.seen.append(None if mask is None else np.asarray(mask.numpy() if hasattr(mask, "numpy") else mask))
        if mask is None:
            return cr.reduce_mean(inputs, axis=1)
        weights = cr.expand_dims(cr.cast(mask, inputs.dtype), -1)
        return cr.reduce_sum(inputs * weights, axis=1) / cr.maximum(cr.reduce_sum(weights, axis=1), 1.0)

    def compute_mask(self, inputs, mask=None):
        return None


def _batch():
    """Two sequences of 4 steps with 3 features; the second has two padding steps at the end."""
    x = np.arange(1, 25, dtype="float32").reshape(2, 4, 3)
    x[1, 2:] = 0.0
    return x


def _expected(x):
    keep = (x != 0).any(-1)
    return np.stack([x[i][keep[i]].mean(0) for i in range(len(x))])


def _check(model, mean, x=None):
    x = _batch() if x is None else x
    np.testing.assert_allclose(model(x).numpy(), _expected(x), rtol=1e-6)
    np.testing.assert_array_equal(mean.seen[-1], (x != 0).any(-1))


def test_sequential_hands_the_mask_to_the_next_layer():
    mean = MaskedMean()
    model = keras.Sequential([keras.Input((None, 3)), MaskZeroSteps(), mean])
    _check(model, mean)


def test_sequential_built_from_its_first_data_hands_the_mask_on():
    mean = MaskedMean()
    model = keras.Sequential([MaskZeroSteps(), mean])
    _check(model, mean)


def test_functional_model_hands_the_mask_on_through_layers_that_pass_it():
    inputs = keras.Input((None, 3))
    masked = MaskZeroSteps()(inputs)
    hidden = layers.Activation("linear")(masked)  # an elementwise layer keeps the mask
    mean = MaskedMean()
    model = keras.Model(inputs, mean(hidden))
    _check(model, mean)


def test_symbolic_tensors_carry_the_mask_with_unknown_sizes_kept():
    inputs = keras.Input((None, 3))
    assert inputs._keras_mask is None
    masked = MaskZeroSteps()(inputs)
    assert isinstance(masked._keras_mask, KerasTensor)
    assert masked._keras_mask.shape == (None, None) and masked._keras_mask.dtype == np.bool_
    passed = layers.Activation("relu")(masked)
    assert passed._keras_mask is not None and passed._keras_mask.shape == (None, None)
    assert MaskedMean()(passed)._keras_mask is None  # its compute_mask ends the mask


def test_the_consumer_gets_the_mask_during_the_symbolic_call_too():
    inputs = keras.Input((4, 3))
    mean = MaskedMean()
    mean(MaskZeroSteps()(inputs))
    assert mean.seen and mean.seen[-1] is not None and mean.seen[-1].shape[1:] == (4,)


def test_a_subclassed_model_hands_masks_between_its_layers():
    class Pooler(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.masker, self.mean = MaskZeroSteps(), MaskedMean()

        def call(self, inputs):
            return self.mean(self.masker(inputs))

    model = Pooler()
    _check(model, model.mean)


def test_a_mask_given_to_the_model_reaches_its_first_layers():
    inputs = keras.Input((None, 3))
    mean = MaskedMean()
    functional = keras.Model(inputs, mean(inputs))
    x = _batch()
    mask = np.array([[True, True, False, False], [True, False, False, False]])
    expected = np.stack([x[0, :2].mean(0), x[1, :1].mean(0)])
    np.testing.assert_allclose(functional(x, mask=mask).numpy(), expected, rtol=1e-6)
    seq_mean = MaskedMean()
    sequential = keras.Sequential([keras.Input((None, 3)), seq_mean])
    np.testing.assert_allclose(sequential(x, mask=mask).numpy(), expected, rtol=1e-6)


def test_a_nested_sequential_gets_the_outer_mask():
    mean = MaskedMean()
    inner = keras.Sequential([keras.Input((None, 3)), layers.Activation("linear"), mean])
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, inner(MaskZeroSteps()(inputs)))
    _check(model, mean)


def test_without_a_mask_the_consumer_gets_none():
    mean = MaskedMean()
    model = keras.Sequential([keras.Input((4, 3)), layers.Activation("linear"), mean])
    x = _batch()
    np.testing.assert_allclose(model(x).numpy(), x.mean(1), rtol=1e-6)
    assert mean.seen[-1] is None


def test_a_masked_model_trains():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((None, 3)), MaskZeroSteps(), MaskedMean(), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x = np.concatenate([_batch()] * 8)
    y = _expected(x).sum(-1, keepdims=True) / 10
    history = model.fit(x, y, epochs=5, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_conv_pool_pair_after_a_mask_still_runs_layer_by_layer_and_drops_it(kind):
    class MaskImages(layers.Layer):
        def call(self, inputs):
            return inputs

        def compute_mask(self, inputs, mask=None):
            return cr.not_equal(inputs[..., 0], 0)

    stack = [MaskImages(), layers.Conv2D(2, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten()]
    if kind == "sequential":
        model = keras.Sequential([keras.Input((8, 8, 1))] + stack)
    else:
        x = inputs = keras.Input((8, 8, 1))
        for layer in stack:
            x = layer(x)
        model = keras.Model(inputs, x)
    images = np.ones((2, 8, 8, 1), "float32")
    with pytest.warns(UserWarning, match="does not support masking"):
        out = model(images)
    assert out.shape == (2, 18)
