"""The fused recurrent ops run their steps on parts of the batch's rows in threads (chainrule/backend/threads.py):
any split gives the numbers of one part to rounding (BLAS may sum a smaller product in another order), masks
included; the float32 step kernels' tanh stays within float32
rounding of the exact one."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import kernels, threads
from chainrule.backend.kernels import recurrent as step_kernels
from chainrule.ops.recurrent import gru, lstm, simple_rnn

pytestmark = pytest.mark.numpy_only("splits the rows over CPU threads and checks the numba kernels' tanh")

B, T, D, H = 10, 6, 5, 4
OPS = {"lstm": (lstm, 4, 2), "gru": (gru, 3, 1), "gru_reset_before": (gru, 3, 1), "simple_rnn": (simple_rnn, 1, 1)}


def _run(kind, dtype, split, monkeypatch, masked, go_backwards):
    """Outputs, final states and every gradient of the op with the rows split at ``split``."""
    fn, gates, states = OPS[kind]
    rng = np.random.default_rng(1)
    reset_after = kind != "gru_reset_before"
    bias_shape = (2, 3 * H) if kind == "gru" else (gates * H,)
    arrays = [rng.standard_normal((B, T, D)), *(rng.standard_normal((B, H)) for _ in range(states)),
              rng.standard_normal((D, gates * H)) * 0.5, rng.standard_normal((H, gates * H)) * 0.5,
              rng.standard_normal(bias_shape) * 0.5]
    variables = [cr.Variable(a.astype(dtype)) for a in arrays]
    mask = None
    if masked:
        lengths = rng.integers(1, T + 1, B)
        mask = np.arange(T)[None, :] < lengths[:, None]
    def parts(count, min_rows=None):  # the split's points scaled to any range the op splits (rows, steps x rows, columns)
        bounds = [0, *(count * point // B for point in split), count]
        return list(zip(bounds[:-1], bounds[1:]))

    monkeypatch.setattr(threads, "parts", parts)
    extra = {"reset_after": reset_after} if kind.startswith("gru") else {}
    with cr.GradientTape() as tape:
        outs = fn(variables[0], *variables[1:1 + states], *variables[1 + states:], mask=mask,
                  go_backwards=go_backwards, **extra)
        loss = sum(cr.reduce_sum(o * o) for o in outs)
    grads = tape.gradient(loss, variables)
    return [o.numpy() for o in outs] + [g.numpy() for g in grads]


@pytest.mark.parametrize("kind", sorted(OPS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("masked,go_backwards", [(False, False), (True, False), (True, True)])
def test_any_split_of_the_rows_gives_the_same_numbers(kind, dtype, masked, go_backwards, monkeypatch):
    whole = _run(kind, dtype, [], monkeypatch, masked, go_backwards)
    for split in ([5], [3, 4], [1, 2, 9]):
        for ours, reference in zip(_run(kind, dtype, split, monkeypatch, masked, go_backwards), whole):
            scale = np.abs(reference).max()
            np.testing.assert_allclose(ours, reference, rtol=0, atol=scale * (1e-5 if dtype == "float32" else 1e-13))


@pytest.mark.skipif(not kernels.enabled(), reason="numba is off")
def test_the_float32_tanh_of_the_step_kernels_is_within_float32_rounding():
    x = np.linspace(-20, 20, 400_001).astype(np.float32)
    acts = np.zeros((1, x.size), np.float32)
    h = np.empty((1, x.size), np.float32)
    step_kernels.simple_forward_step(acts, x[None, :], np.zeros(x.size, np.float32), h)
    exact = np.tanh(x.astype(np.float64))
    assert np.abs(h[0] - exact).max() < 4e-7  # a few float32 ulps (6e-8 at 1), as Eigen's and XLA's tanh
    assert np.all(np.abs(h[0]) <= 1)
    np.testing.assert_array_equal(h[0], -h[0][::-1])  # odd
