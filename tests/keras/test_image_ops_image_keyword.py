"""keras.ops.image functions take their images as ``image=`` too, the name Keras 3.0 to 3.3 gave that argument
(keras-io's Perceiver calls ``ops.image.extract_patches(image=images, ...)``)."""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import ops


@pytest.mark.parametrize("name, kwargs", [
    ("extract_patches", {"size": (2, 2), "strides": (2, 2), "dilation_rate": 1, "padding": "valid"}),
    ("resize", {"size": (3, 5)}),
    ("rgb_to_grayscale", {}),
    ("affine_transform", {"transform": np.array([1, 0, 0, 0, 1, 0, 0, 0], "float32")}),
])
def test_image_keyword_gives_the_same_result(name, kwargs):
    images = np.random.default_rng(0).uniform(size=(2, 6, 8, 3)).astype("float32")
    fn = getattr(ops.image, name)
    np.testing.assert_array_equal(np.asarray(fn(image=images, **kwargs)), np.asarray(fn(images, **kwargs)))


def test_image_keyword_on_a_symbolic_input():
    inputs = keras.Input((8, 8, 3))
    assert tuple(ops.image.extract_patches(image=inputs, size=2).shape) == (None, 4, 4, 12)


def test_images_given_twice_are_refused():
    images = np.zeros((1, 4, 4, 3), "float32")
    with pytest.raises(TypeError, match="got its images twice"):
        ops.image.extract_patches(images, image=images, size=2)
    with pytest.raises(TypeError, match="got its images twice"):
        ops.image.resize(images=images, image=images, size=(2, 2))
