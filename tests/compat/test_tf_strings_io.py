"""tf.strings' unicode and number functions, and tf.io, as the tensor guide uses them."""
import numpy as np
import pytest

import chainrule as tf


def test_unicode_split_decode_encode_round_trip():
    text = tf.constant("アヒル 🦆")
    chars = tf.strings.unicode_split(text, "UTF-8")
    assert [c.decode("utf-8") for c in chars.numpy()] == ["ア", "ヒ", "ル", " ", "🦆"]
    points = tf.strings.unicode_decode(text, "UTF-8")
    assert points.numpy().tolist() == [12450, 12498, 12523, 32, 129414] and points.dtype == np.int32
    assert tf.strings.unicode_encode(points, "UTF-8").numpy().decode("utf-8") == "アヒル 🦆"
    rows = tf.strings.unicode_decode(["ab", "c"], "UTF-8")
    assert rows.to_list() == [[97, 98], [99]]
    assert tf.strings.unicode_encode(rows, "UTF-8").numpy().tolist() == [b"ab", b"c"]
    with pytest.raises(ValueError, match="input_encoding must be 'UTF-8'"):
        tf.strings.unicode_split(text, "UTF-16-BE")


def test_bytes_split_substr_and_to_number():
    assert tf.strings.bytes_split(tf.constant("Duck")).numpy().tolist() == [b"D", b"u", b"c", b"k"]
    assert tf.strings.bytes_split(["é"]).to_list() == [[b"\xc3", b"\xa9"]]
    assert tf.strings.substr(["hello", "world"], 1, 3).numpy().tolist() == [b"ell", b"orl"]
    assert tf.strings.substr("hello", -3, 2).numpy() == b"ll"
    np.testing.assert_array_equal(tf.strings.to_number(["1", " 2.5", "-3e2"]).numpy(), [1, 2.5, -300])
    assert tf.strings.to_number(["7"], out_type=tf.int32).dtype == np.int32
    with pytest.raises(ValueError, match="could not correctly convert string: abc"):
        tf.strings.to_number(["abc"])


def test_io_decode_raw_read_and_write_file(tmp_path):
    np.testing.assert_array_equal(tf.io.decode_raw(tf.constant("Duck"), tf.uint8).numpy(), [68, 117, 99, 107])
    halves = tf.io.decode_raw(np.array([b"\x01\x00\x02\x00", b"\x03\x00\x04\x00"], dtype=object), tf.int16)
    assert halves.numpy().tolist() == [[1, 2], [3, 4]]
    assert tf.io.decode_raw(b"\x00\x01", tf.int16, little_endian=False).numpy().tolist() == [1]
    with pytest.raises(ValueError, match="not a multiple of 4"):
        tf.io.decode_raw(b"abc", tf.float32)
    with pytest.raises(ValueError, match="same size"):
        tf.io.decode_raw(np.array([b"ab", b"abcd"], dtype=object), tf.uint8)
    tf.io.write_file(str(tmp_path / "f.bin"), b"\x00\xffdata")
    assert tf.io.read_file(str(tmp_path / "f.bin")).numpy() == b"\x00\xffdata"
