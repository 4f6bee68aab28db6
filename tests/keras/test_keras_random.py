"""keras.random (chainrule/keras/random.py): Keras 3's seeding rules (int seeds stateless, SeedGenerator states
advancing, None from the global generator that set_random_seed reseeds), distribution sanity on 10^5 draws, dropout
and shuffle, errors, and draws inside traced steps."""
import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.engine.tracer import TracedFunction
from chainrule.keras import random

N = 100_000


def test_an_int_seed_gives_the_same_values_on_every_call():
    a = random.normal((3, 4), seed=7).numpy()
    b = random.normal((3, 4), seed=7).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, random.normal((3, 4), seed=8).numpy())
    np.testing.assert_array_equal(random.uniform((5,), seed=3).numpy(), random.uniform((5,), seed=3).numpy())


def test_an_int_seed_draws_what_keras_numpy_backend_draws():
    # Keras's NumPy backend: np.random.default_rng(draw_seed(seed)) with draw_seed(7) = uint32 [7, 0]
    rng = np.random.default_rng(np.array([7, 0], dtype=np.uint32))
    np.testing.assert_array_equal(random.normal((2, 3), seed=7).numpy(), rng.normal(0.0, 1.0, (2, 3)).astype("float32"))
    rng = np.random.default_rng(np.array([7, 0], dtype=np.uint32))
    np.testing.assert_array_equal(random.uniform((4,), 1.0, 2.0, seed=7).numpy(),
                                  rng.uniform(1.0, 2.0, (4,)).astype("float32"))


def test_a_seed_generator_advances_at_each_draw_and_repeats_from_the_same_seed():
    gen = random.SeedGenerator(seed=42)
    first, second = random.normal((4,), seed=gen).numpy(), random.normal((4,), seed=gen).numpy()
    assert not np.array_equal(first, second)
    assert gen.state.numpy().tolist() == [42, 2] and not gen.state.trainable
    again = random.SeedGenerator(seed=42)
    np.testing.assert_array_equal(random.normal((4,), seed=again).numpy(), first)
    np.testing.assert_array_equal(random.normal((4,), seed=again).numpy(), second)
    assert random.SeedGenerator.from_config(gen.get_config()).state.numpy().tolist() == [42, 0]


def test_unseeded_draws_differ_and_set_random_seed_repeats_them():
    keras.utils.set_random_seed(123)
    a = [random.normal((3,)).numpy(), random.uniform((3,)).numpy(), random.SeedGenerator().state.numpy()]
    assert not np.array_equal(random.normal((3,)).numpy(), a[0])
    keras.utils.set_random_seed(123)
    b = [random.normal((3,)).numpy(), random.uniform((3,)).numpy(), random.SeedGenerator().state.numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name, draw, mean, std", [
    ("normal", lambda: random.normal((N,), mean=2.0, stddev=3.0, seed=0), 2.0, 3.0),
    ("uniform", lambda: random.uniform((N,), minval=-1.0, maxval=3.0, seed=0), 1.0, 4.0 / np.sqrt(12.0)),
    ("truncated_normal", lambda: random.truncated_normal((N,), mean=1.0, stddev=2.0, seed=0), 1.0, 2.0 * 0.87962566),
    ("randint", lambda: random.randint((N,), 0, 10, seed=0), 4.5, np.sqrt(99.0 / 12.0)),
    ("gamma", lambda: random.gamma((N,), alpha=3.0, seed=0), 3.0, np.sqrt(3.0)),
    ("beta", lambda: random.beta((N,), alpha=2.0, beta=5.0, seed=0), 2.0 / 7.0, np.sqrt(10.0 / (49.0 * 8.0))),
    ("binomial", lambda: random.binomial((N,), counts=10, probabilities=0.3, seed=0), 3.0, np.sqrt(2.1)),
])
def test_distributions_have_the_right_mean_and_spread(name, draw, mean, std):
    values = draw().numpy().astype(np.float64)
    assert values.shape == (N,)
    assert abs(values.mean() - mean) < 5 * std / np.sqrt(N)
    assert abs(values.std() - std) < 0.02 * std


def test_supports_and_dtypes():
    u = random.uniform((N,), minval=-1.0, maxval=3.0, seed=1).numpy()
    assert u.dtype == np.float32 and u.min() >= -1.0 and u.max() < 3.0
    t = random.truncated_normal((N,), mean=1.0, stddev=2.0, seed=1).numpy()
    assert t.min() >= -3.0 and t.max() <= 5.0
    r = random.randint((N,), 2, 5, seed=1).numpy()
    assert r.dtype == np.int32 and set(np.unique(r)) == {2, 3, 4}
    assert random.randint((2,), 0, 3, dtype="int64").dtype == np.int64
    assert random.normal((2,), dtype="float64").dtype == np.float64
    assert random.normal(3).shape == (3,)


