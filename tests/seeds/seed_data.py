"""Data for the seed programs: slices of the real MNIST (through the loader's cache) and a synthetic stand-in with
MNIST's shapes and dtypes (uint8 28x28 images, integer labels 0-9) that a small model learns in a few steps."""
import numpy as np


def mnist_slices(n_train: int, n_test: int):
    """The first ``n_train`` training and ``n_test`` test images and labels of the real MNIST."""
    from chainrule.data.datasets import mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


def synthetic_mnist(n_train: int, n_test: int, seed: int = 0):
    """Ten random blob prototypes; each image is its class's prototype, shifted by up to a pixel, plus noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    prototypes = np.zeros((10, 28, 28))
    for digit in range(10):
        for _ in range(4):
            cy, cx = rng.uniform(6, 22, size=2)
            prototypes[digit] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / rng.uniform(6, 14))
    prototypes /= prototypes.max(axis=(1, 2), keepdims=True)

    def draw(n):
        labels = rng.integers(0, 10, n)
        images = prototypes[labels]
        shifts = rng.integers(-1, 2, size=(n, 2))
        images = np.stack([np.roll(img, tuple(s), axis=(0, 1)) for img, s in zip(images, shifts)])
        images = np.clip(images + rng.normal(0, 0.15, images.shape), 0, 1)
        return (images * 255).astype(np.uint8), labels.astype(np.uint8)

    return draw(n_train), draw(n_test)


def accuracy(model, x, y_onehot_or_ids) -> float:
    """Share of argmax predictions equal to the labels (one-hot rows or class ids)."""
    y = np.asarray(y_onehot_or_ids)
    ids = y.argmax(axis=1) if y.ndim > 1 else y
    predictions = model.predict(x, verbose=0)
    return float((predictions.argmax(axis=1) == ids).mean())


def run_program(source: str, name: str, **names) -> dict:
    """Run a seed's program text with ``names`` (the reader's variables) defined; return its namespace."""
    namespace = dict(names)
    exec(compile(source, name, "exec"), namespace)
    return namespace
