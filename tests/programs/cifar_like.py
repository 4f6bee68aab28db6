"""Small synthetic stand-in for ``keras.datasets.cifar10/cifar100.load_data()`` (no download).

uint8 images of shape ``(n, 32, 32, 3)`` and uint8 labels of shape ``(n, 1)``, as Keras returns them, but few of
them: each class has its own mean colour and a brighter square in a place of its own, over Gaussian noise, so a
small model separates some classes in an epoch or two.
"""

import numpy as np


def load_data(n_train=256, n_test=64, num_classes=100, size=32, seed=0):
    """Returns ``(x_train, y_train), (x_test, y_test)`` shaped like CIFAR's, but small.

    >>> (x, y), _ = load_data(n_train=4, n_test=2, num_classes=10)
    >>> x.shape, x.dtype, y.shape, y.dtype
    ((4, 32, 32, 3), dtype('uint8'), (4, 1), dtype('uint8'))
    """
    rng = np.random.default_rng(seed)
    colours = rng.uniform(40, 200, size=(num_classes, 3))
    corners = rng.integers(0, size - size // 4, size=(num_classes, 2))

    def make(n):
        y = rng.integers(0, num_classes, size=(n, 1)).astype("uint8")
        x = colours[y[:, 0], None, None, :] + rng.normal(0, 20, size=(n, size, size, 3))
        side = size // 4
        for i, label in enumerate(y[:, 0]):
            r, c = corners[label]
            x[i, r:r + side, c:c + side] += 50
        return np.clip(x, 0, 255).astype("uint8"), y

    return make(n_train), make(n_test)
