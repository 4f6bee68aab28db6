"""What Keras's ``*_dataset_from_directory`` functions share (Keras 3's ``keras/src/utils/dataset_utils.py``):
indexing a folder of class subfolders, the training/validation split, and the label encodings.

Files are listed as Keras lists them (``os.walk``, folders and files in sorted order, only the given extensions),
labelled by their class folder, then shuffled with ``np.random.RandomState(seed)``; ``validation_split`` keeps the
last fraction of that order for validation, so two calls with one seed give disjoint subsets.

>>> get_training_or_validation_split(list("abcde"), [0, 1, 0, 1, 0], 0.4, "validation")
Using 2 files for validation.
(['d', 'e'], [1, 0])
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

LABEL_MODES = ("int", "categorical", "binary", None)


def check_validation_split_arg(validation_split, subset, shuffle, seed) -> None:
    """Keras's checks of ``validation_split`` and ``subset``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f'`subset` must be either "training", "validation" or "both", received: {subset}')
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide a `seed` argument, to "
                         "make sure that there is no overlap between the training and validation subset.")


def iter_valid_files(directory: str, follow_links: bool, formats: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """``(folder, file name)`` of every file under ``directory`` whose name ends with one of ``formats``."""
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                yield root, name


def index_directory(directory: str, labels, formats: tuple[str, ...], class_names: Sequence[str] | None = None,
                    shuffle: bool = True, seed: int | None = None, follow_links: bool = False,
                    verbose: bool = True) -> tuple[list[str], np.ndarray | list | None, list[str] | None]:
    """``(file_paths, labels, class_names)`` for the files of ``directory``: labels inferred from the class
    subfolders (``labels='inferred'``), given (a list in the order of the sorted paths), or None."""
    if not os.path.isdir(directory):
        raise ValueError(f"Could not find directory {directory}")
    if labels == "inferred":
        subdirs = [name for name in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(f"The `class_names` passed did not match the names of the subdirectories of the "
                                 f"target directory. Expected: {subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)  # their order is the labels' order
    else:
        subdirs = [""]
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` cannot be specified (the "
                             "`class_names` will be the sorted list of labels).")
    filenames: list[str] = []
    inferred: list[int] = []
    for index, subdir in enumerate(subdirs):
        folder = os.path.join(directory, subdir)
        for root, name in iter_valid_files(folder, follow_links, formats):
            filenames.append(os.path.join(subdir, os.path.relpath(os.path.join(root, name), folder)))
            inferred.append(index)
    names: list[str] | None = list(subdirs)
    if labels == "inferred":
        labels = np.array(inferred, dtype="int32")
    elif labels is None:
        names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(f"Expected the lengths of `labels` to match the number of files in the target "
                             f"directory. len(labels) is {len(labels)} while we found {len(filenames)} files in "
                             f"directory {directory}.")
        names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        print(f"Found {len(filenames)} files." if labels is None else
              f"Found {len(filenames)} files belonging to {len(names)} classes.")
    file_paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:  # one seed orders the paths and the labels alike
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, names


def get_training_or_validation_split(samples: list, labels, validation_split: float | None, subset: str | None):
    """The first ``1 - validation_split`` of the samples (and labels) for training, the rest for validation."""
    if not validation_split:
        return samples, labels
    num_val_samples = int(validation_split * len(samples))
    num_train_samples = len(samples) - num_val_samples
    if subset == "training":
        print(f"Using {num_train_samples} files for training.")  # Keras prints it whatever `verbose` says
        return samples[:num_train_samples], None if labels is None else labels[:num_train_samples]
    if subset == "validation":
        print(f"Using {num_val_samples} files for validation.")
        return samples[num_train_samples:], None if labels is None else labels[num_train_samples:]
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


def encode_labels(labels, label_mode: str, num_classes: int) -> np.ndarray:
    """``int`` labels as given; ``binary`` as float32 of shape ``(n, 1)``; ``categorical`` as float32 one-hot."""
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels]
    return labels


def dataset_from_directory(directory, load, formats: tuple[str, ...], kind: str, labels="inferred",
                           label_mode="int", class_names=None, batch_size=32, shuffle=True, seed=None,
                           validation_split=None, subset=None, follow_links=False, format="tf", verbose=True,
                           padded: bool = False):
    """What every ``*_dataset_from_directory`` does around reading one file: Keras's argument checks, indexing,
    the split (``subset='both'`` gives two datasets), labels, shuffling, batching and ``class_names`` /
    ``file_paths`` on the result. ``load(path)`` reads one file into one sample; ``kind`` names the files in
    messages ('image', 'text'); ``padded`` batches samples of different lengths padded with zeros."""
    from chainrule.data.dataset import Dataset

    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"`labels` argument should be a list/tuple of integer labels, of the same size as the "
                             f"number of {kind} files in the target directory. If you wish to infer the labels from "
                             f"the subdirectory names in the target directory, pass `labels=\"inferred\"`. If you "
                             f"wish to get a dataset that only contains {kind}s (no labels), pass `labels=None`. "
                             f"Received: labels={labels}")
        if class_names:
            raise ValueError(f"You can only pass `class_names` if `labels=\"inferred\"`. Received: labels={labels}, "
                             f"and class_names={class_names}")
    if label_mode not in LABEL_MODES:
        raise ValueError(f'`label_mode` argument must be one of "int", "categorical", "binary", or None. Received: '
                         f"label_mode={label_mode}")
    if format != "tf":
        raise ValueError(f'`format` must be "tf" in chainrule (a chainrule.data Dataset; Grain is not available). '
                         f"Received: format={format}")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    file_paths, labels, class_names = index_directory(
        directory, labels, formats=formats, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f'When passing `label_mode="binary"`, there must be exactly 2 class_names. Received: '
                         f"class_names={class_names}")
    buffer_size = batch_size * 8 if batch_size is not None else 1024
    num_classes = len(class_names) if class_names else 0
    datasets = []
    for part in (["training", "validation"] if subset == "both" else [subset]):
        paths, part_labels = get_training_or_validation_split(file_paths, labels, validation_split, part)
        if not paths:
            which = f"{part} " if subset == "both" else ""
            raise ValueError(f"No {which}{kind} files found in directory {directory}. Allowed formats: {formats}")
        dataset = Dataset.from_tensor_slices(np.array(paths, dtype=str))
        if label_mode:
            dataset = Dataset.zip((dataset, Dataset.from_tensor_slices(encode_labels(part_labels, label_mode,
                                                                                     num_classes))))
        # Keras shuffles a validation subset too, unless it comes with the training one (subset='both')
        if shuffle and not (subset == "both" and part == "validation"):
            dataset = dataset.shuffle(buffer_size=buffer_size, seed=seed)
        dataset = dataset.map((lambda path, label: (load(path), label)) if label_mode else load)
        if batch_size is not None:
            dataset = dataset.padded_batch(batch_size) if padded else dataset.batch(batch_size)
        dataset = dataset.prefetch(-1)
        dataset.class_names = class_names  # users read them, as in Keras
        dataset.file_paths = paths
        datasets.append(dataset)
    return tuple(datasets) if subset == "both" else datasets[0]
