"""tf.data's Dataset methods against TensorFlow's documented examples (the outputs in the docstrings of
tensorflow/python/data/ops/dataset_ops.py), and prefetch / parallel map on threads: overlap, errors, early stops,
seeded randomness, and the engine's state kept per thread."""
import itertools
import threading
import time

import numpy as np
import pytest

import chainrule as tf
from chainrule import backend
from chainrule.data import Dataset, TensorSpec
from chainrule.data.spec import DatasetSpec


def values(ds):
    """The elements as Python values (nested tuples/dicts/lists), for comparing with TensorFlow's printed outputs."""
    def plain(x):
        if isinstance(x, tuple):
            return tuple(plain(v) for v in x)
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        return np.asarray(x).tolist()
    return [plain(e) for e in ds.as_numpy_iterator()]


# --- sources --------------------------------------------------------------------------------------------------------
def test_range_as_tensorflow_documents_it():
    assert values(Dataset.range(5)) == [0, 1, 2, 3, 4]
    assert values(Dataset.range(2, 5)) == [2, 3, 4]
    assert values(Dataset.range(1, 5, 2)) == [1, 3]
    assert values(Dataset.range(1, 5, -2)) == [] and values(Dataset.range(5, 1)) == []
    assert values(Dataset.range(5, 1, -2)) == [5, 3]
    assert values(Dataset.range(2, 5, output_type=tf.int32)) == [2, 3, 4]
    floats = list(Dataset.range(1, 5, 2, output_type=tf.float32).as_numpy_iterator())
    assert floats == [1.0, 3.0] and floats[0].dtype == np.float32
    assert Dataset.range(5).element_spec == TensorSpec((), tf.int64)
    assert int(Dataset.range(42).cardinality()) == 42 and len(Dataset.range(1, 5, -2)) == 0
    with pytest.raises(ValueError, match="1 to 3"):
        Dataset.range()


def test_from_tensors_is_one_element():
    assert values(Dataset.from_tensors([1, 2, 3])) == [[1, 2, 3]]
    assert values(Dataset.from_tensors(np.array([1, 2, 3])).repeat(2)) == [[1, 2, 3], [1, 2, 3]]
    (element,) = Dataset.from_tensors(([1, 2, 3], "A")).as_numpy_iterator()
    assert element[0].tolist() == [1, 2, 3] and element[1] == b"A"


def test_from_tensor_slices_keeps_structure_and_scalars_come_out_as_numpy_scalars():
    assert values(Dataset.from_tensor_slices([1, 2, 3])) == [1, 2, 3]
    assert values(Dataset.from_tensor_slices([[1, 2], [3, 4]])) == [[1, 2], [3, 4]]
    assert values(Dataset.from_tensor_slices(([1, 2], [3, 4], [5, 6]))) == [(1, 3, 5), (2, 4, 6)]
    ds = Dataset.from_tensor_slices({"a": ([1, 2], [3, 4]), "b": [5, 6]})
    assert values(ds) == [{"a": (1, 3), "b": 5}, {"a": (2, 4), "b": 6}]
    first = next(Dataset.from_tensor_slices([1, 2, 3]).as_numpy_iterator())
    assert isinstance(first, np.integer)


def test_from_generator_with_output_signature_checks_and_converts():
    def gen():
        for i in itertools.count(1):
            yield i, [1] * i

    ds = Dataset.from_generator(gen, output_signature=(TensorSpec((), tf.int64), TensorSpec((None,), tf.int64)))
    assert values(ds.take(3)) == [(1, [1]), (2, [1, 1]), (3, [1, 1, 1])]
    assert ds.element_spec == (TensorSpec((), tf.int64), TensorSpec((None,), tf.int64))
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    element = next(ds.as_numpy_iterator())
    assert element[0].dtype == np.int64 and element[1].dtype == np.int64
    # each pass calls the generator again
    assert values(ds.take(2)) == values(ds.take(2))
    # the deprecated output_types / output_shapes form
    legacy = Dataset.from_generator(gen, (tf.int64, tf.int64), ([], [None]))
    assert values(legacy.take(3)) == [(1, [1]), (2, [1, 1]), (3, [1, 1, 1])]
    assert legacy.element_spec[1] == TensorSpec((None,), tf.int64)
    # args are handed to the generator as arrays
    counted = Dataset.from_generator(lambda n: iter(range(int(n))), output_signature=TensorSpec((), tf.int32),
                                     args=(3,))
    assert values(counted) == [0, 1, 2]


