"""tf.saved_model.save/load: chainrule's export folder, and what it refuses."""
import numpy as np
import pytest

import chainrule as tf


def small_model():
    inputs = tf.keras.Input((4,), name="x")
    hidden = tf.keras.layers.Dense(3, activation="relu", name="hidden")(inputs)
    return tf.keras.Model(inputs, [tf.keras.layers.Dense(2, name="a")(hidden),
                                   tf.keras.layers.Dense(1, name="b")(hidden)])


def test_round_trip_of_a_two_output_model(tmp_path):
    model = small_model()
    tf.saved_model.save(model, tmp_path / "export")
    assert tf.saved_model.contains_saved_model(tmp_path / "export")
    loaded = tf.saved_model.load(str(tmp_path / "export"))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    served = loaded.signatures["serving_default"](x)
    assert sorted(served) == ["a", "b"]
    for got, want in zip((served["a"], served["b"]), model(x)):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert len(loaded.variables) == 6 and len(loaded.trainable_variables) == 6


def test_a_plain_module_is_refused_with_the_reason(tmp_path):
    class Scale(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(2.0)

        def __call__(self, x):
            return x * self.w

    with pytest.raises(TypeError, match="exports Keras models only, got Scale"):
        tf.saved_model.save(Scale(), tmp_path / "m")


def test_loading_what_is_not_a_chainrule_export(tmp_path):
    with pytest.raises(OSError, match="SavedModel file does not exist"):
        tf.saved_model.load(tmp_path / "missing")
    (tmp_path / "tfmodel").mkdir()
    (tmp_path / "tfmodel" / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(OSError, match="TensorFlow SavedModel .* cannot run"):
        tf.saved_model.load(tmp_path / "tfmodel")
    model = small_model()
    tf.saved_model.save(model, tmp_path / "bad")
    (tmp_path / "bad" / "saved_model.json").write_text('{"format": "other"}')
    with pytest.raises(OSError, match="does not describe a chainrule export"):
        tf.saved_model.load(tmp_path / "bad")
