"""Keras 2's ImageDataGenerator (keras.preprocessing.image), as TensorFlow's tf.data guide uses it:
flow_from_directory's classes and batches, rescale, and the random affine transform."""

import numpy as np
import PIL.Image
import pytest

from chainrule import keras

ImageDataGenerator = keras.preprocessing.image.ImageDataGenerator


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    for k, name in enumerate(["cats", "dogs", "owls"]):
        (tmp_path / name).mkdir()
        for i in range(3 + k):
            image = np.full((20, 30, 3), 60 * k, np.uint8) + rng.integers(0, 5, (20, 30, 3), dtype=np.uint8)
            PIL.Image.fromarray(image).save(tmp_path / name / f"{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    return tmp_path


def test_flow_from_directory(photos, capsys):
    batches = ImageDataGenerator(rescale=1 / 255).flow_from_directory(photos, target_size=(16, 24), batch_size=4,
                                                                      shuffle=False)
    assert "Found 12 images belonging to 3 classes." in capsys.readouterr().out
    assert batches.class_indices == {"cats": 0, "dogs": 1, "owls": 2} and batches.samples == 12
    assert len(batches) == 3
    x, y = next(batches)
    assert x.shape == (4, 16, 24, 3) and x.dtype == np.float32 and y.shape == (4, 3)
    assert x.max() <= 1.0
    np.testing.assert_array_equal(y.argmax(1), [0, 0, 0, 1])
    np.testing.assert_allclose(x[3].mean(), 62 / 255, atol=0.01)  # a dog: value 60..64, rescaled
    sizes = [len(next(batches)[0]) for _ in range(3)]
    assert sizes == [4, 4, 4]  # the second and third of the pass, then the first of the next pass


def test_sparse_and_binary_labels(photos):
    generator = ImageDataGenerator()
    _, y = next(generator.flow_from_directory(photos, target_size=(8, 8), class_mode="sparse", shuffle=False,
                                              batch_size=12))
    assert y.tolist() == [0.0] * 3 + [1.0] * 4 + [2.0] * 5
    only_x = next(generator.flow_from_directory(photos, target_size=(8, 8), class_mode=None, batch_size=2))
    assert only_x.shape == (2, 8, 8, 3)


def test_flip_and_rotation():
    image = np.zeros((5, 5, 1), np.float32)
    image[0, 0] = 1.0
    generator = ImageDataGenerator()
    flipped = generator.apply_transform(image, {"flip_horizontal": True})
    assert flipped[0, 4, 0] == 1.0 and flipped[0, 0, 0] == 0.0
    rotated = generator.apply_transform(image, {"theta": 90.0})
    # output (row, col) reads input R (row, col) about the centre: the corner moves to another corner
    assert rotated.sum() == pytest.approx(1.0) and rotated[0, 0, 0] == 0.0
    corners = {(0, 4): rotated[0, 4, 0], (4, 0): rotated[4, 0, 0]}
    assert max(corners.values()) == pytest.approx(1.0)


def test_random_transform_keeps_shape_and_bad_arguments():
    generator = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, zoom_range=0.2, fill_mode="nearest")
    out = generator.random_transform(np.random.default_rng(0).random((12, 10, 3)).astype(np.float32), seed=1)
    assert out.shape == (12, 10, 3)
    with pytest.raises(ValueError, match="fill_mode"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="rank 4"):
        ImageDataGenerator().flow(np.zeros((3, 4, 4)))
    with pytest.raises(NotImplementedError, match="featurewise"):
        ImageDataGenerator(featurewise_center=True)
