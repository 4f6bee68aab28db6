"""Saliency maps: vanilla gradients against finite differences, SmoothGrad, and integrated gradients' completeness."""
import numpy as np
import pytest

from chainrule import explain, keras
from chainrule.keras.utils import set_random_seed


@pytest.fixture(scope="module")
def cnn():
    """A small ReLU CNN trained briefly to tell where a bright square sits in an 10x10 image (left or right)."""
    set_random_seed(11)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=256)
    x = rng.uniform(0.0, 0.3, size=(256, 10, 10, 1)).astype("float32")
    for i, label in enumerate(y):
        col = 1 + 5 * label
        x[i, 3:7, col:col + 3, 0] = 0.9
    model = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    return model, x[:16], y[:16]


def test_integrated_gradients_are_complete_within_one_percent(cnn):
    model, x, _ = cnn
    attributions = explain.saliency(model, x, method="integrated_gradients", steps=64)
    assert attributions.shape == x.shape
    error = explain.completeness_error(model, x, attributions)
    assert np.max(error) < 0.01
    # the sum is the output difference, computed independently here
    predicted = model.predict(x, verbose=0)
    target = predicted.argmax(1)
    zero = model.predict(np.zeros_like(x), verbose=0)
    difference = predicted[np.arange(len(x)), target] - zero[np.arange(len(x)), target]
    np.testing.assert_allclose(attributions.reshape(len(x), -1).sum(1), difference, rtol=0.01,
                               atol=1e-3 * np.abs(difference).max())


def test_integrated_gradients_from_another_baseline_and_class(cnn):
    model, x, _ = cnn
    baseline = np.full(x.shape[1:], 0.15, "float32")
    attributions = explain.saliency(model, x, method="integrated_gradients", target=0, baseline=baseline, steps=64)
    assert np.max(explain.completeness_error(model, x, attributions, baseline, target=0)) < 0.01


def test_too_few_steps_warn_about_completeness(cnn):
    model, x, _ = cnn
    with pytest.warns(RuntimeWarning, match="completeness"):
        explain.saliency(model, x, method="integrated_gradients", steps=1, tolerance=1e-4)


def test_vanilla_gradient_matches_finite_differences():
    set_random_seed(12)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(1).normal(size=(4, 5)).astype("float32")
    gradient = explain.saliency(model, x, target=[0, 1, 2, 1])
    h = 1e-2
    for i, k in enumerate([0, 1, 2, 1]):
        for j in range(5):
            up, down = x[i:i + 1].copy(), x[i:i + 1].copy()
            up[0, j] += h
            down[0, j] -= h
            numeric = (model.predict(up, verbose=0)[0, k] - model.predict(down, verbose=0)[0, k]) / (2 * h)
            assert gradient[i, j] == pytest.approx(numeric, abs=2e-4)


def test_smoothgrad_averages_noisy_gradients(cnn):
    model, x, _ = cnn
    vanilla = explain.saliency(model, x)
    np.testing.assert_allclose(explain.saliency(model, x, method="smoothgrad", noise=0.0, samples=3), vanilla,
                               rtol=1e-5, atol=1e-7)
    smooth = explain.saliency(model, x, method="smoothgrad", samples=8, seed=0)
    np.testing.assert_array_equal(smooth, explain.saliency(model, x, method="smoothgrad", samples=8, seed=0))
    assert not np.allclose(smooth, vanilla)


def test_saliency_marks_the_square(cnn):
    """The pixels that matter most are in the bright square the model was trained to locate."""
    model, x, y = cnn
    attributions = np.abs(explain.saliency(model, x, method="integrated_gradients", target=y, steps=32))
    for image, label, attribution in zip(x, y, attributions):
        top = np.unravel_index(np.argmax(attribution[..., 0]), attribution.shape[:2])
        assert image[top[0], top[1], 0] > 0.5 or attribution.max() == 0


def test_bad_arguments(cnn):
    model, x, _ = cnn
    with pytest.raises(ValueError, match="unknown method 'occlusion'"):
        explain.saliency(model, x, method="occlusion")
    with pytest.raises(ValueError, match="target"):
        explain.saliency(model, x, target=1.5)
    with pytest.raises(ValueError, match="steps"):
        explain.saliency(model, x, method="integrated_gradients", steps=0)


def test_reached_from_the_top_level():
    import chainrule

    assert chainrule.explain.saliency is explain.saliency
    assert chainrule.attacks.fgsm.__module__ == "chainrule.attacks"
