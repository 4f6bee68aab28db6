"""Dataset.as_numpy_iterator() returns an iterator with TensorFlow's next() method as well."""

import numpy as np
import pytest

from chainrule.data import Dataset


def test_next_method_and_protocol():
    batches = Dataset.from_tensor_slices((np.arange(6), np.arange(6) * 10)).batch(4).as_numpy_iterator()
    x, y = batches.next()
    np.testing.assert_array_equal(x, [0, 1, 2, 3])
    assert iter(batches) is batches
    x, y = next(batches)
    np.testing.assert_array_equal(y, [40, 50])
    with pytest.raises(StopIteration):
        batches.next()


def test_each_call_starts_a_new_pass():
    ds = Dataset.range(3)
    assert ds.as_numpy_iterator().next() == 0 and ds.as_numpy_iterator().next() == 0
    assert list(ds.as_numpy_iterator()) == [0, 1, 2]
