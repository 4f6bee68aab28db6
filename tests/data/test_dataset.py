import numpy as np
import pytest

import chainrule as cr
from chainrule import backend
from chainrule.data import AUTOTUNE, INFINITE_CARDINALITY, Dataset
from chainrule.engine.tensor import Tensor


def rows(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    return x, np.arange(n)


def firsts(dataset):
    """The label of every element, epoch order, batches flattened."""
    return [int(v) for _, y in dataset.as_numpy_iterator() for v in np.atleast_1d(y)]


def test_iteration_yields_tuples_of_tensors_like_tensorflow():
    x, y = rows(5)
    for images, labels in Dataset.from_tensor_slices((x, y)).batch(2):
        assert isinstance(images, Tensor) and isinstance(labels, Tensor)
    assert images.shape == (1, 2) and labels.numpy().tolist() == [4]
    np.testing.assert_array_equal(images.numpy(), x[4:])


def test_batches_cover_the_data_in_order():
    x, y = rows(10)
    batches = list(Dataset.from_tensor_slices((x, y)).batch(4).as_numpy_iterator())
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    assert batches[0][0].dtype == np.float32


def test_drop_remainder_and_cardinality():
    ds = Dataset.from_tensor_slices(rows(10))
    assert len(ds.batch(4)) == 3 and len(ds.batch(4, drop_remainder=True)) == 2
    assert [len(x) for x, _ in ds.batch(4, drop_remainder=True).as_numpy_iterator()] == [4, 4]
    assert len(ds.batch(5, drop_remainder=True)) == 2 and len(ds.batch(20)) == 1


def test_single_array_and_dict_structures():
    x, y = rows(4)
    assert [e.shape for e in Dataset.from_tensor_slices(x).batch(3)] == [(3, 2), (1, 2)]
    batch = next(iter(Dataset.from_tensor_slices({"image": x, "label": y}).batch(3)))
    assert set(batch) == {"image", "label"} and isinstance(batch["label"], Tensor)
    assert batch["label"].numpy().tolist() == [0, 1, 2]
    nested = next(iter(Dataset.from_tensor_slices((x, {"y": y}))))
    assert isinstance(nested, tuple) and nested[1]["y"].numpy() == 0


def test_python_lists_are_leaves_with_the_engine_dtype_policy():
    ds = Dataset.from_tensor_slices([[1.0, 2.0], [3.0, 4.0]])
    assert [e.dtype for e in ds] == [np.float32, np.float32]


def test_inputs_must_share_the_first_dimension():
    with pytest.raises(ValueError, match="same first dimension"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="same first dimension"):
        Dataset.from_tensor_slices(np.float32(1.0))


def test_shuffle_is_a_permutation_reproducible_with_a_seed():
    ds = Dataset.from_tensor_slices(rows(50))
    a, b = firsts(ds.shuffle(50, seed=3)), firsts(ds.shuffle(50, seed=3))
    assert sorted(a) == list(range(50)) and a == b and a != list(range(50))
    assert a != firsts(ds.shuffle(50, seed=4))


def test_shuffle_reshuffles_each_epoch_unless_told_not_to():
    ds = Dataset.from_tensor_slices(rows(30))
    reshuffled = ds.shuffle(30, seed=0)
    assert firsts(reshuffled) != firsts(reshuffled)
    fixed = ds.shuffle(30, reshuffle_each_iteration=False)
    assert firsts(fixed) == firsts(fixed)


def test_unseeded_shuffle_follows_backend_set_seed():
    ds = Dataset.from_tensor_slices(rows(40))
    backend.set_seed(7)
    first = firsts(ds.shuffle(40))
    backend.set_seed(7)
    assert firsts(ds.shuffle(40)) == first


def test_a_small_buffer_shuffles_locally_like_tf_data():
    ds = Dataset.from_tensor_slices(rows(200))
    assert firsts(ds.shuffle(1, seed=0)) == list(range(200))
    order = firsts(ds.shuffle(10, seed=0))
    assert sorted(order) == list(range(200)) and order != list(range(200))
    assert all(item < position + 10 for position, item in enumerate(order))  # drawn from the next 10 items


def test_shuffle_then_batch_keeps_rows_together():
    x, y = rows(20)
    for xb, yb in Dataset.from_tensor_slices((x, y)).shuffle(20, seed=1).batch(6).as_numpy_iterator():
        np.testing.assert_array_equal(xb, x[yb])


def test_map_spreads_tuples_over_arguments_and_sees_tensors():
    seen = []

    def scale(image, label):
        seen.append(type(image))
        return image / 2.0, label

    ds = Dataset.from_tensor_slices(rows(4)).map(scale, num_parallel_calls=AUTOTUNE)
    xb, yb = next(ds.batch(4).as_numpy_iterator())
    np.testing.assert_array_equal(xb, rows(4)[0] / 2)
    assert yb.tolist() == [0, 1, 2, 3] and seen == [Tensor] * 4 and len(ds) == 4


def test_map_after_batch_runs_once_per_batch_and_takes_dicts():
    calls = []
    ds = Dataset.from_tensor_slices({"x": np.arange(6)}).batch(4).map(lambda d: calls.append(1) or d["x"] * 10)
    assert [b.tolist() for b in ds.as_numpy_iterator()] == [[0, 10, 20, 30], [40, 50]]
    assert len(calls) == 2


def test_repeat_take_skip():
    ds = Dataset.from_tensor_slices(rows(5))
    assert firsts(ds.repeat(2)) == [0, 1, 2, 3, 4] * 2 and len(ds.repeat(2)) == 10
    assert firsts(ds.take(3)) == [0, 1, 2] and len(ds.take(9)) == 5 and len(ds.take(-1)) == 5
    assert firsts(ds.skip(3)) == [3, 4] and len(ds.skip(9)) == 0 and firsts(ds.skip(9)) == []
    assert firsts(ds.skip(1).take(2)) == [1, 2]
    assert len(ds.repeat(0)) == 0 and firsts(ds.repeat(0)) == []


def test_endless_repeat_is_infinite_until_take():
    ds = Dataset.from_tensor_slices(rows(3)).repeat()
    assert ds.cardinality() == INFINITE_CARDINALITY == -1
    with pytest.raises(TypeError, match="infinite"):
        len(ds)
    assert firsts(ds.take(7)) == [0, 1, 2, 0, 1, 2, 0] and len(ds.take(7)) == 7
    assert len(Dataset.from_tensor_slices(rows(0)).repeat()) == 0


def test_batches_cross_epochs_after_repeat_and_each_epoch_is_reshuffled():
    ds = Dataset.from_tensor_slices(rows(10)).shuffle(10, seed=2).repeat(3)
    epochs = [firsts(ds)[i:i + 10] for i in (0, 10, 20)]
    assert all(sorted(e) == list(range(10)) for e in epochs) and epochs[0] != epochs[1]
    sizes = [len(y) for _, y in ds.batch(4).as_numpy_iterator()]
    assert sizes == [4] * 7 + [2] and len(ds.batch(4)) == 8


def test_prefetch_keeps_the_elements_and_the_count():
    ds = Dataset.from_tensor_slices(rows(3))
    assert firsts(ds.prefetch(AUTOTUNE)) == firsts(ds) == [0, 1, 2] and AUTOTUNE == -1
    assert len(ds.prefetch(1)) == 3


def test_bad_sizes_are_rejected():
    ds = Dataset.from_tensor_slices(rows(3))
    with pytest.raises(ValueError):
        ds.batch(0)
    with pytest.raises(ValueError):
        ds.shuffle(0)
    assert firsts(ds.skip(-1)) == [] and len(ds.skip(-1)) == 0  # TensorFlow: -1 skips the whole dataset


# --- filter and cache ------------------------------------------------------------------------------------------------
def test_filter_keeps_the_elements_the_predicate_accepts_and_makes_the_count_unknown():
    from chainrule.data import UNKNOWN_CARDINALITY

    x, y = np.arange(10), np.arange(10) * 10
    ds = Dataset.from_tensor_slices((x, y)).filter(lambda a, b: a % 3 == 0)
    assert [(int(a), int(b)) for a, b in ds] == [(0, 0), (3, 30), (6, 60), (9, 90)]
    assert ds.cardinality() == UNKNOWN_CARDINALITY
    with pytest.raises(TypeError, match="length is unknown"):
        len(ds)
    batched = ds.batch(3)
    assert batched.cardinality() == UNKNOWN_CARDINALITY
    assert [a.numpy().tolist() for a, _ in batched] == [[0, 3, 6], [9]]
    assert ds.repeat().cardinality() == -1 and ds.take(2).cardinality() == UNKNOWN_CARDINALITY
    assert ds.skip(1).cardinality() == UNKNOWN_CARDINALITY and ds.repeat(2).cardinality() == UNKNOWN_CARDINALITY


def test_filter_after_map_and_batch_sees_the_mapped_elements():
    ds = Dataset.from_tensor_slices(np.arange(8)).map(lambda v: v * 2).batch(2).filter(
        lambda b: cr.reduce_sum(b) > 10)
    assert [b.numpy().tolist() for b in ds] == [[8, 10], [12, 14]]


def test_filter_predicate_must_give_a_boolean_scalar():
    ds = Dataset.from_tensor_slices(np.arange(4)).filter(lambda v: v * 2)
    with pytest.raises(TypeError, match="boolean scalar"):
        list(ds)


def test_fit_takes_a_filtered_dataset_of_unknown_length():
    x = np.random.default_rng(0).random((40, 4), dtype=np.float32)
    y = (x.sum(axis=1) > 2).astype(np.float32)
    ds = Dataset.from_tensor_slices((x, y)).filter(lambda a, b: a[0] > 0.2).batch(8)
    model = cr.keras.Sequential([cr.keras.Input((4,)), cr.keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_cache_runs_the_work_before_it_once_and_replays_it():
    calls = []

    def double(v):
        calls.append(int(v))
        return v * 2

    ds = Dataset.from_tensor_slices(np.arange(5)).shuffle(5, seed=1).map(double).cache()
    first = [int(v) for v in ds]
    assert [int(v) for v in ds] == first and sorted(first) == [0, 2, 4, 6, 8]
    assert len(calls) == 5  # the map (and the shuffle) ran in the first pass only
    assert ds.cardinality() == 5


def test_cache_keeps_nothing_from_a_pass_stopped_early():
    calls = []
    ds = Dataset.from_tensor_slices(np.arange(4)).map(lambda v: calls.append(1) or v).cache()
    for _ in zip(range(2), ds):  # two elements, then stop
        pass
    assert [int(v) for v in ds] == [0, 1, 2, 3]
    assert [int(v) for v in ds] == [0, 1, 2, 3]
    assert len(calls) == 2 + 4


def test_cache_then_shuffle_reshuffles_each_epoch_and_a_file_cache_is_refused():
    ds = Dataset.from_tensor_slices(np.arange(50)).cache().shuffle(50, seed=3)
    assert [int(v) for v in ds] != [int(v) for v in ds]
    with pytest.raises(NotImplementedError, match="cache file"):
        Dataset.from_tensor_slices(np.arange(3)).cache("/tmp/cache")