def test_categorical_draws_classes_with_softmax_probabilities():
    logits = np.log(np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]]))
    samples = random.categorical(logits, N // 2, seed=0).numpy()
    assert samples.shape == (2, N // 2) and samples.dtype == np.int32
    for row, probs in zip(samples, np.exp(logits)):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / row.size, probs, atol=0.01)


def test_dropout_zeroes_a_fraction_and_keeps_the_expected_value():
    x = np.ones((N,), "float32")
    out = random.dropout(x, 0.3, seed=0).numpy()
    assert abs((out == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(out[out != 0], 1.0 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.02
    np.testing.assert_array_equal(random.dropout(x[:10], 0.0).numpy(), x[:10])
    np.testing.assert_array_equal(random.dropout(x[:10], 1.0).numpy(), np.zeros(10))


def test_dropout_noise_shape_shares_the_mask_and_the_gradient_flows():
    x = tf.Variable(np.ones((4, 6), "float32"))
    with tf.GradientTape() as tape:
        out = random.dropout(x, 0.5, noise_shape=(None, 1), seed=random.SeedGenerator(3))
        loss = tf.reduce_sum(out * 2.0)
    rows = out.numpy()
    assert all(len(set(row)) == 1 for row in rows)  # one draw per row, shared along the columns
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), rows * 2.0)


def test_shuffle_permutes_whole_slices_along_the_axis():
    x = np.arange(12, dtype="float32").reshape(6, 2)
    out = random.shuffle(x, seed=4).numpy()
    assert sorted(map(tuple, out)) == sorted(map(tuple, x)) and not np.array_equal(out, x)
    np.testing.assert_array_equal(random.shuffle(x, seed=4).numpy(), out)
    cols = random.shuffle(np.arange(10).reshape(1, 10), axis=1, seed=0).numpy()
    assert sorted(cols[0]) == list(range(10))


@pytest.mark.parametrize("call, error, message", [
    (lambda: random.normal((2,), seed="a"), ValueError, "Argument `seed` must be either an integer or an instance"),
    (lambda: random.SeedGenerator(seed=1.5), ValueError, "Argument `seed` must be an integer"),
    (lambda: random.SeedGenerator(seed=1, other=2), ValueError, "Unrecognized keyword arguments"),
    (lambda: random.uniform((2,), dtype="int32"), ValueError, "`keras.random.uniform` requires a floating point"),
    (lambda: random.randint((2,), 0, 5, dtype="float32"), ValueError, "`keras.random.randint` requires an integer"),
    (lambda: random.randint((2,), 5, 5), ValueError, "`maxval` \\(5\\) must be greater than `minval`"),
    (lambda: random.normal((2, -1)), ValueError, "Argument `shape` must hold non-negative sizes"),
    (lambda: random.categorical(np.ones(3), 2), ValueError, "`logits` should be a 2-D tensor"),
    (lambda: random.dropout(np.ones(3, "float32"), 1.5), ValueError, "`rate` must be in \\[0, 1\\]"),
    (lambda: random.dropout(np.ones((2, 3), "float32"), 0.5, noise_shape=(2, 2)), ValueError, "`noise_shape`"),
    (lambda: random.dropout(np.ones(3, "int32"), 0.5), TypeError, "`inputs` must be floating point"),
])
def test_bad_arguments_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_traced_step_draws_anew_on_each_replay_from_its_seed_generator():
    gen = random.SeedGenerator(9)

    def step(x):
        return random.dropout(x, 0.5, seed=gen) + random.normal(x.shape, seed=gen)

    traced = TracedFunction(step)
    x = np.ones((200,), "float32")
    outs = [traced(x).numpy() for _ in range(4)]  # traced, traced again, then replayed twice
    assert traced.refusals == {} and len(traced.programs) == 1
    assert all(not np.array_equal(a, b) for a, b in zip(outs, outs[1:]))
    assert gen.state.numpy()[1] == 8  # two draws per step, four steps
    check = random.SeedGenerator(9)  # the fourth step's draws, made eagerly: the replay drew exactly these
    replayed_last = (random.dropout(x, 0.5, seed=_advanced(check, 6)) + random.normal(x.shape, seed=check)).numpy()
    np.testing.assert_array_equal(outs[3], replayed_last)


def _advanced(gen: random.SeedGenerator, draws: int) -> random.SeedGenerator:
    for _ in range(draws):
        gen.next()
    return gen


def test_a_traced_step_with_an_int_seed_repeats_its_draw():
    traced = TracedFunction(lambda x: random.dropout(x, 0.5, seed=5))
    x = np.ones((50,), "float32")
    outs = [traced(x).numpy() for _ in range(3)]
    np.testing.assert_array_equal(outs[0], outs[2])
