"""Tensor.numpy() and Dataset.as_numpy_iterator() give what TensorFlow's do: text as UTF-8 bytes (an object array, a
scalar's bytes), a 0-d tensor as a NumPy scalar; and bytes from numpy() make a text tensor again."""

import numpy as np

import chainrule as tf


def test_text_scalar_is_bytes_and_decodes():
    value = tf.constant("héllo").numpy()
    assert isinstance(value, bytes) and value.decode("utf-8") == "héllo"
    assert tf.constant(b"raw").numpy() == b"raw"


def test_text_array_is_an_object_array_of_bytes():
    values = tf.constant([["a", "é"], ["", "xyz"]]).numpy()
    assert values.dtype == object and values.shape == (2, 2)
    assert values.tolist() == [[b"a", "é".encode("utf-8")], [b"", b"xyz"]]
    assert tf.constant(np.array([], dtype=str)).numpy().dtype == object


def test_variable_of_text_gives_bytes():
    assert tf.Variable("v").numpy() == b"v"


def test_numpy_arrays_of_text_still_see_the_str_array():
    t = tf.constant(["ab", "c"])
    assert np.asarray(t).dtype.kind == "U" and np.char.upper(t).tolist() == ["AB", "C"]


def test_scalar_is_a_numpy_scalar_and_hashable():
    value = tf.constant([4, 5], dtype="int64")[0].numpy()
    assert isinstance(value, np.int64) and {4: "four"}[value] == "four"
    assert isinstance(tf.constant(2.5).numpy(), np.float32)
    assert tf.Variable(1.0).numpy() == np.float32(1.0)
    assert tf.constant([1.0, 2.0]).numpy().shape == (2,)


def test_bytes_from_numpy_make_a_text_tensor_again():
    t = tf.constant(["é", "b"])
    again = tf.constant(t.numpy())
    assert again.dtype == tf.string and tf.strings.upper(again).numpy().tolist() == ["é".encode("utf-8"), b"B"]
    ds = tf.data.Dataset.from_tensor_slices(t.numpy())
    assert ds.element_spec.dtype == tf.string
    binary = tf.constant(np.array([b"\xff\x00"], dtype=object))  # not UTF-8: kept as the bytes objects
    assert binary.numpy().tolist() == [b"\xff\x00"]


def test_as_numpy_iterator_gives_bytes():
    ds = tf.data.Dataset.from_tensor_slices((["x", "yz"], [1, 2]))
    assert list(ds.as_numpy_iterator()) == [(b"x", 1), (b"yz", 2)]
    (batch, _), = ds.batch(2).as_numpy_iterator()
    assert batch.tolist() == [b"x", b"yz"]


def test_read_file_contents_are_bytes(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"\x00\x01data")
    contents = tf.io.read_file(tf.constant(str(tmp_path / "f.bin"))).numpy()
    assert isinstance(contents, bytes) and contents == b"\x00\x01data"
