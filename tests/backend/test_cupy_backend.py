"""The CuPy backend on a GPU (marked ``gpu``; skipped without CuPy and a visible GPU): the strict lane's ops forward
and backward equal to the NumPy backend's within float32 tolerance, a Dense model's training, moving tensors."""
from __future__ import annotations

import numpy as np
import pytest

from chainrule import backend
from chainrule.backend.cupy_backend import CUPY, gpu_count

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(gpu_count() == 0, reason="needs CuPy (pip install -e '.[gpu]') and a visible GPU")]

strict_lane = pytest.importorskip("tests.backend.test_strict_backend", reason="the strict lane's op table")


@pytest.fixture
def on_gpu():
    before = backend.current()
    backend.set_backend("cupy")
    yield CUPY
    backend.set_backend(before)


@pytest.mark.parametrize("name", sorted(strict_lane.COVERED))
def test_op_on_gpu_equals_numpy(name, on_gpu):
    got, got_grads = strict_lane._run(name, on_gpu.from_host)
    backend.set_backend("numpy")
    want, want_grads = strict_lane._run(name, lambda x: x)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=name)
    for g, w in zip(got_grads, want_grads):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5, err_msg=name)


def test_dense_model_trains_on_gpu_as_on_numpy(on_gpu):
    got_losses, got_weights = strict_lane._train("cupy")
    want_losses, want_weights = strict_lane._train("numpy")
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-4)
    for got, want in zip(got_weights, want_weights):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_tensor_to_cuda_and_back(on_gpu):
    import chainrule as cr

    x = cr.constant([1.0, 2.0]).cpu()
    y = x.to("cuda")
    assert CUPY.owns(y.data) and y.cpu().numpy().tolist() == [1.0, 2.0]
    assert [d.device_type for d in cr.config.list_physical_devices("GPU")] == ["GPU"] * gpu_count()
