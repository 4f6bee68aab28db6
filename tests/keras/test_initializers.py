"""Initializers: shapes, dtypes, Keras's fans and variances, truncation, seeding, lookup."""
import numpy as np
import pytest

from chainrule import backend
from chainrule.keras import initializers
from chainrule.keras.initializers import (Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal,
                                    LecunUniform, Ones, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal,
                                    VarianceScaling, Zeros, compute_fans)


def test_fans_as_keras_computes_them():
    assert compute_fans((784, 10)) == (784, 10)
    assert compute_fans((3, 3, 16, 32)) == (9 * 16, 9 * 32)  # Conv2D kernel (kh, kw, in, out)
    assert compute_fans((5, 8, 4)) == (40, 20)  # Conv1D kernel
    assert compute_fans((7,)) == (7, 7) and compute_fans(()) == (1, 1)


SHAPE = (400, 300)
VARIANCE_CASES = {  # initializer -> expected variance for SHAPE
    GlorotUniform: 2 / (400 + 300), GlorotNormal: 2 / (400 + 300), HeUniform: 2 / 400, HeNormal: 2 / 400,
    LecunUniform: 1 / 400, LecunNormal: 1 / 400,
}


@pytest.mark.parametrize("cls", list(VARIANCE_CASES), ids=lambda c: c.__name__)
def test_variance_scaling_statistics(cls):
    w = cls(seed=1)(SHAPE)
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.mean()) < 0.01 * np.sqrt(VARIANCE_CASES[cls]) * 10
    assert w.var() == pytest.approx(VARIANCE_CASES[cls], rel=0.02)
    if "Uniform" in cls.__name__:
        limit = np.sqrt(3 * VARIANCE_CASES[cls])
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    else:  # truncated at two (pre-correction) standard deviations
        assert np.abs(w).max() <= 2 * np.sqrt(VARIANCE_CASES[cls]) / 0.87962566103423978 + 1e-6


def test_conv_kernel_variance_uses_receptive_field():
    w = HeNormal(seed=0)((3, 3, 64, 32))
    assert w.var() == pytest.approx(2 / (9 * 64), rel=0.03)


def test_random_and_constant_initializers():
    n = RandomNormal(mean=1.0, stddev=2.0, seed=0)((200_00,))
    assert n.mean() == pytest.approx(1.0, abs=0.05) and np.std(n) == pytest.approx(2.0, rel=0.03)
    u = RandomUniform(-0.2, 0.6, seed=0)((20_000,))
    assert u.min() >= -0.2 and u.max() < 0.6 and u.mean() == pytest.approx(0.2, abs=0.01)
    t = TruncatedNormal(stddev=0.5, seed=0)((20_000,))
    assert np.abs(t).max() <= 1.0 and np.std(t) == pytest.approx(0.5 * 0.8796, rel=0.03)
    assert np.std(RandomNormal()((10, 10))) == pytest.approx(0.05, rel=0.3)
    np.testing.assert_array_equal(Zeros()((2, 3)), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(Ones()((2,), dtype="float64"), np.ones(2))
    assert Constant(3.5)((2, 2)).dtype == np.float32 and np.all(Constant(3.5)((2, 2)) == 3.5)


@pytest.mark.parametrize("dtype", ["float32", "float64", np.float64])
def test_dtypes(dtype):
    for init in (GlorotUniform(), HeNormal(), RandomNormal(), RandomUniform(), TruncatedNormal(), Orthogonal()):
        assert init((4, 5), dtype=dtype).dtype == np.dtype(dtype)
    with pytest.raises(TypeError):
        GlorotUniform()((2, 2), dtype="int32")


def test_seeding_is_reproducible(monkeypatch):
    monkeypatch.setattr(backend, "_rng", backend.rng())  # put the shared generator back afterwards
    np.testing.assert_array_equal(GlorotUniform(seed=7)((5, 5)), GlorotUniform(seed=7)((5, 5)))
    init = HeNormal(seed=3)
    np.testing.assert_array_equal(init((4, 4)), init((4, 4)))  # a seeded initializer repeats itself
    assert not np.array_equal(GlorotUniform(seed=1)((5, 5)), GlorotUniform(seed=2)((5, 5)))
    backend.set_seed(123)
    first = [GlorotUniform()((3, 3)), RandomNormal()((3,))]
    backend.set_seed(123)
    again = [GlorotUniform()((3, 3)), RandomNormal()((3,))]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    unseeded = GlorotUniform()
    assert not np.array_equal(unseeded((3, 3)), unseeded((3, 3)))  # draws move the shared generator on


def test_orthogonal():
    q = Orthogonal(gain=2.0, seed=0)((6, 4))
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(4), atol=1e-5)
    wide = Orthogonal(seed=0)((3, 5))
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-5)


def test_get_serialize_and_configs():
    assert isinstance(initializers.get("glorot_uniform"), GlorotUniform)
    assert isinstance(initializers.get("GlorotUniform"), GlorotUniform)
    assert isinstance(initializers.get("he_normal"), HeNormal)
    assert isinstance(initializers.get("zeros"), Zeros) and isinstance(initializers.get("ones"), Ones)
    assert isinstance(initializers.get("uniform"), RandomUniform)
    assert initializers.get(None) is None
    init = HeUniform(seed=4)
    assert initializers.get(init) is init
    assert isinstance(initializers.get(GlorotNormal), GlorotNormal)
    fn = lambda shape, dtype=None: np.zeros(shape)  # noqa: E731
    assert initializers.get(fn) is fn
    config = initializers.serialize(RandomNormal(0.5, 0.1, seed=3))
    assert config == {"class_name": "RandomNormal", "config": {"mean": 0.5, "stddev": 0.1, "seed": 3}}
    again = initializers.get(config)
    np.testing.assert_array_equal(again((3,)), RandomNormal(0.5, 0.1, seed=3)((3,)))
    assert initializers.get({"class_name": "VarianceScaling",
                             "config": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform"}}).mode == "fan_out"
    assert GlorotUniform(seed=1).get_config() == {"seed": 1}
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        initializers.get("glorot_uniformm")
    with pytest.raises(ValueError, match="mode"):
        VarianceScaling(mode="fan_sum")
