"""keras.utils.FeatureSpace (Keras 3): feature types, crosses, concat and dict outputs, adapt on datasets and dicts,
the symbolic inputs/encoded features, one-sample calls and Keras's errors."""

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras.utils import FeatureSpace

DATA = {
    "color": np.array(["red", "blue", "red", "green"]),
    "count": np.array([1, 2, 2, 3], "int64"),
    "size": np.array([1.0, 2.0, 3.0, 4.0], "float32"),
}


def test_concat_output_matches_the_encodings_in_sorted_order():
    space = FeatureSpace({"color": "string_categorical", "count": "integer_categorical", "size": "float_normalized"})
    space.adapt(DATA, verbose=0)
    out = space({"color": np.array(["blue", "purple"]), "count": np.array([3, 2]),
                 "size": np.array([2.5, 4.0], "float32")}).numpy()
    colors = space.preprocessors["color"].get_vocabulary()  # [OOV, red, ...] by frequency
    counts = space.preprocessors["count"].get_vocabulary()  # [OOV, 2, ...]
    assert colors[:2] == ["[UNK]", "red"] and counts[:2] == [-1, 2] and len(colors) == len(counts) == 4
    expected = np.zeros((2, 9))
    expected[0, colors.index("blue")] = expected[1, 0] = 1  # purple: out of vocabulary
    expected[0, 4 + counts.index(3)] = expected[1, 4 + counts.index(2)] = 1
    expected[:, 8] = (np.array([2.5, 4.0]) - DATA["size"].mean()) / np.std(DATA["size"])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_dict_output_crosses_hashing_and_discretization():
    space = FeatureSpace({"color": FeatureSpace.string_hashed(num_bins=8), "count": "integer_categorical",
                          "size": FeatureSpace.float_discretized(num_bins=2)},
                         crosses=[("color", "count")], crossing_dim=4, output_mode="dict")
    space.adapt(tf.data.Dataset.from_tensor_slices(DATA).batch(2), verbose=0)
    out = space({"color": np.array(["red"]), "count": np.array([2]), "size": np.array([3.5], "float32")})
    assert sorted(out) == ["color", "color_X_count", "count", "size"]
    assert out["color"].shape == (1, 8) and out["color_X_count"].shape == (1, 4) and out["size"].shape == (1, 2)
    np.testing.assert_array_equal(out["size"].numpy(), [[0, 1]])
    assert out["color_X_count"].numpy().sum() == 1


def test_one_sample_of_scalars_has_no_batch_axis_and_models_take_the_symbolic_graph():
    space = FeatureSpace({"color": "string_categorical", "size": "float"})
    space.adapt({"color": DATA["color"], "size": DATA["size"]}, verbose=0)
    vector = space({"color": "green", "size": 7.0})
    expected = np.zeros(5)
    expected[space.preprocessors["color"].get_vocabulary().index("green")], expected[4] = 1, 7
    np.testing.assert_array_equal(vector.numpy(), expected)
    inputs, encoded = space.get_inputs(), space.get_encoded_features()
    assert encoded.shape == (None, 5) and sorted(inputs) == ["color", "size"]
    model = keras.Model(inputs, keras.layers.Dense(1)(encoded))
    x = {"color": np.array([["red"], ["blue"]]), "size": np.array([[1.0], [2.0]], "float32")}
    assert model.predict(x, verbose=0).shape == (2, 1)


def test_errors():
    with pytest.raises(ValueError, match="Invalid feature type"):
        FeatureSpace({"a": "text"})
    with pytest.raises(ValueError, match="unknown features"):
        FeatureSpace({"a": "float"}, crosses=[("a", "b")])
    with pytest.raises(ValueError, match="output_mode"):
        FeatureSpace({"a": "float"}, output_mode="list")
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FeatureSpace({})
    space = FeatureSpace({"color": "string_categorical"})
    with pytest.raises(ValueError, match="adapt"):
        space({"color": np.array(["red"])})
    space.adapt({"color": DATA["color"]}, verbose=0)
    with pytest.raises(ValueError, match="only be called with a dict"):
        space(np.array(["red"]))
    raw = FeatureSpace({"color": FeatureSpace.string_categorical(output_mode="int")})
    with pytest.raises(ValueError, match="Cannot concatenate features because feature 'color'"):
        raw.adapt({"color": DATA["color"]}, verbose=0)


def test_config_round_trip():
    space = FeatureSpace({"size": FeatureSpace.float_rescaled(scale=2.0), "count": "integer_hashed",
                          "color": "string_hashed"},
                         crosses=[FeatureSpace.cross(("color", "count"), crossing_dim=8)], hashing_dim=16)
    clone = FeatureSpace.from_config(space.get_config())
    assert clone.hashing_dim == 16 and clone.crosses[0].crossing_dim == 8
    assert isinstance(clone.features["size"].preprocessor, keras.layers.Rescaling)
    assert clone.features["size"].preprocessor.scale == 2.0
    out = clone({"size": np.array([1.5], "float32"), "count": np.array([4]), "color": np.array(["red"])})
    assert out.shape == (1, 16 + 16 + 1 + 8)
    np.testing.assert_allclose(out.numpy()[0, 32], 3.0)  # size: features sorted by name, then the cross
