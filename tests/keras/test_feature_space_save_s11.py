"""FeatureSpace.save and keras.models.load_model of its file (Keras 3's): the loaded FeatureSpace is adapted, with
the saved vocabularies, means, variances and bin boundaries, and encodes as the saved one did."""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras.utils import FeatureSpace

DATA = {
    "color": np.array(["red", "blue", "red", "green", "blue", "red"]),
    "size": np.array([1.0, 2.0, 3.0, 4.0, 8.0, 9.0], "float32"),
    "age": np.array([20.0, 35.0, 50.0, 65.0, 30.0, 41.0], "float32"),
    "code": np.array([3, 1, 3, 2, 1, 7], "int32"),
}


def _adapted_space(output_mode="concat"):
    space = FeatureSpace(
        features={"color": FeatureSpace.string_categorical(num_oov_indices=0),
                  "size": FeatureSpace.float_normalized(),
                  "age": FeatureSpace.float_discretized(num_bins=3),
                  "code": FeatureSpace.integer_categorical()},
        crosses=[FeatureSpace.cross(("color", "code"), crossing_dim=4)],
        output_mode=output_mode)
    space.adapt(DATA, verbose=0)
    return space


@pytest.mark.parametrize("output_mode", ["concat", "dict"])
def test_saved_feature_space_loads_adapted_and_encodes_the_same(tmp_path, output_mode):
    space = _adapted_space(output_mode)
    path = tmp_path / "space.keras"
    space.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is FeatureSpace
    assert loaded is not space
    batch = {key: value[:4] for key, value in DATA.items()}
    expected, got = space(batch), loaded(batch)
    if output_mode == "dict":
        assert sorted(got) == sorted(expected)
        for key in expected:
            np.testing.assert_allclose(got[key].numpy(), expected[key].numpy(), rtol=1e-6)
    else:
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
    # the normalization's mean and variance came from the file, not from a new adapt
    np.testing.assert_allclose(loaded.preprocessors["size"].mean.numpy(), space.preprocessors["size"].mean.numpy())


def test_loaded_feature_space_builds_an_end_to_end_model(tmp_path):
    space = _adapted_space()
    space.save(tmp_path / "space.keras")
    loaded = keras.saving.load_model(tmp_path / "space.keras")
    inputs, encoded = loaded.get_inputs(), loaded.get_encoded_features()
    outputs = keras.layers.Dense(1, kernel_initializer="ones")(encoded)
    model = keras.Model(inputs, outputs)
    sample = {key: value[:1] for key, value in DATA.items()}
    np.testing.assert_allclose(model.predict(sample, verbose=0)[0, 0], space(sample).numpy().sum(), rtol=1e-5)


def test_build_config_naming_an_unknown_feature_is_refused():
    space = _adapted_space()
    config = space.get_build_config()
    fresh = FeatureSpace.from_config(space.get_config())
    with pytest.raises(ValueError, match="names the feature 'weight'"):
        fresh.build_from_config({**config, "weight": None})
