"""End to end against PyTorch: the seed CNN and the seed MLP (784-10-10), built in chainrule and in torch with the
same initial weights, trained 50 steps on the same batches with SGD+momentum and with Adam, end with the same
weights (to about 1e-4).

chainrule trains through ``model.fit`` (shuffle off, so the batches are the rows in order): the whole Keras path
(adapter, train step, loss, backprop, optimizer) is under test. Layouts: Conv2D kernels are HWIO in chainrule and
OIHW in torch, Dense kernels (in, out) against Linear's (out, in); the CNN flattens NHWC in chainrule, so the torch
model permutes to NHWC before flattening. Loss: CategoricalCrossentropy on the softmax output in chainrule,
``cross_entropy`` on the logits in torch. Adam: Keras's formula (epsilon added to sqrt(v) before the bias correction
of the step size) differs from torch's, so the torch side runs a transcription of Keras's Adam.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from chainrule import keras  # noqa: E402
from chainrule.keras import layers  # noqa: E402

STEPS, BATCH = 50, 8


def chainrule_cnn():
    return keras.Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def chainrule_mlp():
    return keras.Sequential([layers.Dense(10, activation="relu", input_shape=(784,)),
                             layers.Dense(10, activation="softmax")])


class TorchCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 32, 3)
        self.hidden = torch.nn.Linear(5408, 128)
        self.out = torch.nn.Linear(128, 10)

    def forward(self, x_nhwc):
        x = torch.relu(self.conv(x_nhwc.permute(0, 3, 1, 2)))
        x = torch.nn.functional.max_pool2d(x, 2)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # flatten in chainrule's (NHWC) order
        return self.out(torch.relu(self.hidden(x)))  # logits


class TorchMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(784, 10)
        self.out = torch.nn.Linear(10, 10)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def torch_layout(weights: list[np.ndarray]) -> list[np.ndarray]:
    """chainrule's get_weights() order and layouts -> torch parameter order and layouts."""
    out = []
    for w in weights:
        if w.ndim == 4:
            out.append(w.transpose(3, 2, 0, 1))  # HWIO -> OIHW
        elif w.ndim == 2:
            out.append(w.T)  # (in, out) -> (out, in)
        else:
            out.append(w)
    return out


def copy_into_torch(module, weights):
    with torch.no_grad():
        for param, value in zip(module.parameters(), torch_layout(weights)):
            assert tuple(param.shape) == value.shape
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def keras_adam_step(params, state, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras 3's Adam, transcribed: m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
    w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)."""
    state["t"] += 1
    t = state["t"]
    alpha = lr * (1 - beta_2 ** t) ** 0.5 / (1 - beta_1 ** t)
    with torch.no_grad():
        for p in params:
            m, v = state.setdefault(id(p), (torch.zeros_like(p), torch.zeros_like(p)))
            g = p.grad
            m += (g - m) * (1 - beta_1)
            v += (g * g - v) * (1 - beta_2)
            p -= alpha * m / (v.sqrt() + epsilon)


def data(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.random((STEPS * BATCH, *shape), dtype=np.float32)
    labels = rng.integers(0, 10, STEPS * BATCH)
    return x, labels


def train_both(make_chainrule, make_torch, input_shape, optimizer: str, seed: int):
    keras.utils.set_random_seed(seed)
    model = make_chainrule()
    initial = model.get_weights()
    x, labels = data(input_shape, seed)
    onehot = keras.utils.to_categorical(labels, 10)

    reference = make_torch()
    copy_into_torch(reference, initial)
    params = list(reference.parameters())
    if optimizer == "sgd":
        model.compile(keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), keras.losses.CategoricalCrossentropy())
        torch_opt = torch.optim.SGD(params, lr=0.05, momentum=0.9)
        step = torch_opt.step
    else:
        model.compile(keras.optimizers.Adam(learning_rate=1e-3), keras.losses.CategoricalCrossentropy())
        state = {"t": 0}
        step = lambda: keras_adam_step(params, state)  # noqa: E731

    history = model.fit(x, onehot, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)

    torch_losses = []
    for i in range(STEPS):
        xb = torch.from_numpy(x[i * BATCH:(i + 1) * BATCH])
        yb = torch.from_numpy(labels[i * BATCH:(i + 1) * BATCH])
        for p in params:
            p.grad = None
        loss = torch.nn.functional.cross_entropy(reference(xb), yb)
        loss.backward()
        step()
        torch_losses.append(loss.item())

    assert int(model.optimizer.iterations) == STEPS
    assert history.history["loss"][0] == pytest.approx(np.mean(torch_losses), rel=1e-4)
    final = model.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(initial, final))  # it did train
    for got, want in zip(torch_layout(final), (p.detach().numpy() for p in params)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_seed_cnn_trains_like_torch(optimizer):
    train_both(chainrule_cnn, TorchCNN, (28, 28, 1), optimizer, seed=11)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_seed_mlp_trains_like_torch(optimizer):
    train_both(chainrule_mlp, TorchMLP, (784,), optimizer, seed=12)
