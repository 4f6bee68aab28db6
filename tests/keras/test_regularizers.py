"""Regularizers: Keras's factors (not halved), differentiable penalties, lookup and configs."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import regularizers
from chainrule.keras.regularizers import L1, L1L2, L2


def test_values_follow_keras():
    w = np.array([[1.0, -2.0], [0.5, 0.0]], np.float32)
    assert float(L2(0.01)(w)) == pytest.approx(0.01 * (1 + 4 + 0.25))
    assert float(L1(0.1)(w)) == pytest.approx(0.1 * 3.5)
    assert float(L1L2(l1=0.1, l2=0.01)(w)) == pytest.approx(0.35 + 0.0525)
    assert float(L1L2()(w)) == 0.0
    assert L2()(w).dtype == np.float32  # no float64 promotion


def test_penalty_is_differentiable():
    w = cr.Variable(np.array([1.5, -2.0, 0.25]))
    (g,) = cr.grad(L1L2(l1=0.1, l2=0.01)(w), [w])
    np.testing.assert_allclose(g.numpy(), 0.1 * np.sign(w.numpy()) + 2 * 0.01 * w.numpy(), rtol=1e-6)
    (g,) = cr.grad(L2(0.5)(w), [w])
    np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


def test_get_names_defaults_and_configs():
    assert isinstance(regularizers.get("l2"), L2) and regularizers.get("l2").l2 == 0.01
    assert regularizers.get("l1").l1 == 0.01
    both = regularizers.get("l1_l2")
    assert (both.l1, both.l2) == (0.01, 0.01)
    assert regularizers.get("L2").l2 == 0.01
    assert regularizers.get(None) is None
    assert regularizers.l2(0.001).l2 == 0.001
    r = L1L2(l1=0.2, l2=0.3)
    assert regularizers.get(r) is r
    again = regularizers.get(regularizers.serialize(r))
    assert isinstance(again, L1L2) and again.get_config() == {"l1": 0.2, "l2": 0.3}
    assert regularizers.get({"class_name": "L2", "config": {"l2": 0.5}}).l2 == 0.5
    fn = lambda x: cr.reduce_sum(x)  # noqa: E731
    assert regularizers.get(fn) is fn
    with pytest.raises(ValueError, match="Could not interpret regularizer"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="non-negative"):
        L2(-0.1)
