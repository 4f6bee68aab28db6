"""Small synthetic stand-in for ``tfds.load('mnist', with_info=True, as_supervised=True)`` (no download, no
tensorflow_datasets).

Like tfds's mnist: a dict of 'train' and 'test' datasets of (image, label) elements, uint8 images of shape
(28, 28, 1) and int64 labels, made from tests/programs/mnist_like.py's stroke patterns; ``info.splits[name]
.num_examples`` and ``info.features['label'].num_classes`` as tfds gives them.
"""

import types

import chainrule as tf
import mnist_like


def load(name="mnist", with_info=False, as_supervised=False, n_train=256, n_test=64, num_classes=10):
    """The splits of ``name`` ('mnist' or 'fashion_mnist'), and the metadata when ``with_info``."""
    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train, n_test, num_classes)
    splits = {"train": (x_train, y_train), "test": (x_test, y_test)}

    def dataset(images, labels):
        images, labels = images[..., None], labels.astype("int64")
        if as_supervised:
            return tf.data.Dataset.from_tensor_slices((images, labels))
        return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})

    datasets = {split: dataset(*arrays) for split, arrays in splits.items()}
    info = types.SimpleNamespace(
        name=name,
        splits={split: types.SimpleNamespace(num_examples=len(arrays[1])) for split, arrays in splits.items()},
        features={"label": types.SimpleNamespace(num_classes=num_classes)})
    return (datasets, info) if with_info else datasets
