"""tf.string: a tensor of text reports a dtype that equals tf.string and "string", as TensorFlow 2's does, while its
array stays NumPy text and numeric tensors keep NumPy dtypes."""
import pickle

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras


def test_a_text_tensor_dtype_is_tf_string():
    t = tf.constant(["a", "bc"])
    assert t.dtype == tf.string and t.dtype == "string" and tf.string == t.dtype
    assert t.dtype.name == "string" and tf.string.name == "string" and tf.dtypes.string is tf.string
    assert repr(tf.string) == "tf.string" and str(tf.string) == "<dtype: 'string'>"
    assert not (t.dtype != "string") and t.dtype != "float32" and t.dtype != tf.float32
    assert tf.constant([b"a"]).dtype == tf.string  # bytes are text too (TensorFlow's strings are bytes)
    assert {t.dtype: 1}[tf.string] == 1


def test_the_array_and_numpy_see_the_text_dtype_underneath():
    t = tf.constant(["a", "bcd"])
    assert np.asarray(t).dtype == np.dtype("<U3") and t.dtype.kind == "U" and t.dtype.itemsize == 12
    assert t.numpy().tolist() == [b"a", b"bcd"] and t.numpy().dtype == object  # TensorFlow's numpy(): bytes
    assert np.dtype(t.dtype) == np.dtype("<U3")
    assert np.asarray(["xyzw"], dtype=t.dtype).dtype == np.dtype("<U3")  # NumPy takes it as the array's dtype
    assert t.dtype == np.str_ and t.dtype == np.dtype("<U7") and t.dtype == "str"
    assert pickle.loads(pickle.dumps(t.dtype)) == tf.string


def test_numeric_dtypes_are_unchanged():
    assert tf.constant([1.0]).dtype is np.dtype("float32")
    assert tf.constant([1]).dtype == tf.int32 and tf.constant([True]).dtype == tf.bool
    assert tf.float32 is np.float32 and tf.constant([1.0]).dtype != tf.string and tf.constant([1.0]).dtype != "string"


def test_as_dtype():
    assert tf.as_dtype("string") is tf.string and tf.as_dtype(np.str_) is tf.string and tf.as_dtype(bytes) is tf.string
    assert tf.as_dtype(np.dtype("<U4")) is tf.string and tf.as_dtype(tf.constant(["a"]).dtype) == tf.string
    assert tf.as_dtype("float32") == np.float32 and tf.as_dtype(tf.int64) == np.int64 and tf.as_dtype(3) == np.int32
    with pytest.raises(TypeError, match="None"):
        tf.as_dtype(None)
    with pytest.raises(TypeError, match="Cannot convert value 'no such type'"):
        tf.as_dtype("no such type")


def test_text_tensors_keep_working_where_numpy_text_went():
    spec = tf.TensorSpec(shape=(), dtype=tf.string)
    assert spec.dtype == tf.string
    ds = tf.data.Dataset.from_generator(lambda: iter(["x", "yz"]), output_signature=spec)
    assert [t.numpy() for t in ds] == [b"x", b"yz"]
    lookup = keras.layers.StringLookup(vocabulary=["a", "b"])
    assert lookup(tf.constant(["b", "a", "c"])).numpy().tolist() == [2, 1, 0]
    assert tf.strings.upper(tf.constant(["ab"])).dtype == tf.string


def test_the_structured_data_branch_on_string():
    features = {"thal": tf.constant(["fixed", "normal"]), "cp": tf.constant([1, 2])}
    chosen = {name: ("StringLookup" if x.dtype == "string" else "IntegerLookup") for name, x in features.items()}
    assert chosen == {"thal": "StringLookup", "cp": "IntegerLookup"}


def test_specs_and_symbolic_inputs_of_text_say_tf_string():
    ds = tf.data.Dataset.from_tensor_slices(["ab", "c"])
    assert ds.element_spec.dtype == tf.string and tf.TensorSpec([], tf.string) == ds.element_spec
    x = keras.Input(shape=(1,), dtype="string")
    assert x.dtype == tf.string and x.dtype == "string" and "dtype=string" in repr(x)
    assert keras.Input(shape=(1,)).dtype == np.float32
