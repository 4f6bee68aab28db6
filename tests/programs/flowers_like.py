"""Small synthetic stand-in for ``tfds.load('tf_flowers', split=[...], with_info=True, as_supervised=True)`` (no
download, no tensorflow_datasets).

Like tf_flowers: (image, label) elements, uint8 RGB images of varying sizes (here 220-260 rows, 310-340 columns),
int64 labels of 5 classes, each class a colour and a pattern of blobs so a small model learns it; the splits are
percentages of the 'train' split ('train[:80%]'); ``metadata.features['label']`` has ``num_classes`` and
``int2str``.
"""

import re
import types

import numpy as np

import chainrule as tf

CLASS_NAMES = ["dandelion", "daisy", "tulips", "sunflowers", "roses"]
_COLOURS = np.array([[230, 200, 30], [240, 240, 240], [200, 40, 90], [250, 170, 20], [190, 20, 40]])


def _image(label, rng):
    height, width = int(rng.integers(220, 261)), int(rng.integers(310, 341))
    image = rng.normal(90, 25, (height, width, 3))
    rows, cols = np.mgrid[:height, :width]
    for _ in range(3 + label):
        r, c, radius = rng.integers(30, height - 30), rng.integers(30, width - 30), rng.integers(15, 30)
        image[(rows - r) ** 2 + (cols - c) ** 2 < radius ** 2] = _COLOURS[label] + rng.normal(0, 10, 3)
    return np.clip(image, 0, 255).astype(np.uint8)


def _split_range(split, n):
    match = re.fullmatch(r"train\[(\d*)%?:(\d*)%?\]", split)
    if match is None:
        raise ValueError(f"unsupported split {split!r}")
    start, stop = (int(v) if v else default for v, default in zip(match.groups(), (0, 100)))
    return n * start // 100, n * stop // 100


def load(name="tf_flowers", split=None, with_info=False, as_supervised=False, n=50, seed=0):
    """The datasets of ``split`` (a list of 'train[a%:b%]' strings), and the metadata when ``with_info``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, n)
    images = [_image(int(label), rng) for label in labels]

    def part(bounds):
        start, stop = bounds
        return tf.data.Dataset.from_generator(
            lambda: ((images[i], labels[i]) for i in range(start, stop)),
            output_signature=(tf.TensorSpec((None, None, 3), tf.uint8), tf.TensorSpec((), tf.int64)))

    datasets = [part(_split_range(s, n)) for s in split]
    label = types.SimpleNamespace(num_classes=5, int2str=lambda i: CLASS_NAMES[int(i)], names=CLASS_NAMES)
    metadata = types.SimpleNamespace(features={"label": label})
    return (datasets, metadata) if with_info else datasets
