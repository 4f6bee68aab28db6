"""keras.ops.rearrange's anonymous unit axes, as einops: '1' or '()' on the input side drops an axis of size 1, on
the output side adds one (TensorFlow's NMT tutorial: ``einops.rearrange(tokens, 't batch 1 -> batch t')``)."""

import numpy as np
import pytest

from chainrule.keras import ops


def test_unit_axis_dropped_and_added():
    tokens = np.arange(10).reshape(5, 2, 1)
    np.testing.assert_array_equal(ops.rearrange(tokens, "t batch 1 -> batch t").numpy(), tokens[:, :, 0].T)
    np.testing.assert_array_equal(ops.rearrange(tokens[:, :, 0], "t b -> b () t").numpy(), tokens[:, :, 0].T[:, None])
    np.testing.assert_array_equal(ops.rearrange(tokens, "t b () -> (t b)").numpy(), tokens.ravel())


def test_unit_axis_errors():
    with pytest.raises(ValueError, match="anonymous axis .* must have size 1, got size 3"):
        ops.rearrange(np.zeros((5, 3)), "a 1 -> a")
    with pytest.raises(ValueError, match="non-unitary anonymous axes are not supported: '2'"):
        ops.rearrange(np.zeros((5, 2)), "a 2 -> a")
