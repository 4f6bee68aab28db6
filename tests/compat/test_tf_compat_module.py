"""``tf.compat``'s text helpers, as TensorFlow's (keras-io's "Image classification from scratch" tests image
headers with ``tf.compat.as_bytes("JFIF") in f.peek(10)``)."""

import pathlib

import numpy as np
import pytest

import chainrule as tf


def test_as_bytes_and_as_text_convert_both_ways():
    assert tf.compat.as_bytes("JFIF") == b"JFIF"
    assert tf.compat.as_bytes(b"\x00ab") == b"\x00ab"
    assert tf.compat.as_bytes(bytearray(b"xy")) == b"xy" and type(tf.compat.as_bytes(bytearray(b"xy"))) is bytes
    assert tf.compat.as_bytes("é", encoding="latin-1") == b"\xe9"
    assert tf.compat.as_text(b"caf\xc3\xa9") == "café" and tf.compat.as_str("plain") == "plain"
    assert tf.compat.as_str_any(b"a") == "a" and tf.compat.as_str_any(1.5) == "1.5"


@pytest.mark.parametrize("function", ["as_bytes", "as_text", "as_str"])
def test_other_values_are_refused_with_tensorflows_message(function):
    with pytest.raises(TypeError, match=r"Expected binary or unicode string, got 3"):
        getattr(tf.compat, function)(3)


def test_paths_dimensions_and_type_tuples():
    assert tf.compat.path_to_str(pathlib.Path("a") / "b") == str(pathlib.Path("a/b"))
    assert tf.compat.path_to_str(7) == 7
    assert tf.compat.dimension_value(tf.TensorShape([None, 4])[1]) == 4
    assert tf.compat.dimension_value(None) is None
    assert isinstance(np.int64(2), tf.compat.integral_types) and isinstance("s", tf.compat.bytes_or_text_types)
    assert isinstance(np.float32(1), tf.compat.real_types) and isinstance(1j, tf.compat.complex_types)


def test_the_jfif_filter_of_the_cats_vs_dogs_example(tmp_path):
    from chainrule import keras

    keras.utils.save_img(str(tmp_path / "cat.jpg"), np.zeros((8, 8, 3), "uint8"))
    keras.utils.save_img(str(tmp_path / "dog.jpg"), np.zeros((8, 8, 3), "uint8"), file_format="png")
    found = {}
    for name in ("cat.jpg", "dog.jpg"):
        with open(tmp_path / name, "rb") as fobj:
            found[name] = tf.compat.as_bytes("JFIF") in fobj.peek(10)
    assert found == {"cat.jpg": True, "dog.jpg": False}
