"""TFRecord files (tf.io.TFRecordWriter, tf.data.TFRecordDataset), tf.train.Example protos, tf.io.parse_example /
parse_single_example and tf.io.serialize_tensor / parse_tensor."""
import gzip
import os
import struct
import zlib

import numpy as np
import pytest
from google.protobuf import text_format
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

import chainrule as tf


def _example(**features):
    def feature(value):
        if value and isinstance(value[0], bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=value))
        if value and isinstance(value[0], float):
            return tf.train.Feature(float_list=tf.train.FloatList(value=value))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=value))
    return tf.train.Example(features=tf.train.Features(feature={k: feature(v) for k, v in features.items()}))


RECORDS = [b"", b"\x00", b"abc\x00\x00", bytes(range(256)) * 40]


def _framed(records):
    """TensorFlow's framing, spelled out independently of the writer: length, masked CRCs (little-endian)."""
    out = b""
    for r in records:
        header = struct.pack("<Q", len(r))
        out += header + struct.pack("<I", masked_crc32c(header)) + r + struct.pack("<I", masked_crc32c(r))
    return out


@pytest.mark.parametrize("compression", [None, "", "GZIP", "ZLIB"])
def test_round_trip_and_file_bytes(tmp_path, compression):
    path = str(tmp_path / "a.tfrecord")
    with tf.io.TFRecordWriter(path, options=compression) as writer:
        for record in RECORDS:
            writer.write(record)
    raw = open(path, "rb").read()
    plain = {None: lambda b: b, "": lambda b: b, "GZIP": gzip.decompress, "ZLIB": zlib.decompress}[compression](raw)
    assert plain == _framed(RECORDS)
    assert list(tf.data.TFRecordDataset(path, compression_type=compression).as_numpy_iterator()) == RECORDS
    for record in tf.data.TFRecordDataset(path, compression_type=compression):  # binary bytes are tf.string too
        assert record.dtype == tf.string and tf.string == record.dtype and "dtype=string" in repr(record)


def test_options_object_str_record_and_tensor_record(tmp_path):
    path = tmp_path / "b.tfrecord"
    options = tf.io.TFRecordOptions(compression_type="GZIP", compression_level=9)
    assert tf.io.TFRecordOptions.get_compression_type_string(options) == "GZIP"
    writer = tf.io.TFRecordWriter(str(path), options)
    writer.write("text é")
    writer.write(tf.constant(b"bytes"))
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"late")
    ds = tf.data.TFRecordDataset([str(path)], compression_type="GZIP", buffer_size=1 << 20, num_parallel_reads=4)
    assert list(ds.as_numpy_iterator()) == ["text é".encode(), b"bytes"]
    assert ds.element_spec == tf.TensorSpec((), tf.string)


def test_several_files_in_order_and_a_string_tensor_of_names(tmp_path):
    names = []
    for i in range(3):
        names.append(str(tmp_path / f"{i}.tfrec"))
        with tf.io.TFRecordWriter(names[-1]) as writer:
            for j in range(i + 1):
                writer.write(f"{i}-{j}".encode())
    got = list(tf.data.TFRecordDataset(tf.constant(names)).as_numpy_iterator())
    assert got == [b"0-0", b"1-0", b"1-1", b"2-0", b"2-1", b"2-2"]


