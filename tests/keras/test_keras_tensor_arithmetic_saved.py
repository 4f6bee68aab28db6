"""Arithmetic on symbolic tensors (``x * 2.0 + y``) becomes keras.ops layers, as Keras 3's KerasTensor operators
call ops, so a functional model that uses it saves and loads (a Lambda around a Python closure could not)."""

import numpy as np
import pytest

from chainrule import keras


def _model():
    x, y = keras.Input((3,)), keras.Input((3,))
    h = -((x * 2.0 + y) / 4.0 - 1.0)
    return keras.Model([x, y], 3.0 - h)


def test_the_model_computes_and_round_trips(tmp_path):
    model = _model()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=(2, 3)).astype("float32")
    expected = 3.0 + ((x * 2.0 + y) / 4.0 - 1.0)
    np.testing.assert_allclose(np.asarray(model([x, y])), expected, rtol=1e-6)
    path = str(tmp_path / "arith.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded([x, y])), expected, rtol=1e-6)


def test_layer_names_and_symbols():
    model = _model()
    names = [layer.name for layer in model.layers if type(layer).__name__ == "OpLayer"]
    assert [name.rstrip("_0123456789") for name in names] == ["mul", "add", "div", "sub", "mul", "sub"]
    assert {layer.symbol for layer in model.layers if hasattr(layer, "symbol")} == {
        "keras.ops.add", "keras.ops.subtract", "keras.ops.multiply", "keras.ops.divide"}


def test_integer_division_is_true_division_in_floatx():
    x = keras.Input((2,), dtype="int32")
    out = keras.Model(x, x / 2)(np.array([[1, 3]], "int32"))
    assert str(out.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(out), [[0.5, 1.5]])
    assert keras.Model(x, x * 2)(np.array([[1, 3]], "int32")).dtype == np.int32


def test_an_array_operand_is_refused_when_saving():
    x = keras.Input((2,))
    model = keras.Model(x, x + np.array([1.0, 2.0], "float32"))
    with pytest.raises(NotImplementedError, match="keras.ops.add inside a functional model"):
        model.get_config()
