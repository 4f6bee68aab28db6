"""A functional model keeps the nesting of the outputs it was given, in ``__call__`` and in ``predict`` (as Keras
3 does: keras-io's involution example builds ``Model(x, [layer.output for ...])`` over layers that return two
tensors each, and unpacks ``predict``'s result per layer)."""

import numpy as np
import pytest

from chainrule import keras


class TwoOutputs(keras.layers.Layer):
    def call(self, x):
        return x * 2.0, x + 1.0


def _model():
    inputs = keras.Input((3,))
    first = TwoOutputs(name="first")(inputs)
    second = TwoOutputs(name="second")(first[0])
    return keras.Model(inputs, [first, [second[1], keras.layers.Dense(2)(second[0])]])


def test_call_returns_the_outputs_nested_as_given():
    model = _model()
    x = np.arange(6, dtype="float32").reshape(2, 3)
    (a, b), (c, d) = model(x)
    np.testing.assert_allclose(np.asarray(a), x * 2)
    np.testing.assert_allclose(np.asarray(b), x + 1)
    np.testing.assert_allclose(np.asarray(c), x * 2 + 1)
    assert tuple(d.shape) == (2, 2)
    assert isinstance(model.output, list) and isinstance(model.output[1], list)
    assert len(model.outputs) == 4  # flat, as Keras's model.outputs


@pytest.mark.parametrize("batch_size", [4, 32])
def test_predict_joins_the_batches_of_each_nested_output(batch_size):
    model = _model()
    x = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    out = model.predict(x, batch_size=batch_size, verbose=0)
    assert isinstance(out, list) and len(out) == 2 and len(out[0]) == 2 and isinstance(out[1], list)
    (a, b), (c, d) = out
    np.testing.assert_allclose(a, x * 2, rtol=1e-6)
    np.testing.assert_allclose(b, x + 1, rtol=1e-6)
    np.testing.assert_allclose(c, x * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(d, np.asarray(model(x)[1][1]), rtol=1e-5, atol=1e-6)


def test_layer_outputs_of_a_multi_output_layer_build_a_model():
    model = _model()
    probe = keras.Model(model.input, [model.get_layer(name).output for name in ("first", "second")])
    (a, b), (c, d) = probe.predict(np.ones((5, 3), "float32"), batch_size=2, verbose=0)
    assert a.shape == b.shape == c.shape == d.shape == (5, 3)
    np.testing.assert_allclose(d, np.full((5, 3), 3.0))


def test_a_subclassed_model_returning_a_tuple_is_predicted_per_output():
    class Pair(keras.Model):
        def call(self, x):
            return x * 3.0, {"sum": keras.ops.sum(x, axis=-1)}

    x = np.random.default_rng(1).normal(size=(7, 2)).astype("float32")
    triple, named = Pair().predict(x, batch_size=3, verbose=0)
    np.testing.assert_allclose(triple, x * 3, rtol=1e-6)
    np.testing.assert_allclose(named["sum"], x.sum(-1), rtol=1e-5)
