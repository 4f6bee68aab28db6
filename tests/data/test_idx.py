import numpy as np
import pytest

from chainrule.data.datasets.idx import IDXFormatError, read_idx, write_idx


def test_uint8_images_and_labels_round_trip_with_mnist_headers():
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    image_bytes, label_bytes = write_idx(images), write_idx(labels)
    assert image_bytes[:16] == bytes.fromhex("00000803" "00000005" "0000001c" "0000001c")
    assert label_bytes[:8] == bytes.fromhex("00000801" "00000005")
    np.testing.assert_array_equal(read_idx(image_bytes), images)
    np.testing.assert_array_equal(read_idx(label_bytes), labels)
    assert read_idx(image_bytes).dtype == np.uint8


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
def test_wider_types_round_trip_big_endian_on_disk(dtype):
    array = np.arange(-3, 3).astype(dtype).reshape(2, 3)
    data = write_idx(array)
    assert data[12:] == array.astype(np.dtype(dtype).newbyteorder(">")).tobytes()
    back = read_idx(data)
    assert back.dtype == dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_bad_magic_number_is_rejected():
    with pytest.raises(IDXFormatError, match="magic number"):
        read_idx(b"\x1f\x8b\x08\x00" + bytes(20))  # a gzip header: the file was not decompressed


def test_unknown_type_code_is_rejected():
    with pytest.raises(IDXFormatError, match="type code 0x07"):
        read_idx(bytes([0, 0, 7, 1, 0, 0, 0, 1, 42]))


@pytest.mark.parametrize("cut", [1, 100, 28 * 28])
def test_truncated_data_is_rejected(cut):
    data = write_idx(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(IDXFormatError, match="truncated"):
        read_idx(data[:-cut])


def test_truncated_header_and_trailing_bytes_are_rejected():
    data = write_idx(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(IDXFormatError, match="truncated IDX header"):
        read_idx(data[:10])
    with pytest.raises(IDXFormatError, match="needs"):
        read_idx(data + b"\x00")


def test_write_refuses_a_type_idx_cannot_hold():
    with pytest.raises(IDXFormatError, match="int64"):
        write_idx(np.zeros(3, np.int64))