@pytest.mark.parametrize("where", [3, 10, 14, -2])
def test_corrupt_record_raises_data_loss_naming_the_file(tmp_path, where):
    path = str(tmp_path / "bad.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(b"payload of the record")
    data = bytearray(open(path, "rb").read())
    data[where] ^= 0x40  # length, length CRC, data, data CRC
    open(path, "wb").write(bytes(data))
    with pytest.raises(tf.errors.DataLossError, match="bad.tfrecord"):
        list(tf.data.TFRecordDataset(path))


def test_truncated_and_corrupt_compressed_files(tmp_path):
    path = str(tmp_path / "cut.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(b"x" * 100)
    data = open(path, "rb").read()
    open(path, "wb").write(data[:-5])
    with pytest.raises(tf.errors.DataLossError, match="truncated"):
        list(tf.data.TFRecordDataset(path))
    gz = str(tmp_path / "cut.gz")
    with tf.io.TFRecordWriter(gz, "GZIP") as writer:
        writer.write(os.urandom(1000))
    data = open(gz, "rb").read()
    open(gz, "wb").write(data[:-20])
    with pytest.raises(tf.errors.DataLossError, match="cut.gz"):
        list(tf.data.TFRecordDataset(gz, "GZIP"))
    assert issubclass(tf.errors.DataLossError, tf.errors.OpError)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="compression_type"):
        tf.data.TFRecordDataset(str(tmp_path / "x"), compression_type="LZ4")
    with pytest.raises(ValueError, match="options"):
        tf.io.TFRecordWriter(str(tmp_path / "x"), "BZIP2")
    with pytest.raises(TypeError, match="bytes or str"):
        tf.io.TFRecordWriter(str(tmp_path / "y")).write(3)
    with pytest.raises(tf.errors.NotFoundError):
        list(tf.data.TFRecordDataset(str(tmp_path / "missing.tfrecord")))


def test_example_is_a_protobuf_with_tensorflows_bytes_and_text_format():
    example = _example(a=[1, -2], b=[0.5], c=[b"x"])
    assert type(example).DESCRIPTOR.full_name == "tensorflow.Example"
    again = tf.train.Example.FromString(example.SerializeToString())
    assert again == example
    assert text_format.Parse(text_format.MessageToString(example), tf.train.Example()) == example
    # TensorFlow's bytes for Feature(float_list=[e]) (from its TFRecord tutorial)
    assert tf.train.Feature(float_list=tf.train.FloatList(value=[np.exp(1)])).SerializeToString() == \
        b"\x12\x06\n\x04T\xf8-@"
    sequence = tf.train.SequenceExample()
    sequence.context.feature["n"].int64_list.value.append(2)
    sequence.feature_lists.feature_list["t"].feature.add().float_list.value.extend([1.0, 2.0])
    assert tf.train.SequenceExample.FromString(sequence.SerializeToString()) == sequence


def test_parse_single_example_fixed_var_and_sequence_features():
    serialized = _example(x=[1.0, 2.0, 3.0, 4.0], v=[5, 6, 7], s=[b"a\x00"], seq=[1, 2, 3, 4]).SerializeToString()
    parsed = tf.io.parse_single_example(serialized, {
        "x": tf.io.FixedLenFeature([2, 2], tf.float32),
        "missing": tf.io.FixedLenFeature([2], tf.int64, default_value=[8, 9]),
        "v": tf.io.VarLenFeature(tf.int64),
        "s": tf.io.FixedLenFeature([], tf.string),
        "seq": tf.io.FixedLenSequenceFeature([2], tf.int64, allow_missing=True),
    })
    np.testing.assert_array_equal(parsed["x"].numpy(), [[1, 2], [3, 4]])
    assert parsed["x"].dtype == np.float32
    np.testing.assert_array_equal(parsed["missing"].numpy(), [8, 9])
    assert isinstance(parsed["v"], tf.sparse.SparseTensor)
    np.testing.assert_array_equal(parsed["v"].indices.numpy(), [[0], [1], [2]])
    np.testing.assert_array_equal(parsed["v"].values.numpy(), [5, 6, 7])
    np.testing.assert_array_equal(parsed["v"].dense_shape.numpy(), [3])
    assert parsed["s"].numpy() == b"a\x00"
    np.testing.assert_array_equal(parsed["seq"].numpy(), [[1, 2], [3, 4]])


def test_parse_example_batches_and_pads():
    batch = [_example(v=[1], seq=[1.0]).SerializeToString(), _example(v=[2, 3, 4], seq=[1.0, 2.0, 3.0])
             .SerializeToString(), _example(k=[1]).SerializeToString()]
    parsed = tf.io.parse_example(tf.constant(np.array(batch, dtype=object)), {
        "v": tf.io.VarLenFeature(tf.int64),
        "seq": tf.io.FixedLenSequenceFeature([], tf.float32, allow_missing=True, default_value=-1.0),
        "k": tf.io.FixedLenFeature([], tf.int64, default_value=0)})
    np.testing.assert_array_equal(parsed["v"].indices.numpy(), [[0, 0], [1, 0], [1, 1], [1, 2]])
    np.testing.assert_array_equal(parsed["v"].dense_shape.numpy(), [3, 3])
    np.testing.assert_array_equal(tf.sparse.to_dense(parsed["v"]).numpy(), [[1, 0, 0], [2, 3, 4], [0, 0, 0]])
    np.testing.assert_array_equal(parsed["seq"].numpy(), [[1, -1, -1], [1, 2, 3], [-1, -1, -1]])
    np.testing.assert_array_equal(parsed["k"].numpy(), [0, 0, 1])


def test_parse_errors():
    serialized = _example(x=[1.0, 2.0]).SerializeToString()
    with pytest.raises(tf.errors.InvalidArgumentError, match="is required but could not be found"):
        tf.io.parse_single_example(serialized, {"y": tf.io.FixedLenFeature([], tf.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Values size: 2 but output shape: \\[3\\]"):
        tf.io.parse_single_example(serialized, {"x": tf.io.FixedLenFeature([3], tf.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Data types don't match"):
        tf.io.parse_single_example(serialized, {"x": tf.io.FixedLenFeature([2], tf.int64)})
    with pytest.raises(ValueError, match="unsupported dtype int32"):
        tf.io.parse_single_example(serialized, {"x": tf.io.FixedLenFeature([2], tf.int32)})
    with pytest.raises(ValueError, match="fully defined shape"):
        tf.io.parse_single_example(serialized, {"x": tf.io.FixedLenFeature([None], tf.float32)})
    with pytest.raises(ValueError, match="allow_missing=True"):
        tf.io.parse_single_example(serialized, {"x": tf.io.FixedLenSequenceFeature([], tf.float32)})
    with pytest.raises(ValueError, match="FixedLenFeature, VarLenFeature"):
        tf.io.parse_single_example(serialized, {"x": tf.float32})
    with pytest.raises(ValueError, match="default_value"):
        tf.io.parse_single_example(serialized, {"z": tf.io.FixedLenFeature([2], tf.float32, default_value=[1, 2, 3])})
    with pytest.raises(ValueError, match="scalar string"):
        tf.io.parse_single_example([serialized], {"x": tf.io.FixedLenFeature([2], tf.float32)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse example input"):
        tf.io.parse_single_example(b"\xff\xff\xff", {"x": tf.io.FixedLenFeature([2], tf.float32)})


def test_parsing_inside_dataset_map_keeps_sparse_tensors(tmp_path):
    path = str(tmp_path / "m.tfrecord")
    with tf.io.TFRecordWriter(path, "ZLIB") as writer:
        for i in range(4):
            writer.write(_example(label=[i], tokens=list(range(i))).SerializeToString())
    spec = {"label": tf.io.FixedLenFeature([], tf.int64), "tokens": tf.io.VarLenFeature(tf.int64)}
    ds = tf.data.TFRecordDataset(path, "ZLIB").map(lambda r: tf.io.parse_single_example(r, spec))
    assert ds.element_spec["label"] == tf.TensorSpec((), tf.int64)
    elements = list(ds)
    assert [int(e["label"]) for e in elements] == [0, 1, 2, 3]
    assert all(isinstance(e["tokens"], tf.sparse.SparseTensor) for e in elements)
    assert [tf.sparse.to_dense(e["tokens"]).numpy().tolist() for e in elements] == [[], [0], [0, 1], [0, 1, 2]]
    batched = tf.data.TFRecordDataset(path, "ZLIB").batch(4).map(lambda r: tf.io.parse_example(r, spec))
    (only,) = list(batched)
    np.testing.assert_array_equal(only["tokens"].dense_shape.numpy(), [4, 3])


@pytest.mark.parametrize("value", [np.arange(6, dtype=np.int32).reshape(2, 3), np.float64(2.5),
                                   np.array([True, False]), np.array([b"a", b"", b"c\x00"], dtype=object),
                                   np.zeros((0, 3), np.float32), np.array([1 + 2j], np.complex64)])
def test_serialize_tensor_round_trip(value):
    data = tf.io.serialize_tensor(tf.constant(value))
    dtype = tf.string if value.dtype == object else tf.as_dtype(value.dtype)
    back = tf.io.parse_tensor(data, out_type=dtype).numpy()
    assert np.shape(back) == np.shape(value)
    np.testing.assert_array_equal(back, value)


def test_serialize_tensor_bytes_are_tensorflows_and_type_mismatch():
    # TensorFlow 2's serialize_tensor(tf.constant([1, 2], tf.int32)): dtype 3, shape [2], tensor_content
    assert tf.io.serialize_tensor(tf.constant(np.array([1, 2], np.int32))).numpy() == \
        b"\x08\x03\x12\x04\x12\x02\x08\x02\"\x08\x01\x00\x00\x00\x02\x00\x00\x00"
    with pytest.raises(tf.errors.InvalidArgumentError, match="Type mismatch"):
        tf.io.parse_tensor(tf.io.serialize_tensor(tf.constant([1.0])), tf.int64)


def test_parse_single_sequence_example():
    sequence = tf.train.SequenceExample()
    sequence.context.feature["length"].int64_list.value.append(3)
    for tokens in [[1, 2], [3], [4, 5, 6]]:
        sequence.feature_lists.feature_list["tokens"].feature.add().int64_list.value.extend(tokens)
    for i in range(3):
        sequence.feature_lists.feature_list["frames"].feature.add().float_list.value.extend([i, i + 0.5])
    context, sequences = tf.io.parse_single_sequence_example(
        sequence.SerializeToString(), context_features={"length": tf.io.FixedLenFeature([], tf.int64)},
        sequence_features={"tokens": tf.io.VarLenFeature(tf.int64),
                           "frames": tf.io.FixedLenSequenceFeature([2], tf.float32),
                           "absent": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)})
    assert int(context["length"]) == 3
    assert tf.sparse.to_dense(sequences["tokens"]).numpy().tolist() == [[1, 2, 0], [3, 0, 0], [4, 5, 6]]
    np.testing.assert_array_equal(sequences["frames"].numpy(), [[0, 0.5], [1, 1.5], [2, 2.5]])
    assert sequences["absent"].shape == (0,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Feature list 'x' is required"):
        tf.io.parse_single_sequence_example(sequence.SerializeToString(),
                                            sequence_features={"x": tf.io.FixedLenSequenceFeature([], tf.int64)})
    wrong = {"frames": tf.io.FixedLenSequenceFeature([3], tf.float32)}
    with pytest.raises(tf.errors.InvalidArgumentError, match="Number of float values"):
        tf.io.parse_single_sequence_example(sequence.SerializeToString(), sequence_features=wrong)


def test_filenames_from_a_dataset_and_interleave(tmp_path):
    for i in range(2):
        with tf.io.TFRecordWriter(str(tmp_path / f"{i}.tfrecord")) as writer:
            writer.write(f"file {i}".encode())
    files = tf.data.Dataset.list_files(str(tmp_path / "*.tfrecord"), shuffle=False)
    assert list(tf.data.TFRecordDataset(files).as_numpy_iterator()) == [b"file 0", b"file 1"]
    mixed = files.interleave(tf.data.TFRecordDataset, cycle_length=2)
    assert sorted(mixed.as_numpy_iterator()) == [b"file 0", b"file 1"]


def test_sparse_elements_batch_into_one_sparse_tensor(tmp_path):
    path = str(tmp_path / "v.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(3):
            writer.write(_example(v=list(range(10, 10 + i))).SerializeToString())
    spec = {"v": tf.io.VarLenFeature(tf.int64)}
    batches = list(tf.data.TFRecordDataset(path).map(lambda r: tf.io.parse_single_example(r, spec)).batch(2))
    first = batches[0]["v"]
    assert isinstance(first, tf.sparse.SparseTensor)
    assert first.indices.numpy().tolist() == [[1, 0]] and first.dense_shape.numpy().tolist() == [2, 1]
    assert tf.sparse.to_dense(batches[1]["v"]).numpy().tolist() == [[10, 11]]
    # the same as parsing the batch at once
    direct = tf.io.parse_example(np.array([r for r in tf.data.TFRecordDataset(path).as_numpy_iterator()][:2],
                                          dtype=object), spec)["v"]
    assert direct.indices.numpy().tolist() == first.indices.numpy().tolist()
