"""The attention node runs its forward and backward on parts of the leading (batch) axis in threads
(chainrule/backend/threads.py): any split gives the numbers of one part to rounding, with masks, an additive bias,
dropout and inputs that broadcast over the batch (which keep the backward in one part)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.backend import threads
from chainrule.ops.attention import scaled_dot_product_attention

B, N, T, S, D = 6, 2, 5, 7, 3


def _run(case, dtype, split, monkeypatch):
    """The output and every gradient with the leading axis split at ``split``."""
    rng = np.random.default_rng(2)
    key_batch = 1 if case == "broadcast_key" else B
    arrays = {"q": rng.standard_normal((B, N, T, D)), "k": rng.standard_normal((key_batch, N, S, D)),
              "v": rng.standard_normal((B, N, S, D))}
    if case == "bias":
        arrays["bias"] = rng.standard_normal((B, N, T, S))
    variables = {name: cr.Variable(a.astype(dtype)) for name, a in arrays.items()}
    mask = variables.get("bias")
    if case == "mask":
        mask = rng.random((B, 1, T, S)) < 0.7
    if case == "shared_mask":
        mask = rng.random((T, S)) < 0.7

    def parts(count, min_rows=None):
        asked.append(count)
        bounds = [0, *(count * point // B for point in split), count]
        return list(zip(bounds[:-1], bounds[1:]))

    asked = []
    monkeypatch.setattr(threads, "parts", parts)
    with cr.GradientTape() as tape:
        out = scaled_dot_product_attention(variables["q"], variables["k"], variables["v"], mask=mask,
                                           is_causal=case == "causal", dropout_rate=0.3 if case == "dropout" else 0.0,
                                           seed=np.random.default_rng(5) if case == "dropout" else None)
        loss = cr.reduce_sum(out * out)
    grads = tape.gradient(loss, list(variables.values()))
    assert asked and set(asked) == {B}, "the node did not split its batch"
    return [out.numpy()] + [g.numpy() for g in grads]


@pytest.mark.numpy_only("checks the NumPy backend's split of the batch over CPU threads")
@pytest.mark.parametrize("case", ["plain", "mask", "shared_mask", "causal", "bias", "dropout", "broadcast_key"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_any_split_of_the_batch_gives_the_same_numbers(case, dtype, monkeypatch):
    whole = _run(case, dtype, [], monkeypatch)
    for split in ([3], [1, 4], [1, 2, 5]):
        for ours, reference in zip(_run(case, dtype, split, monkeypatch), whole):
            scale = np.abs(reference).max()
            np.testing.assert_allclose(ours, reference, rtol=0, atol=scale * (1e-5 if dtype == "float32" else 1e-13))


def test_small_attention_stays_in_one_part():
    # a few hundred scores are less work than a thread's start: the node keeps them in the caller
    assert threads.parts(B, -(-(1 << 16) * B // (B * N * T * S))) == [(0, B)]
