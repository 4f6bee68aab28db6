"""``keras.utils.text_dataset_from_directory``: a ``tf.data`` Dataset of ``(texts, labels)`` batches from a
folder of ``.txt`` files in one subfolder per class, with Keras 3's arguments and defaults.

Texts are Python/NumPy ``str`` (UTF-8 decoded, undecodable bytes replaced; TensorFlow yields bytes), read from disk
when the dataset is iterated; ``max_length`` keeps a text's first ``max_length`` bytes (a character cut in two is
dropped). Labels are int32 (``label_mode='int'``), float32 of shape ``(batch, 1)`` (``'binary'``) or float32
one-hot (``'categorical'``). The dataset has ``class_names``.

>>> import os, tempfile
>>> root = tempfile.mkdtemp()
>>> for label, text in [("neg", "bad"), ("pos", "good")]:
...     os.makedirs(os.path.join(root, label))
...     with open(os.path.join(root, label, "1.txt"), "w") as f:
...         _ = f.write(text)
>>> ds = text_dataset_from_directory(root, shuffle=False, verbose=False)
>>> texts, labels = next(iter(ds))
>>> ds.class_names, texts.numpy().tolist(), labels.numpy().tolist()
(['neg', 'pos'], ['bad', 'good'], [0, 1])
"""
from __future__ import annotations

import codecs

import numpy as np

from chainrule.data.dataset import Dataset
from chainrule.engine.tensor import Tensor
from chainrule.keras.utils import dataset_utils


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """The texts of ``directory``'s ``.txt`` files with their labels, batched, shuffled and split as Keras does;
    ``subset='both'`` returns the training and the validation dataset."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of the same size as the "
                             f"number of text files in the target directory. If you wish to infer the labels from "
                             f"the subdirectory names in the target directory, pass `labels=\"inferred\"`. If you "
                             f"wish to get a dataset that only contains text samples (no labels), pass "
                             f"`labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError(f"You can only pass `class_names` if `labels=\"inferred\"`. Received: labels={labels}, "
                             f"and class_names={class_names}")
    if label_mode not in dataset_utils.LABEL_MODES:
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", or None. Received: '
                         f"label_mode={label_mode}")
    if format != "tf":
        raise ValueError(f'`format` must be "tf" in chainrule (a chainrule.data Dataset; Grain is not available). '
                         f"Received: format={format}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    dataset_utils.check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = dataset_utils.index_directory(
        directory, labels, formats=(".txt",), class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={class_names}")
    shuffle_buffer_size = batch_size * 8 if batch_size is not None else 1024
    num_classes = len(class_names) if class_names else 0
    subsets = ["training", "validation"] if subset == "both" else [subset]
    datasets = []
    for part in subsets:
        paths, part_labels = dataset_utils.get_training_or_validation_split(file_paths, labels, validation_split,
                                                                            part)
        if not paths:
            which = f"{part} " if subset == "both" else ""
            raise ValueError(f"No {which}text files found in directory {directory}. Allowed format: .txt")
        # Keras shuffles a validation subset too, unless it comes with the training one (subset='both')
        part_shuffle = shuffle and not (subset == "both" and part == "validation")
        dataset = _paths_and_labels_to_dataset(paths, part_labels, label_mode, num_classes, max_length,
                                               part_shuffle, shuffle_buffer_size, seed)
        if batch_size is not None:
            dataset = dataset.batch(batch_size)
        dataset = dataset.prefetch(-1)
        dataset.class_names = class_names  # users read it, as in Keras
        datasets.append(dataset)
    return tuple(datasets) if subset == "both" else datasets[0]


def _paths_and_labels_to_dataset(paths, labels, label_mode, num_classes, max_length, shuffle, buffer_size, seed):
    path_ds = Dataset.from_tensor_slices(np.array(paths, dtype=str))
    if label_mode:
        ds = Dataset.zip((path_ds, Dataset.from_tensor_slices(
            dataset_utils.encode_labels(labels, label_mode, num_classes))))
    else:
        ds = path_ds
    if shuffle:
        ds = ds.shuffle(buffer_size=buffer_size, seed=seed)
    if label_mode:
        return ds.map(lambda path, label: (read_text(path, max_length), label))
    return ds.map(lambda path: read_text(path, max_length))


def read_text(path, max_length: int | None = None) -> Tensor:
    """A file's text as a scalar string tensor: its first ``max_length`` bytes (all by default), UTF-8 decoded."""
    name = str(path.numpy() if isinstance(path, Tensor) else path)
    with open(name, "rb") as file:
        data = file.read() if max_length is None else file.read(max_length)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(data, final=max_length is None)  # a character cut at max_length is left out
    return Tensor._wrap(np.array(text, dtype=str))
