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
(['neg', 'pos'], [b'bad', b'good'], [0, 1])
"""
from __future__ import annotations

import codecs
import os

import numpy as np

from chainrule.engine.tensor import Tensor
from chainrule.keras.utils import dataset_utils


def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """The texts of ``directory``'s ``.txt`` files with their labels, batched, shuffled and split as Keras does;
    ``subset='both'`` returns the training and the validation dataset."""
    return dataset_utils.dataset_from_directory(
        directory, lambda path: read_text(path, max_length), (".txt",), "text", labels=labels, label_mode=label_mode,
        class_names=class_names, batch_size=batch_size, shuffle=shuffle, seed=seed,
        validation_split=validation_split, subset=subset, follow_links=follow_links, format=format, verbose=verbose)


def read_text(path, max_length: int | None = None) -> Tensor:
    """A file's text as a scalar string tensor: its first ``max_length`` bytes (all by default), UTF-8 decoded."""
    name = os.fsdecode(np.asarray(path).item())
    with open(name, "rb") as file:
        data = file.read() if max_length is None else file.read(max_length)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(data, final=max_length is None)  # a character cut at max_length is left out
    return Tensor._wrap(np.array(text, dtype=str))
