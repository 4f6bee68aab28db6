"""Small synthetic stand-in for ``keras.datasets.mnist.load_data()`` (no download).

The programs in this folder load MNIST; here they load this instead: uint8 images of shape
``(n, 28, 28)`` with values 0..255 and uint8 labels, like MNIST, but few of them and made
from ``num_classes`` fixed stroke patterns (about 120 lit pixels each, like a digit) with
random intensities and a few noise pixels, so a small model separates the classes in a
couple of epochs.
"""

import numpy as np


def _templates(num_classes):
    rng = np.random.default_rng(1234)
    templates = np.zeros((num_classes, 28, 28), dtype=bool)
    for c in range(num_classes):
        # A random walk ("stroke") in the central 20x20 area, 3 pixels wide.
        r, col = rng.integers(8, 20, size=2)
        for _ in range(60):
            templates[c, r - 1 : r + 2, col - 1 : col + 2] = True
            r = int(np.clip(r + rng.integers(-1, 2) * 1, 5, 22))
            col = int(np.clip(col + rng.integers(-1, 2) * 1, 5, 22))
    return templates


def _images(labels, templates, rng):
    n = len(labels)
    lit = templates[labels]
    intensity = rng.uniform(0.6, 1.0, size=(n, 28, 28))
    images = np.where(lit, intensity * 255.0, 0.0)
    # A few noise pixels per image.
    noise = rng.random((n, 28, 28)) < 0.02
    images = np.where(noise & ~lit, rng.uniform(0, 255.0, size=(n, 28, 28)), images)
    return images.round().astype(np.uint8)


def load_data(n_train=512, n_test=128, num_classes=3, seed=0):
    """Returns ``(x_train, y_train), (x_test, y_test)`` shaped like MNIST's, but small."""
    rng = np.random.default_rng(seed)
    templates = _templates(num_classes)
    y_train = rng.permutation(np.arange(n_train) % num_classes).astype(np.uint8)
    y_test = rng.permutation(np.arange(n_test) % num_classes).astype(np.uint8)
    x_train = _images(y_train, templates, rng)
    x_test = _images(y_test, templates, rng)
    return (x_train, y_train), (x_test, y_test)
