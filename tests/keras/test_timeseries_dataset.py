"""keras.utils.timeseries_dataset_from_array: the windows, targets, strides, ranges, shuffling and checks of
Keras 3's docstring examples."""

import numpy as np
import pytest

from chainrule import keras


def test_docstring_example_1_windows_with_sampling_rate_and_stride():
    ds = keras.utils.timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2,
                                                   sequence_stride=3, batch_size=None)
    windows = [w.numpy().tolist() for w in ds]
    assert windows[0] == list(range(0, 20, 2)) and windows[1] == list(range(3, 23, 2))
    assert windows[-1] == list(range(78, 98, 2)) and len(windows) == 27


def test_docstring_example_2_temporal_regression():
    data = np.arange(100.0)
    ds = keras.utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    inputs, targets = next(iter(ds))
    np.testing.assert_array_equal(inputs[0].numpy(), data[:10])
    assert float(targets[0]) == data[10] and inputs.shape == (81, 10)


def test_docstring_example_3_many_to_many_and_ranges():
    x, y = np.arange(100), np.arange(100) * 2
    inputs = keras.utils.timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20)
    targets = keras.preprocessing.timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20)
    for a, b in zip(inputs, targets):
        np.testing.assert_array_equal(a[0].numpy(), x[:20])
        np.testing.assert_array_equal(b[1].numpy(), y[20:40])
    ds = keras.utils.timeseries_dataset_from_array(x, None, sequence_length=5, start_index=10, end_index=30,
                                                   batch_size=100)
    windows = next(iter(ds)).numpy()
    assert windows[0].tolist() == [10, 11, 12, 13, 14] and windows[-1].tolist() == [25, 26, 27, 28, 29]


def test_shuffle_is_a_seeded_permutation_of_the_windows():
    data = np.arange(60.0).reshape(30, 2)
    plain = np.concatenate([b.numpy() for b in keras.utils.timeseries_dataset_from_array(data, None, 4,
                                                                                         batch_size=8)])
    mixed = [np.concatenate([b.numpy() for b in keras.utils.timeseries_dataset_from_array(
        data, None, 4, batch_size=8, shuffle=True, seed=3)]) for _ in range(2)]
    np.testing.assert_array_equal(mixed[0], mixed[1])
    assert not np.array_equal(mixed[0], plain)
    np.testing.assert_array_equal(np.sort(mixed[0][:, 0, 0]), plain[:, 0, 0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(sampling_rate=0), "`sampling_rate` must be higher than 0"),
    (dict(sequence_stride=0), "`sequence_stride` must be higher than 0"),
    (dict(start_index=-1), "`start_index` must be 0 or greater"),
    (dict(start_index=5, end_index=3), "`end_index` must be higher than `start_index`"),
    (dict(end_index=50), "`end_index` must be lower than the length of the data"),
])
def test_bad_arguments_are_refused_as_keras_does(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.timeseries_dataset_from_array(np.arange(20), None, sequence_length=3, **kwargs)
