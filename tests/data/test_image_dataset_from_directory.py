"""keras.utils.image_dataset_from_directory on folders of small images the tests write."""
import numpy as np
import pytest
from PIL import Image

from chainrule import keras

RNG = np.random.default_rng(0)


@pytest.fixture
def folder(tmp_path):
    """3 classes: 'a' has 4 PNGs, 'b' 3 JPEGs, 'c' 2 BMP/GIF; plus a text file that must be ignored."""
    for name, count, ext in (("a", 4, "png"), ("b", 3, "jpg"), ("c", 2, "bmp")):
        (tmp_path / name).mkdir()
        for i in range(count):
            pixels = RNG.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.{ext if i < 1 or ext != 'bmp' else 'gif'}")
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    return tmp_path


def collect(ds):
    images, labels = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(images), np.concatenate(labels)


def test_labels_classes_and_shapes(folder, capsys):
    ds = keras.utils.image_dataset_from_directory(folder, image_size=(6, 8), batch_size=4, seed=1)
    assert "Found 9 files belonging to 3 classes." in capsys.readouterr().out
    assert ds.class_names == ["a", "b", "c"] and len(ds.file_paths) == 9
    images, labels = collect(ds)
    assert images.shape == (9, 6, 8, 3) and images.dtype == np.float32 and labels.dtype == np.int32
    assert sorted(labels.tolist()) == [0, 0, 0, 0, 1, 1, 1, 2, 2]
    assert 0 <= images.min() and images.max() <= 255


def test_a_png_at_its_own_size_comes_back_exactly(tmp_path):
    (tmp_path / "only").mkdir()
    pixels = RNG.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "only" / "x.png")
    ds = keras.utils.image_dataset_from_directory(tmp_path, image_size=(5, 7), batch_size=None, verbose=False)
    image, label = next(iter(ds))
    np.testing.assert_array_equal(image.numpy(), pixels.astype("float32"))
    gray = next(iter(keras.utils.image_dataset_from_directory(tmp_path, image_size=(5, 7), color_mode="grayscale",
                                                               labels=None, verbose=False)))
    assert gray.shape == (1, 5, 7, 1)
    resized = next(iter(keras.utils.image_dataset_from_directory(tmp_path, image_size=(10, 14), verbose=False)))[0]
    expected = keras.ops.image.resize(pixels.astype("float32"), (10, 14)).numpy()
    np.testing.assert_allclose(resized.numpy()[0], expected, rtol=1e-6)


def test_split_modes_and_determinism(folder):
    train, val = keras.utils.image_dataset_from_directory(folder, image_size=(4, 4), validation_split=0.34,
                                                          subset="both", seed=7, label_mode="categorical",
                                                          verbose=False)
    assert len(train.file_paths) == 6 and len(val.file_paths) == 3
    assert not set(train.file_paths) & set(val.file_paths)
    x, y = collect(val)
    assert y.shape == (3, 3) and y.dtype == np.float32 and (y.sum(axis=1) == 1).all()
    again = keras.utils.image_dataset_from_directory(folder, image_size=(4, 4), validation_split=0.34,
                                                     subset="validation", seed=7, verbose=False)
    assert sorted(again.file_paths) == sorted(val.file_paths)


def test_bad_arguments_are_named(folder, tmp_path):
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.image_dataset_from_directory(folder, color_mode="cmyk")
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        keras.utils.image_dataset_from_directory(folder, label_mode="binary", verbose=False)
    with pytest.raises(ValueError, match="image_size"):
        keras.utils.image_dataset_from_directory(folder, image_size=(0, 4))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No image files found"):
        keras.utils.image_dataset_from_directory(tmp_path / "empty", verbose=False)
    with pytest.raises(ValueError, match="validation_split"):
        keras.utils.image_dataset_from_directory(folder, validation_split=0.2, subset="training")
