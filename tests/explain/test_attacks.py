"""FGSM and PGD on a small trained CNN give PyTorch's adversarial accuracy with the same weights, data and eps."""
import numpy as np
import pytest

from chainrule import attacks, keras
from chainrule.keras.utils import set_random_seed

torch = pytest.importorskip("torch")
F = torch.nn.functional


def blobs(count: int, seed: int):
    """12x12 grayscale images in [0, 1]: a bright 4x4 blob in one of four quadrants (the class) on a noisy
    background."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=count)
    x = rng.uniform(0.0, 0.35, size=(count, 12, 12, 1))
    for i, label in enumerate(y):
        row, col = 6 * (label // 2) + rng.integers(0, 3), 6 * (label % 2) + rng.integers(0, 3)
        x[i, row:row + 4, col:col + 4, 0] = rng.uniform(0.55, 1.0, size=(4, 4))
    return x.astype("float32"), y.astype("int64")


@pytest.fixture(scope="module")
def trained():
    set_random_seed(7)
    model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Conv2D(8, 3, activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = blobs(512, seed=1)
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    x_test, y_test = blobs(200, seed=2)
    assert attacks.accuracy(model, x_test, y_test) > 0.9  # a model worth attacking
    return model, x_test, y_test


def torch_twin(model):
    """The same CNN in PyTorch with the same weights; returns its logits function (NHWC input)."""
    conv_k, conv_b, d1_k, d1_b, d2_k, d2_b = [torch.tensor(w, dtype=torch.float32) for w in model.get_weights()]
    conv_w = conv_k.permute(3, 2, 0, 1)  # HWIO -> OIHW

    def logits(x_nhwc):
        h = F.relu(F.conv2d(x_nhwc.permute(0, 3, 1, 2), conv_w, conv_b))
        h = F.max_pool2d(h, 2).permute(0, 2, 3, 1).flatten(1)  # flatten channels last, as Keras does
        return F.relu(h @ d1_k + d1_b) @ d2_k + d2_b
    return logits


def torch_fgsm(logits, x, y, eps):
    x = x.clone().requires_grad_(True)
    F.cross_entropy(logits(x), y, reduction="sum").backward()
    return (x + eps * x.grad.sign()).clamp(0.0, 1.0).detach()


def torch_pgd(logits, x, y, eps, alpha, steps, start):
    adversarial = (x + start).clamp(0.0, 1.0)
    for _ in range(steps):
        adversarial = adversarial.clone().requires_grad_(True)
        F.cross_entropy(logits(adversarial), y, reduction="sum").backward()
        adversarial = adversarial + alpha * adversarial.grad.sign()
        adversarial = torch.min(torch.max(adversarial, x - eps), x + eps).clamp(0.0, 1.0).detach()
    return adversarial


def torch_accuracy(logits, x, y):
    with torch.no_grad():
        return float((logits(x).argmax(1) == y).float().mean())


@pytest.mark.parametrize("eps", [0.15, 0.2])
def test_fgsm_matches_pytorch(trained, eps):
    model, x, y = trained
    adversarial = attacks.fgsm(model, x, y, eps)
    logits = torch_twin(model)
    expected = torch_fgsm(logits, torch.tensor(x), torch.tensor(y), eps).numpy()
    assert np.mean(np.isclose(adversarial, expected, atol=1e-5)) > 0.999  # signs of near-zero gradients may differ
    ours, theirs = attacks.accuracy(model, adversarial, y), torch_accuracy(logits, torch.tensor(expected),
                                                                           torch.tensor(y))
    assert abs(ours - theirs) <= 1 / len(y)
    assert ours < attacks.accuracy(model, x, y)  # the attack works
    assert np.max(np.abs(adversarial - x)) <= eps + 1e-6 and adversarial.min() >= 0 and adversarial.max() <= 1


def test_pgd_matches_pytorch_from_the_same_start(trained):
    model, x, y = trained
    eps, alpha, steps = 0.15, 0.04, 7
    ours = attacks.pgd(model, x, y, eps, alpha=alpha, steps=steps, random_start=False)
    logits = torch_twin(model)
    theirs = torch_pgd(logits, torch.tensor(x), torch.tensor(y), eps, alpha, steps, torch.zeros(x.shape)).numpy()
    assert np.mean(np.isclose(ours, theirs, atol=1e-5)) > 0.99
    ours_accuracy = attacks.accuracy(model, ours, y)
    assert abs(ours_accuracy - torch_accuracy(logits, torch.tensor(theirs), torch.tensor(y))) <= 2 / len(y)
    assert ours_accuracy <= attacks.accuracy(model, attacks.fgsm(model, x, y, eps), y)  # stronger than FGSM


def test_pgd_with_random_start_stays_in_the_ball_and_is_repeatable(trained):
    model, x, y = trained
    eps = 0.15
    first = attacks.pgd(model, x, y, eps, steps=5, seed=3)
    again = attacks.pgd(model, x, y, eps, steps=5, seed=3)
    np.testing.assert_array_equal(first, again)
    assert np.max(np.abs(first - x)) <= eps + 1e-6 and first.min() >= 0.0 and first.max() <= 1.0
    # PyTorch from the same random start lands on the same accuracy
    start = np.random.default_rng(3).uniform(-eps, eps, size=x.shape).astype("float32")
    logits = torch_twin(model)
    theirs = torch_pgd(logits, torch.tensor(x), torch.tensor(y), eps, 2.5 * eps / 5, 5, torch.tensor(start))
    assert abs(attacks.accuracy(model, first, y) - torch_accuracy(logits, theirs, torch.tensor(y))) <= 2 / len(y)


def test_inputs_are_left_alone_and_eps_zero_changes_nothing(trained):
    model, x, y = trained
    copy = x.copy()
    np.testing.assert_array_equal(attacks.fgsm(model, x, y, 0.0), x)
    np.testing.assert_array_equal(x, copy)


def test_one_hot_labels_and_targeted_attack(trained):
    model, x, y = trained
    one_hot = np.eye(4, dtype="float32")[y]
    ids, rows = attacks.loss_gradient(model, x, y), attacks.loss_gradient(model, x, one_hot)
    np.testing.assert_allclose(rows, ids, rtol=1e-3, atol=1e-6)  # float32 rounding of p - 1 where p is near 1
    goal = (y + 1) % 4
    moved = attacks.pgd(model, x, goal, 0.3, steps=10, random_start=False, targeted=True)
    predicted = model.predict(moved, verbose=0).argmax(1)
    assert np.mean(predicted == goal) > np.mean(model.predict(x, verbose=0).argmax(1) == goal)


def test_bad_arguments(trained):
    model, x, y = trained
    with pytest.raises(ValueError, match="eps"):
        attacks.fgsm(model, x, y, -0.1)
    with pytest.raises(ValueError, match="same number of examples"):
        attacks.fgsm(model, x, y[:3], 0.1)
    with pytest.raises(ValueError, match="steps"):
        attacks.pgd(model, x, y, 0.1, steps=0)
