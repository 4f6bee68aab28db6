"""Fashion-MNIST (Zalando), as ``keras.datasets.fashion_mnist``: the same files and layout as MNIST, 10 clothing
classes (0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot).

Sources after the cache: Debian's package ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``),
then HTTPS mirrors. Each file must match the SHA-256 of the original, uncompressed IDX file.

>>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
>>> x_test.shape  # doctest: +SKIP
(10000, 28, 28)
"""
from __future__ import annotations

from collections.abc import Sequence

from chainrule.data.datasets.mnist import Splits, load_splits
from chainrule.data.datasets.sources import Folder, Mirror, Source

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")
SHA256 = {  # of the uncompressed IDX files
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
SYSTEM_FOLDER = "/usr/share/datasets/fashion-mnist"  # where Debian's dataset-fashion-mnist puts the .gz files
MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras's
    "https://fashion-mnist.s3.eu-central-1.amazonaws.com/",  # Zalando Research's bucket
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",  # the upstream repository
)


def default_sources() -> list[Source]:
    """The system copy, then the mirrors."""
    return [Folder(SYSTEM_FOLDER), *map(Mirror, MIRRORS)]


def load_data(sources: Sequence[Source] | None = None) -> Splits:
    """``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28), (60000,), (10000, 28, 28),
    (10000,), read-only (copy before changing them in place). ``sources`` replaces the ones tried after the cache."""
    return load_splits("fashion-mnist", SHA256, default_sources() if sources is None else sources)
