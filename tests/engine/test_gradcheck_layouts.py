"""engine/gradcheck.py: the finite-difference check perturbs inputs of any memory layout (a transposed or otherwise
non-C-ordered array used to be copied in its own order, so the flat view it perturbed was a copy: every finite
difference came out zero)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.engine.gradcheck import check_gradients


def test_a_fortran_ordered_input_is_checked_like_a_c_ordered_one():
    x = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 4)))
    assert check_gradients(lambda t: cr.exp(t) * 2.0, x)
    assert check_gradients(lambda t: cr.exp(t) * 2.0, np.moveaxis(np.ones((2, 3, 4)), 0, -1))


def test_a_wrong_backward_is_still_caught_for_a_transposed_input():
    x = np.random.default_rng(1).standard_normal((4, 3)).T

    def doubled_gradient(t):
        return cr.stop_gradient(t) * t + cr.stop_gradient(t * t)  # value t², gradient t (half the true 2t)

    with pytest.raises(AssertionError, match="finite differences give"):
        check_gradients(doubled_gradient, x)