def test_from_generator_refuses_elements_that_do_not_fit_the_signature():
    spec = TensorSpec((2,), tf.float32)
    with pytest.raises(TypeError, match="where an element of TensorSpec"):
        list(Dataset.from_generator(lambda: iter([[1.0, 2.0, 3.0]]), output_signature=spec))
    with pytest.raises(TypeError, match="did not match the expected structure"):
        list(Dataset.from_generator(lambda: iter([1]), output_signature=(spec, spec)))
    with pytest.raises(TypeError, match="where an element of"):  # floats do not become integers silently
        list(Dataset.from_generator(lambda: iter([np.array(1.5)]), output_signature=TensorSpec((), tf.int32)))
    with pytest.raises(TypeError, match="must be a Python callable"):
        Dataset.from_generator([1, 2], output_signature=spec)
    with pytest.raises(TypeError, match="output_signature"):
        Dataset.from_generator(lambda: iter([]))


def test_from_generator_accepts_the_tf_tensorspec():
    ds = Dataset.from_generator(lambda: iter([(np.ones(3, np.float32), 1)]),
                                output_signature=(tf.TensorSpec(shape=(3,), dtype=tf.float32),
                                                  tf.TensorSpec(shape=(), dtype=tf.int32)))
    x, y = next(iter(ds))
    assert x.shape == (3,) and int(y) == 1 and y.dtype == np.int32
    assert tf.TensorSpec is TensorSpec


# --- combining -----------------------------------------------------------------------------------------------------
def test_zip_as_tensorflow_documents_it():
    a, b = Dataset.range(1, 4), Dataset.range(4, 7)
    assert values(Dataset.zip(a, b)) == [(1, 4), (2, 5), (3, 6)]
    assert values(Dataset.zip(b, a)) == [(4, 1), (5, 2), (6, 3)]
    c = Dataset.range(7, 13).batch(2)
    assert values(Dataset.zip(a, b, c)) == [(1, 4, [7, 8]), (2, 5, [9, 10]), (3, 6, [11, 12])]
    d = Dataset.range(13, 15)
    assert values(Dataset.zip(a, d)) == [(1, 13), (2, 14)] and len(Dataset.zip(a, d)) == 2
    assert values(Dataset.zip(datasets={"x": a, "y": b})) == [{"x": 1, "y": 4}, {"x": 2, "y": 5}, {"x": 3, "y": 6}]
    assert values(Dataset.zip((a, (b, d)))) == [(1, (4, 13)), (2, (5, 14))]
    with pytest.raises(TypeError, match="at least one dataset"):
        Dataset.zip()
    with pytest.raises(TypeError, match="structure of `tf.data.Dataset`"):
        Dataset.zip(a, [1, 2])


def test_zip_of_arrays_batches_like_from_tensor_slices():
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    zipped = Dataset.zip((Dataset.from_tensor_slices(x), Dataset.from_tensor_slices(y))).batch(4)
    direct = Dataset.from_tensor_slices((x, y)).batch(4)
    assert values(zipped) == values(direct) and len(zipped) == 2
    shuffled = Dataset.zip((Dataset.from_tensor_slices(y).shuffle(6, seed=1), Dataset.from_tensor_slices(y)))
    assert sorted(int(a) for a, _ in shuffled) == list(range(6))


def test_zip_cardinality_follows_tensorflow():
    finite, endless, unknown = Dataset.range(3), Dataset.range(2).repeat(), Dataset.range(5).filter(lambda v: v > 1)
    assert int(Dataset.zip(finite, endless).cardinality()) == 3
    assert int(Dataset.zip(endless, endless).cardinality()) == tf.data.INFINITE_CARDINALITY
    assert int(Dataset.zip(finite, unknown).cardinality()) == tf.data.UNKNOWN_CARDINALITY
    assert values(Dataset.zip(finite, endless)) == [(0, 0), (1, 1), (2, 0)]


