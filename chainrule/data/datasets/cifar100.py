"""CIFAR-100, as ``keras.datasets.cifar100``: 50,000 training and 10,000 test 32x32 colour images labelled with
one of 100 fine classes (``label_mode="fine"``) or of the 20 coarse superclasses they group into (``"coarse"``).

The archive ``cifar-100-python.tar.gz`` comes from the CIFAR homepage (or ``sources``), is checked against Keras's
SHA-256 and cached in ``$CHAINRULE_HOME/datasets/cifar100/`` (cifar.py).

>>> load_data(label_mode="medium")
Traceback (most recent call last):
ValueError: `label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode=medium.
"""
from __future__ import annotations

from collections.abc import Sequence

from chainrule.data.datasets import cifar
from chainrule.data.datasets.sources import Source

ARCHIVE = "cifar-100-python.tar.gz"
SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"  # as Keras publishes
TRAIN, TEST = "cifar-100-python/train", "cifar-100-python/test"


def load_data(label_mode: str = "fine", sources: Sequence[Source] | None = None) -> cifar.Splits:
    """``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (50000, 32, 32, 3), (50000, 1),
    (10000, 32, 32, 3), (10000, 1), labels 0-99 (fine) or 0-19 (coarse)."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    files = cifar.archive_members("cifar100", ARCHIVE, SHA256, [TRAIN, TEST], sources)
    key = f"{label_mode}_labels"
    return cifar.splits([cifar.read_batch(files[TRAIN], key)], cifar.read_batch(files[TEST], key))
