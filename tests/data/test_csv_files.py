"""tf.io.decode_csv, tf.data.experimental.CsvDataset and make_csv_dataset, Dataset.list_files, Dataset.snapshot, and
a map function's list result taken as a tuple (tf.data's rule)."""

import gzip
import os

import numpy as np
import pytest

import chainrule as tf


def test_decode_csv_types_defaults_quotes_and_na():
    a, b, c = tf.io.decode_csv(["1,x,2.5", ',"q,r",', "7,NA,1e3"], record_defaults=[int(), "d", [0.5]],
                               na_value="NA")
    assert a.dtype == np.int32 and a.numpy().tolist() == [1, 0, 7]
    assert b.dtype == tf.string and b.numpy().tolist() == [b"x", b"q,r", b"d"]
    assert c.dtype == np.float32 and c.numpy().tolist() == [2.5, 0.5, 1000.0]
    (wide,) = tf.io.decode_csv(tf.constant([["5"], ["6"]]), [tf.constant([], dtype=tf.int64)])
    assert wide.dtype == np.int64 and wide.shape == (2, 1)
    x, z = tf.io.decode_csv(["1;2;3"], [0, 0], field_delim=";", select_cols=[0, 2])
    assert (x.numpy().tolist(), z.numpy().tolist()) == ([1], [3])


def test_decode_csv_errors_name_the_field():
    with pytest.raises(ValueError, match="Field 0 is required"):
        tf.io.decode_csv([",1"], [[], 0])
    with pytest.raises(ValueError, match="Expect 2 fields but have 3"):
        tf.io.decode_csv(["1,2,3"], [0, 0])
    with pytest.raises(ValueError, match="Field 1 in record is not a valid int32"):
        tf.io.decode_csv(["1,x"], [0, 0])


@pytest.fixture
def tables(tmp_path):
    (tmp_path / "a.csv").write_text("n,name,score\n1,ann,0.5\n2,bob,\n")
    with gzip.open(tmp_path / "b.csv.gz", "wt") as f:
        f.write("n,name,score\n3,cy,1.5\n4,dee,2.5\n")
    return tmp_path


def test_csv_dataset_rows_header_and_columns(tables):
    rows = tf.data.experimental.CsvDataset(str(tables / "a.csv"), [0, "", 9.0], header=True)
    assert [tuple(v.numpy() for v in row) for row in rows] == [(1, b"ann", 0.5), (2, b"bob", 9.0)]
    names = tf.data.experimental.CsvDataset([str(tables / "a.csv")], [""], header=True, select_cols=[1])
    assert [row[0].numpy() for row in names] == [b"ann", b"bob"]
    scores = tf.data.experimental.CsvDataset(str(tables / "b.csv.gz"), [0, 0.0], header=True, exclude_cols=[1],
                                             compression_type="GZIP")
    assert list(scores.as_numpy_iterator()) == [(3, 1.5), (4, 2.5)]


def test_make_csv_dataset_infers_types_and_splits_the_label(tables):
    ds = tf.data.experimental.make_csv_dataset(str(tables / "a.csv"), batch_size=2, label_name="score",
                                               num_epochs=1, shuffle=False)
    (features, label), = list(ds)
    assert list(features) == ["n", "name"] and features["n"].dtype == np.int32
    assert features["name"].numpy().tolist() == [b"ann", b"bob"] and label.numpy().tolist() == [0.5, 0.0]
    (tables / "c.csv").write_text((tables / "a.csv").read_text())
    both = tf.data.experimental.make_csv_dataset([str(tables / "a.csv"), str(tables / "c.csv")], batch_size=3,
                                                 select_columns=["name"], num_epochs=2, shuffle=False)
    assert [len(b["name"]) for b in both] == [3, 3, 2] and list(next(iter(both))) == ["name"]
    endless = tf.data.experimental.make_csv_dataset(str(tables / "a.csv"), batch_size=2)
    assert len(list(endless.take(5))) == 5  # num_epochs=None repeats
    with pytest.raises(ValueError, match="label_name"):
        tf.data.experimental.make_csv_dataset(str(tables / "a.csv"), 2, label_name="nope")
    with pytest.raises(ValueError, match="No files matched"):
        tf.data.experimental.make_csv_dataset(str(tables / "*.tsv"), 2)


def test_make_csv_dataset_ignore_errors(tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3\n5,6\n")
    ds = tf.data.experimental.make_csv_dataset(str(tmp_path / "bad.csv"), 4, num_epochs=1, shuffle=False,
                                               ignore_errors=True)
    assert next(iter(ds))["a"].numpy().tolist() == [1, 5]
    with pytest.raises(ValueError, match="Expect 2 fields"):
        list(tf.data.experimental.make_csv_dataset(str(tmp_path / "bad.csv"), 4, num_epochs=1, shuffle=False))


def test_list_files_sorted_or_shuffled_each_pass(tmp_path):
    for i in range(6):
        (tmp_path / f"f{i}.csv").write_text("x")
    ordered = [os.path.basename(f.numpy().decode()) for f in tf.data.Dataset.list_files(str(tmp_path / "*.csv"),
                                                                                       shuffle=False)]
    assert ordered == [f"f{i}.csv" for i in range(6)]
    shuffled = tf.data.Dataset.list_files(str(tmp_path / "*.csv"), seed=1)
    passes = [tuple(f.numpy() for f in shuffled) for _ in range(4)]
    assert all(sorted(p) == sorted(passes[0]) for p in passes) and len(set(passes)) > 1
    with pytest.raises(ValueError, match="No files matched pattern"):
        tf.data.Dataset.list_files(str(tmp_path / "*.txt"))


def test_snapshot_is_read_back_by_a_new_pipeline_of_the_same_spec(tmp_path):
    calls = []
    path = str(tmp_path / "snap")

    def pipeline(scale):
        return tf.data.Dataset.from_tensor_slices({"x": np.arange(4), "s": np.array(list("abcd"))}).map(
            lambda e: calls.append(1) or {"x": e["x"] * scale, "s": e["s"]}).batch(3).snapshot(path)

    first = [(b["x"].numpy().tolist(), b["s"].numpy().tolist()) for b in pipeline(2)]
    assert first == [([0, 2, 4], [b"a", b"b", b"c"]), ([6], [b"d"])]
    made = len(calls)
    again = [(b["x"].numpy().tolist(), b["s"].numpy().tolist()) for b in pipeline(100)]  # read from the folder
    assert again == first and len(calls) - made <= 1  # (at most the call that reads the element spec)
    floats = tf.data.Dataset.from_tensor_slices(np.ones(2, "float32")).snapshot(path)  # another spec: rewritten
    assert [float(x) for x in floats] == [1.0, 1.0] and [float(x) for x in floats] == [1.0, 1.0]


def test_a_list_from_map_is_a_tuple():
    ds = tf.data.Dataset.from_tensor_slices(np.arange(3)).map(lambda x: [x, x * 2])
    assert isinstance(ds.element_spec, tuple) and list(ds.as_numpy_iterator())[2] == (2, 4)
