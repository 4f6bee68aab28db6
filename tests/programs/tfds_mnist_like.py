"""Small synthetic stand-in for ``tfds.load('mnist', with_info=True, as_supervised=True)`` (no download, no
tensorflow_datasets).

Like tfds's mnist: a dict of 'train' and 'test' datasets of (image, label) elements, uint8 images of shape
(28, 28, 1) and int64 labels, made from tests/programs/mnist_like.py's stroke patterns; ``info.splits[name]
.num_examples`` and ``info.features['label'].num_classes`` as tfds gives them.
"""

import re
import types

import chainrule as tf
import mnist_like


def _sliced(splits, spec):
    """The arrays of a split spec: 'train', or a slice of rows 'train[10000:]' / 'train[:1500]' (absolute rows)."""
    match = re.fullmatch(r"(\w+)(?:\[(\d*):(\d*)\])?", spec)
    if match is None or match.group(1) not in splits:
        raise ValueError(f"unsupported split {spec!r}")
    name, start, stop = match.groups()
    rows = slice(int(start) if start else None, int(stop) if stop else None)
    return tuple(array[rows] for array in splits[name])


def load(name="mnist", split=None, batch_size=None, with_info=False, as_supervised=False, n_train=256, n_test=64,
         num_classes=10):
    """The splits of ``name`` ('mnist' or 'fashion_mnist'): a dict of them, or with ``split`` (a list of specs such
    as 'train[10000:]') a list; ``batch_size`` batches them (-1: each split whole, as tensors); the metadata too
    when ``with_info``."""
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train, n_test, num_classes)
    splits = {"train": (x_train, y_train), "test": (x_test, y_test)}
    if split is not None:
        chosen = {spec: _sliced(splits, spec) for spec in split}
        splits = chosen

    def dataset(images, labels):
        images, labels = images[..., None], labels.astype("int64")
        if as_supervised:
            return tf.data.Dataset.from_tensor_slices((images, labels))
        return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})

    datasets = {name: dataset(*arrays) for name, arrays in splits.items()}
    if batch_size == -1:  # each split as one batch of tensors, as tfds.load(batch_size=-1) gives it
        datasets = {name: next(iter(ds.batch(len(splits[name][1])))) for name, ds in datasets.items()}
    elif batch_size is not None:
        datasets = {name: ds.batch(batch_size) for name, ds in datasets.items()}
    if split is not None:
        datasets = [datasets[spec] for spec in split]
    info = types.SimpleNamespace(
        name=name,
        splits={name: types.SimpleNamespace(num_examples=len(arrays[1])) for name, arrays in splits.items()},
        features={"label": types.SimpleNamespace(num_classes=num_classes)})
    return (datasets, info) if with_info else datasets