def test_concatenate_as_tensorflow_documents_it():
    a, b = Dataset.range(1, 4), Dataset.range(4, 8)
    assert values(a.concatenate(b)) == [1, 2, 3, 4, 5, 6, 7] and len(a.concatenate(b)) == 7
    with pytest.raises(TypeError, match="Two datasets to concatenate have different types"):
        a.concatenate(Dataset.zip((a, b)))
    with pytest.raises(TypeError, match=r"tf.int64 and tf.string"):
        a.concatenate(Dataset.from_tensor_slices(["a", "b", "c"]))
    mixed = Dataset.from_tensor_slices(np.zeros((2, 3))).concatenate(Dataset.from_tensor_slices(np.ones((1, 4))))
    assert mixed.element_spec == TensorSpec((None,), tf.float64)
    assert [len(v) for v in values(mixed)] == [3, 3, 4]
    assert int(a.concatenate(a.repeat()).cardinality()) == tf.data.INFINITE_CARDINALITY


def test_enumerate_as_tensorflow_documents_it():
    assert values(Dataset.from_tensor_slices([1, 2, 3]).enumerate(start=5)) == [(5, 1), (6, 2), (7, 3)]
    assert values(Dataset.from_tensor_slices([(7, 8), (9, 10)]).enumerate()) == [(0, [7, 8]), (1, [9, 10])]
    assert values(Dataset.range(3).batch(2).enumerate()) == [(0, [0, 1]), (1, [2])]
    assert len(Dataset.range(3).enumerate()) == 3


