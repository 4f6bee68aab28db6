"""model.find_learning_rate: the exponential sweep, its stop, its suggestion, and the model left as it was."""
import numpy as np
import pytest

from chainrule import keras
from chainrule.keras.lr_finder import METHODS, suggest
from chainrule.keras.utils import set_random_seed


def linear_regression(scale, seed=0):
    """Inputs N(0, scale^2) in 8 dimensions, exact linear targets, a linear model without bias, SGD on MSE: the
    Hessian of the loss is 2 scale^2 I, so plain gradient descent diverges above the rate 1 / scale^2."""
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(512, 8)) * scale).astype("float32")
    y = (x @ rng.normal(size=(8, 1)) / scale).astype("float32")
    set_random_seed(seed)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=keras.optimizers.SGD(), loss="mse")
    return model, x, y


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_the_sweep_stops_past_the_divergence_rate_and_suggests_below_it(scale):
    model, x, y = linear_regression(scale)
    threshold = 1 / scale ** 2
    found = model.find_learning_rate(x, y, start_lr=1e-6 * threshold, end_lr=1e2 * threshold, num_steps=100,
                                     batch_size=64, seed=0, verbose=0)
    assert found.stopped_early and len(found.lrs) < 100
    assert threshold < found.lrs[-1] < 10 * threshold  # stopped within a decade after the loss began to diverge
    ratios = np.asarray(found.lrs[1:]) / np.asarray(found.lrs[:-1])
    np.testing.assert_allclose(ratios, (1e8) ** (1 / 99), rtol=1e-9)  # exponential steps
    assert found.lrs[0] == pytest.approx(1e-6 * threshold)
    assert found.method == "valley" and found.suggestion == found.suggestions["valley"]
    for name in METHODS:  # every suggestion lies below the divergence, within two decades of it
        assert 1e-2 * threshold < found.suggestions[name] < threshold, (name, found.suggestions)


def test_suggestions_scale_with_the_problem():
    found = {}
    for scale in (1.0, 10.0):
        model, x, y = linear_regression(scale)
        found[scale] = model.find_learning_rate(x, y, start_lr=1e-6 / scale ** 2, end_lr=1e2 / scale ** 2,
                                                batch_size=64, seed=0, verbose=0)
    for name in METHODS:  # inputs 10x larger: the curvature is 100x, every suggestion 100x smaller
        assert found[10.0].suggestions[name] * 100 == pytest.approx(found[1.0].suggestions[name], rel=0.5)


def test_weights_and_optimizer_state_are_restored():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(96, 6)).astype("float32"), rng.integers(0, 3, size=96)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    weights = [w.copy() for w in model.get_weights()]
    optimizer = model.optimizer
    state = {k: np.array(v) for k, v in optimizer.get_state().items()}
    found = model.find_learning_rate(x, y, num_steps=30, batch_size=16, verbose=0)
    assert len(found.lrs) > 5
    assert model.optimizer is optimizer and float(optimizer.learning_rate) == pytest.approx(3e-3)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    after = optimizer.get_state()
    assert after.keys() == state.keys()
    for key in state:
        np.testing.assert_array_equal(state[key], after[key])
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)  # still trains as before
    assert np.isfinite(history.history["loss"][0])


def test_epochs_set_the_number_of_steps_and_the_plot_is_written(tmp_path):
    model, x, y = linear_regression(1.0)
    found = model.find_learning_rate(x[:100], y[:100], epochs=2, batch_size=25, end_lr=1e-2, verbose=0)
    assert len(found.lrs) == 8 and not found.stopped_early
    figure = found.plot(tmp_path / "lr.png")
    assert (tmp_path / "lr.png").stat().st_size > 10_000
    assert figure.axes[0].get_xscale() == "log"


def test_valley_picks_two_thirds_down_the_longest_descent():
    lrs = list(np.logspace(-6, 0, 40))
    losses = [2.0] * 10 + list(np.linspace(2.0, 0.5, 21)[1:]) + [0.6, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 99.0,
                                                                 99.0]
    found = suggest(lrs, losses)
    trimmed = lrs[4:-5]  # fastai skips the first tenth and the last five
    # in the trimmed list the longest falling run has 21 points (a 2.0 of the plateau, then 20 lower values) and
    # ends at index 25, the lowest loss; fastai's start is end - length = 4, its pick start + 7 + 3
    assert found["valley"] == trimmed[14]
    assert found["minimum"] == pytest.approx(lrs[29] / 10)
    assert suggest(lrs[:2], losses[:2]) == {"valley": None, "steep": None, "minimum": None}


@pytest.mark.parametrize("kwargs, message", [
    ({"start_lr": 1.0, "end_lr": 0.1}, "0 < start_lr < end_lr"),
    ({"num_steps": 1}, "num_steps must be a whole number of at least 2"),
    ({"stop_factor": 1.0}, "stop_factor must be above 1"),
    ({"smoothing": 1.0}, "smoothing must be in"),
    ({"method": "median"}, "method must be one of valley, steep, minimum"),
    ({"batch_size": 0}, "batch_size must be"),
])
def test_bad_arguments_are_named(kwargs, message):
    model, x, y = linear_regression(1.0)
    with pytest.raises(ValueError, match=message):
        model.find_learning_rate(x, y, verbose=0, **kwargs)


def test_an_uncompiled_model_is_refused():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(RuntimeError, match="compile"):
        model.find_learning_rate(np.ones((4, 2)), np.ones((4, 1)), verbose=0)


@pytest.mark.mnist
def test_the_seed_cnn_on_mnist_gets_a_suggestion_within_a_decade_of_1e_3():
    from chainrule.cli import data, zoo

    mnist = data.load("mnist")
    set_random_seed(0)
    model = zoo.cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    found = model.find_learning_rate(mnist.x_train[:6400], mnist.y_train[:6400], batch_size=32, num_steps=100,
                                     seed=0, verbose=0)
    assert 1e-4 <= found.suggestion <= 1e-2, found.suggestions