# --- batching ------------------------------------------------------------------------------------------------------
def test_batch_and_drop_remainder_as_tensorflow_documents_them():
    assert values(Dataset.range(8).batch(3)) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert values(Dataset.range(8).batch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert Dataset.range(8).batch(3).element_spec == TensorSpec((None,), tf.int64)
    assert Dataset.range(8).batch(3, drop_remainder=True).element_spec == TensorSpec((3,), tf.int64)
    with pytest.raises(ValueError, match="Cannot batch tensors with different shapes in component 0"):
        list(Dataset.range(1, 3).map(lambda x: tf.fill([x], x)).batch(2))


def test_unbatch_as_tensorflow_documents_it():
    elements = [[1, 2, 3], [1, 2], [1, 2, 3, 4]]
    ds = Dataset.from_generator(lambda: iter(elements), tf.int64).unbatch()
    assert values(ds) == [1, 2, 3, 1, 2, 1, 2, 3, 4]
    x, y = np.arange(10).reshape(5, 2), np.arange(5)
    rows = Dataset.from_tensor_slices((x, y)).batch(2).unbatch()
    assert values(rows) == values(Dataset.from_tensor_slices((x, y)))
    assert rows.element_spec == (TensorSpec((2,), tf.int64), TensorSpec((), tf.int64))
    assert int(Dataset.range(6).batch(2, drop_remainder=True).unbatch().cardinality()) == 6
    assert int(Dataset.range(6).batch(2).unbatch().cardinality()) == tf.data.UNKNOWN_CARDINALITY
    with pytest.raises(ValueError, match="scalar components"):
        Dataset.range(3).unbatch()
    uneven = Dataset.from_generator(lambda: iter([(np.zeros(3), np.zeros(2))]),
                                    output_signature=(TensorSpec((None,), tf.float64),) * 2)
    with pytest.raises(ValueError, match="Component 0 had size 3 but component 1 had size 2"):
        list(uneven.unbatch())


def test_rebatch_as_tensorflow_documents_it():
    assert values(Dataset.range(6).batch(2).rebatch(3)) == [[0, 1, 2], [3, 4, 5]]
    assert values(Dataset.range(7).batch(4).rebatch(3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert values(Dataset.range(7).batch(2).rebatch(3, drop_remainder=True)) == [[0, 1, 2], [3, 4, 5]]
    assert values(Dataset.range(8).batch(4).rebatch([2, 1, 1])) == [[0, 1], [2], [3], [4, 5], [6], [7]]


def test_padded_batch_as_tensorflow_documents_it():
    a = Dataset.range(1, 5, output_type=tf.int32).map(lambda x: tf.fill([x], x))
    assert values(a.padded_batch(2)) == [[[1, 0], [2, 2]], [[3, 3, 3, 0], [4, 4, 4, 4]]]
    assert values(a.padded_batch(2, padded_shapes=5)) == [[[1, 0, 0, 0, 0], [2, 2, 0, 0, 0]],
                                                          [[3, 3, 3, 0, 0], [4, 4, 4, 4, 0]]]
    assert values(a.padded_batch(2, padded_shapes=5, padding_values=-1)) == [
        [[1, -1, -1, -1, -1], [2, 2, -1, -1, -1]], [[3, 3, 3, -1, -1], [4, 4, 4, 4, -1]]]
    elements = [([1, 2, 3], [10]), ([4, 5], [11, 12])]
    ds = Dataset.from_generator(lambda: iter(elements), (tf.int32, tf.int32))
    batch = ds.padded_batch(2, padded_shapes=([4], [None]), padding_values=(-1, 100))
    assert values(batch) == [([[1, 2, 3, -1], [4, 5, -1, -1]], [[10, 100], [11, 12]])]
    assert next(batch.as_numpy_iterator())[0].dtype == np.int32
    pairs = Dataset.zip((a, a)).padded_batch(2, padding_values=-1)
    assert values(pairs)[0] == ([[1, -1], [2, 2]], [[1, -1], [2, 2]])
    fixed = a.padded_batch(2, padded_shapes=[5], drop_remainder=True)
    assert fixed.element_spec == TensorSpec((2, 5), tf.int32) and len(values(a.padded_batch(3))) == 2
    with pytest.raises(ValueError, match="smaller size than the input element"):
        list(a.padded_batch(2, padded_shapes=3))
    with pytest.raises(ValueError, match="does not match the structure"):
        ds.padded_batch(2, padded_shapes=[4])


# --- mapping --------------------------------------------------------------------------------------------------------
def test_map_structures_and_element_spec_as_tensorflow_documents_them():
    assert values(Dataset.range(1, 6).map(lambda x: x + 1)) == [2, 3, 4, 5, 6]
    elements = [(1, "foo"), (2, "bar"), (3, "baz")]
    ds = Dataset.from_generator(lambda: elements, (tf.int32, np.str_))
    assert values(ds.map(lambda x_int, y_str: x_int)) == [1, 2, 3]
    spec = Dataset.range(3).map(lambda x: (tf.constant(37.0), tf.constant([1, 2, 3]))).element_spec
    assert spec == (TensorSpec((), tf.float32), TensorSpec((3,), tf.int32))
    nested = Dataset.range(3).map(lambda x: ((37.0, [42, 16]), np.float64(1))).element_spec
    assert nested == ((TensorSpec((), tf.float32), TensorSpec((2,), tf.int32)), TensorSpec((), tf.float64))


def test_flat_map_and_interleave_as_tensorflow_documents_them():
    ds = Dataset.from_tensor_slices([[1, 2, 3], [4, 5, 6], [7, 8, 9]]).flat_map(Dataset.from_tensor_slices)
    assert values(ds) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    expected = [1, 1, 1, 1, 2, 2, 2, 2, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5]
    for parallel in (None, 2, tf.data.AUTOTUNE):
        ds = Dataset.range(1, 6).interleave(lambda x: Dataset.from_tensors(x).repeat(6), cycle_length=2,
                                            block_length=4, num_parallel_calls=parallel)
        assert values(ds) == expected
    once = Dataset.range(3).interleave(lambda x: Dataset.range(x), cycle_length=1)
    assert values(once) == values(Dataset.range(3).flat_map(lambda x: Dataset.range(x))) == [0, 0, 1]
    with pytest.raises(TypeError, match="must return a `Dataset`"):
        list(Dataset.range(2).flat_map(lambda x: x))


def test_window_as_tensorflow_documents_it():
    ds = Dataset.range(7).window(3)
    windows = list(ds)
    assert all(isinstance(w, Dataset) for w in windows) and len(ds) == 3
    assert repr(windows[0]) == "<Dataset element_spec=TensorSpec(shape=(), dtype=tf.int64, name=None)>"
    assert [values(w) for w in ds] == [[0, 1, 2], [3, 4, 5], [6]]
    shifted = Dataset.range(7).window(3, shift=1, drop_remainder=True)
    assert [values(w) for w in shifted] == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]]
    assert len(shifted) == 5
    strided = Dataset.range(7).window(3, shift=1, stride=2, drop_remainder=True)
    assert [values(w) for w in strided] == [[0, 2, 4], [1, 3, 5], [2, 4, 6]] and len(strided) == 3
    assert [values(w) for w in Dataset.range(7).window(3, shift=1)][-2:] == [[5, 6], [6]]
    assert len(Dataset.range(7).window(3, shift=1)) == 7 and len(Dataset.range(7).window(2, shift=4)) == 2
    assert [values(w) for w in Dataset.range(7).window(2, shift=4)] == [[0, 1], [4, 5]]
    pairs = Dataset.from_tensor_slices(([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).window(2)
    assert [(values(x), values(y)) for x, y in pairs] == [([1, 2], [6, 7]), ([3, 4], [8, 9]), ([5], [10])]
    named = Dataset.from_tensor_slices({"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8, 9]}).window(2)
    assert [tf.nest.map_structure(values, w) for w in named] == [{"a": [1, 2], "b": [4, 5], "c": [7, 8]},
                                                                {"a": [3], "b": [6], "c": [9]}]
    batched = shifted.flat_map(lambda x: x.batch(3))
    assert [b.numpy().tolist() for b in batched] == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]]
    assert ds.element_spec == DatasetSpec(TensorSpec((), tf.int64))
    with pytest.raises(TypeError, match="as_numpy_iterator"):
        ds.as_numpy_iterator()
    with pytest.raises(ValueError, match="Window shift must be greater than zero"):
        Dataset.range(3).window(2, shift=0)


# --- selecting ------------------------------------------------------------------------------------------------------
def test_take_skip_shard_filter_repeat_as_tensorflow_documents_them():
    assert values(Dataset.range(10).take(3)) == [0, 1, 2] and values(Dataset.range(10).skip(7)) == [7, 8, 9]
    assert values(Dataset.range(3).skip(-1)) == [] and len(Dataset.range(3).take(-1)) == 3
    a = Dataset.range(10)
    assert values(a.shard(3, 0)) == [0, 3, 6, 9] and values(a.shard(3, 1)) == [1, 4, 7]
    assert values(a.shard(num_shards=3, index=2)) == [2, 5, 8]
    assert [len(a.shard(3, i)) for i in range(3)] == [4, 3, 3]
    shuffled = a.shuffle(10, seed=3)
    assert sorted(v for i in range(3) for v in values(shuffled.shard(3, i).take(10))) != []
    with pytest.raises(ValueError, match="index must be < num_shards"):
        a.shard(2, 2)
    assert values(Dataset.from_tensor_slices([1, 2, 3]).filter(lambda x: x < 3)) == [1, 2]
    assert values(Dataset.from_tensor_slices([1, 2, 3]).filter(lambda x: tf.math.equal(x, 1))) == [1]
    assert values(Dataset.from_tensor_slices([1, 2, 3]).repeat(3)) == [1, 2, 3] * 3
    assert int(Dataset.range(42).repeat().filter(lambda x: True).cardinality()) == tf.data.UNKNOWN_CARDINALITY


def test_counts_can_be_tensors():
    n = Dataset.range(10).cardinality() // 5
    assert values(Dataset.range(10).take(n)) == [0, 1] and values(Dataset.range(10).skip(tf.constant(8))) == [8, 9]
    with pytest.raises(TypeError, match="integer scalar"):
        Dataset.range(3).take(1.5)


# --- reading --------------------------------------------------------------------------------------------------------
def test_reduce_get_single_element_apply_cardinality():
    assert Dataset.range(5).reduce(np.int64(0), lambda x, _: x + 1).numpy() == 5
    assert Dataset.range(5).reduce(np.int64(0), lambda x, y: x + y).numpy() == 10
    total, count = Dataset.from_tensor_slices(([1.0, 2.0], [3.0, 4.0])).reduce(
        (np.float32(0), np.int64(0)), lambda state, pair: (state[0] + pair[0] * pair[1], state[1] + 1))
    assert float(total) == 11.0 and int(count) == 2
    assert int(Dataset.from_tensors(np.int64(7)).get_single_element()) == 7
    with pytest.raises(ValueError, match="more than one element"):
        Dataset.range(2).get_single_element()
    assert values(Dataset.range(100).apply(lambda ds: ds.filter(lambda x: x < 5))) == [0, 1, 2, 3, 4]
    with pytest.raises(TypeError, match="must return a `tf.data.Dataset`"):
        Dataset.range(3).apply(lambda ds: 3)
    card = Dataset.range(42).repeat().cardinality()
    assert bool(card == tf.data.INFINITE_CARDINALITY) and card.numpy() == -1
    assert int(tf.data.experimental.cardinality(Dataset.range(4))) == 4
    assert bool(Dataset.range(3).repeat())  # an endless dataset is truthy though it has no len()


def test_element_spec_of_nested_sources():
    ds = Dataset.from_tensor_slices({"image": np.zeros((4, 28, 28), np.uint8), "label": np.arange(4)})
    assert ds.element_spec == {"image": TensorSpec((28, 28), tf.uint8), "label": TensorSpec((), tf.int64)}
    assert ds.batch(2).element_spec["image"] == TensorSpec((None, 28, 28), tf.uint8)
    assert repr(TensorSpec(None, tf.float32)) == "TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)"


def test_options_merge_and_are_read_only_once_set():
    options = tf.data.Options()
    options.deterministic = False
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    ds = Dataset.range(5).with_options(options).map(lambda x: x * 2)
    assert ds.options().deterministic is False
    assert ds.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    options.deterministic = True  # the dataset kept its own copy
    assert ds.options().deterministic is False
    later = tf.data.Options()
    later.threading.private_threadpool_size = 2
    merged = ds.with_options(later).options()
    assert merged.deterministic is False and merged.threading.private_threadpool_size == 2
    with pytest.raises(ValueError, match="has no effect"):
        ds.options().deterministic = True
    with pytest.raises(AttributeError, match="Cannot set the property"):
        tf.data.Options().not_an_option = 1
    with pytest.raises(TypeError, match="must be of type"):
        tf.data.Options().deterministic = "no"
    assert values(ds) == [0, 2, 4, 6, 8]
    assert tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE == -1


# --- prefetch and threads ----------------------------------------------------------------------------------------
def _data_threads():
    return [t for t in threading.enumerate() if t.name.startswith("chainrule.data")]


def test_prefetch_as_tensorflow_documents_it():
    assert values(Dataset.range(3).prefetch(2)) == [0, 1, 2]
    assert values(Dataset.range(3).prefetch(tf.data.AUTOTUNE)) == [0, 1, 2] and len(Dataset.range(3).prefetch(1)) == 3
    with pytest.raises(ValueError, match="buffer_size"):
        Dataset.range(3).prefetch(-5)


def test_prefetch_makes_the_next_element_while_the_consumer_holds_this_one():
    started = threading.Event()

    def mark(x):
        if int(x) == 1:
            started.set()
        return x

    for ds, overlaps in ((Dataset.range(3).map(mark).prefetch(1), True), (Dataset.range(3).map(mark), False)):
        started.clear()
        iterator = iter(ds)
        next(iterator)  # holding element 0: with prefetch, element 1 is being made meanwhile
        assert started.wait(timeout=0.5 if not overlaps else 10) is overlaps
        iterator.close()
    assert not _data_threads()


def test_prefetch_overlaps_a_slow_map_with_a_slow_consumer():
    def slow(x):
        time.sleep(0.03)
        return x

    def consume(ds):
        began = time.perf_counter()
        for _ in ds:
            time.sleep(0.03)
        return time.perf_counter() - began

    ds = Dataset.range(10).map(slow)
    serial, overlapped = consume(ds), consume(ds.prefetch(2))
    assert overlapped < 0.8 * serial, (serial, overlapped)  # ~0.6 s against ~0.33 s


def test_prefetch_raises_the_pipeline_error_to_the_consumer_and_leaves_no_thread():
    def fail_at_three(x):
        if int(x) == 3:
            raise RuntimeError("bad element 3")
        return x

    seen = []
    with pytest.raises(RuntimeError, match="bad element 3"):
        for x in Dataset.range(10).map(fail_at_three).prefetch(2):
            seen.append(int(x))
    assert seen == [0, 1, 2] and not _data_threads()


def test_a_loop_that_stops_early_stops_the_threads():
    before = threading.active_count()
    ds = Dataset.range(1000).map(lambda x: x * 2, num_parallel_calls=2).prefetch(3).prefetch(2)
    for i, x in enumerate(ds):
        if i == 5:
            break
    assert int(x) == 10 and not _data_threads() and threading.active_count() == before
    endless = Dataset.range(3).repeat().prefetch(2)
    assert [int(v) for v in endless.take(7)] == [0, 1, 2, 0, 1, 2, 0] and not _data_threads()


def test_prefetch_feeds_fit():
    x = np.random.default_rng(0).random((64, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(64, seed=0).batch(16).map(
        lambda a, b: (a * 1.0, b), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(ds, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and history.history["loss"][-1] < history.history["loss"][0]
    assert not _data_threads()


# --- parallel map ---------------------------------------------------------------------------------------------------
def test_parallel_map_keeps_the_order_and_propagates_errors():
    ds = Dataset.range(200).map(lambda x: x * 3, num_parallel_calls=4)
    assert values(ds) == [3 * i for i in range(200)]
    unordered = Dataset.range(50).map(lambda x: x + 1, num_parallel_calls=3, deterministic=False)
    assert sorted(values(unordered)) == list(range(1, 51))

    def fail(x):
        if int(x) == 17:
            raise ValueError("element 17")
        return x

    with pytest.raises(ValueError, match="element 17"):
        list(Dataset.range(40).map(fail, num_parallel_calls=3))
    assert not _data_threads()
    with pytest.raises(ValueError, match="num_parallel_calls"):
        Dataset.range(3).map(lambda x: x, num_parallel_calls=0)


def test_parallel_map_runs_calls_at_once():
    meet = threading.Barrier(3, timeout=10)  # three calls must be running at the same time

    def together(x):
        if int(x) < 3:
            meet.wait()
        return x

    assert values(Dataset.range(12).map(together, num_parallel_calls=3)) == list(range(12))


# --- randomness and the engine's state on worker threads ----------------------------------------------------------
def _noisy(ds):
    return ds.map(lambda x: tf.cast(x, tf.float32) + tf.random.uniform(()))


@pytest.mark.parametrize("make", [lambda ds: _noisy(ds).prefetch(2),
                                  lambda ds: ds.map(lambda x: tf.cast(x, tf.float32) + tf.random.uniform(()),
                                                    num_parallel_calls=3)])
def test_random_draws_on_worker_threads_repeat_with_the_seed_and_leave_the_main_sequence(make):
    def run():
        backend.set_seed(11)
        drawn = values(make(Dataset.range(30)))
        return drawn, backend.rng().random()

    (first, after_first), (second, after_second) = run(), run()
    assert first == second and len(set(first)) == 30
    backend.set_seed(11)
    assert after_first == after_second == backend.rng().random()  # the workers drew from their own generators


def test_no_grad_on_a_worker_thread_does_not_switch_off_gradients_for_the_training_thread():
    in_no_grad, in_tape, left_no_grad = threading.Event(), threading.Event(), threading.Event()

    def hold_no_grad(x):
        if int(x) == 1:
            with tf.no_grad():
                in_no_grad.set()
                assert in_tape.wait(timeout=10)
            left_no_grad.set()
        return x

    w = tf.Variable([2.0])
    iterator = iter(Dataset.range(3).map(hold_no_grad).prefetch(1))
    next(iterator)
    assert in_no_grad.wait(timeout=10)  # the worker is inside no_grad now
    assert (w * w).requires_grad  # ... and this thread still records
    with tf.GradientTape() as tape:
        in_tape.set()
        assert left_no_grad.wait(timeout=10)  # the worker leaves no_grad while this thread is in the tape
        loss = tf.reduce_sum(w * w)
    assert tape.gradient(loss, w).numpy().tolist() == [4.0]
    assert (w * w).requires_grad  # leaving the tape restored this thread's own mode
    assert [int(v) for v in iterator] == [1, 2]


def test_ops_on_a_worker_thread_stay_out_of_the_step_being_traced():
    inside, worked = threading.Event(), threading.Event()
    body_runs = []

    def busy(x):
        if int(x) == 1:
            assert inside.wait(timeout=10)
            tf.reduce_sum(tf.constant([1.0, 2.0]) * 3.0 > 2.0)  # ops, a comparison, a new tensor
            tf.random.uniform((2,))  # a replayed call
            worked.set()
        return tf.cast(x, tf.float32)

    @tf.function
    def step(v):
        body_runs.append(1)
        if not inside.is_set():
            inside.set()
            assert worked.wait(timeout=10)
        return v * 2.0

    outputs = [float(step(v)) for v in Dataset.range(4).map(busy).prefetch(1)]
    assert outputs == [0.0, 2.0, 4.0, 6.0]
    assert len(body_runs) == 2  # traced twice, then replayed: the worker's ops did not spoil the trace
