"""Data adapters: whatever ``fit``/``evaluate``/``predict`` are given, as batches ``(x, y, sample_weight)`` of NumPy
arrays, one epoch at a time.

- NumPy arrays (or Tensors, lists, dicts of them): sliced into ``batch_size`` rows, shuffled each epoch with
  ``chainrule.backend.rng()``; integer, boolean and float64 inputs become float32 batch by batch (the whole array is
  never copied). On a GPU backend, arrays of up to ``DEVICE_RESIDENT_MAX_BYTES`` are copied to the device once, cast
  there, and each batch is gathered on the device (no copy from the host per step).
- a ``chainrule.data.Dataset`` (or another re-iterable of batches): one pass per epoch; ``batch_size`` is ignored.
- a generator or iterator of batches: consumed once, across epochs.
- a Keras ``PyDataset``/``Sequence`` (``__len__`` + ``__getitem__``): batch ``i`` per step, ``on_epoch_begin()``/
  ``on_epoch_end()`` around each epoch, its ``workers`` fetching ahead on threads.

>>> import numpy as np
>>> adapter = ArrayAdapter(np.zeros((10, 3), np.uint8), np.arange(10), batch_size=4)
>>> [(x.shape, x.dtype.name, y.shape) for x, y, _ in adapter.epoch()]
[((4, 3), 'float32', (4,)), ((4, 3), 'float32', (4,)), ((2, 3), 'float32', (2,))]
"""
from __future__ import annotations

import itertools
import math
import types
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.data import parallel
from chainrule.engine.tensor import Tensor
from chainrule.keras.training.argument_checks import positive_count
from chainrule.keras.training.array_checks import (as_number_array, named_leaves, ragged_list_message,
                                                   sample_count_message)
from chainrule.keras.utils.py_dataset import PyDataset
from chainrule.utils import tree

Batch = tuple[Any, Any, Any]  # x, y (or None), sample_weight (or None)

# Training arrays up to this size (after the casts) live on a GPU for the whole fit; larger ones go over per batch.
DEVICE_RESIDENT_MAX_BYTES = 4 << 30


# --- structures of arrays --------------------------------------------------------------------------------------------
def to_numpy(data, role: str = "x"):
    """Tensors, arrays, nested lists of numbers -> arrays; a list/tuple of arrays or a dict stays a structure.
    Data that holds no numbers (strings, objects, ragged lists) is a TypeError naming ``role`` (array_checks)."""
    if data is None:
        return None
    if isinstance(data, Tensor):
        return data.numpy()
    if isinstance(data, np.ndarray):
        return as_number_array(data, role)
    if backend.is_array(data):  # a device array: its values on the host, as a Tensor's (batches go back per step)
        return as_number_array(backend.to_host(data), role)
    if isinstance(data, dict):
        return {key: to_numpy(value, f"{role}[{key!r}]") for key, value in data.items()}
    if _is_pandas(data):  # a Series is a column: (rows, 1), as Keras's pandas slicing gives it
        array = data.to_numpy()
        return to_numpy(array[:, None] if array.ndim == 1 else array, role)
    if isinstance(data, (list, tuple)) and data and all(_is_array_like(item) for item in data):
        return [to_numpy(item, f"{role}[{i}]") for i, item in enumerate(data)]
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as e:
        if isinstance(data, (list, tuple)):
            raise TypeError(ragged_list_message(data, role)) from e
        raise TypeError(f"Cannot use {type(data).__name__} as {role}: expected NumPy arrays, Tensors, a "
                        f"chainrule.data.Dataset or a generator of batches") from e
    return as_number_array(array, role)


def _is_array_like(item) -> bool:
    return isinstance(item, (np.ndarray, Tensor, dict)) or hasattr(item, "__array__")


def _leaves(structure) -> list:
    """The arrays of a structure of arrays; None (an absent y or sample weight) has none."""
    return [leaf for leaf in tree.flatten(structure) if leaf is not None]


def input_dtype(dtype: np.dtype) -> np.dtype | None:
    """The dtype a model input of ``dtype`` is fed as: float32 for uint8/bool/other floats; None for no change."""
    if dtype.kind in "ub" or (dtype.kind == "f" and dtype != np.dtype(backend.floatx())):
        return np.dtype(backend.floatx())
    return None


def target_dtype(dtype: np.dtype) -> np.dtype | None:
    """Targets keep integer class ids; floats other than float32 become float32."""
    if dtype.kind == "f" and dtype != np.dtype(backend.floatx()):
        return np.dtype(backend.floatx())
    return None


def cast_structure(structure, rule):
    def cast(a):
        a = np.asarray(a) if not isinstance(a, np.ndarray) else a
        dtype = rule(a.dtype)
        return a if dtype is None else a.astype(dtype)
    return tree.map_structure(cast, structure, none_is_leaf=False)


def num_rows(structure) -> int:
    return len(_leaves(structure)[0])


def unpack(element) -> Batch:
    """A batch as ``(x, y, sample_weight)``: accepts ``x``, ``(x,)``, ``(x, y)`` and ``(x, y, sample_weight)``."""
    if isinstance(element, tuple):
        if len(element) == 1:
            return element[0], None, None
        if len(element) == 2:
            return element[0], element[1], None
        if len(element) == 3:
            return element
        raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                         f"found a tuple of {len(element)} items")
    return element, None, None


# --- adapters ------------------------------------------------------------------------------------------------------
class DataAdapter:
    """One epoch of batches per call to :meth:`epoch`; ``steps`` is the number of batches per epoch (None when it is
    known only at the end); ``reiterable`` says whether a second epoch can start from the beginning."""

    steps: int | None = None
    reiterable: bool = True

    def epoch(self) -> Iterator[Batch]:
        raise NotImplementedError


class ArrayAdapter(DataAdapter):
    """Arrays in memory, sliced into batches; ``shuffle`` True (a new permutation per epoch), False or "batch"."""

    def __init__(self, x, y=None, sample_weight=None, batch_size: int | None = 32, shuffle=False,
                 class_weight: dict | None = None):
        self.x = to_numpy(x, "x")
        self.y = to_numpy(y, "y")
        self.sample_weight = None if sample_weight is None else np.asarray(to_numpy(sample_weight, "sample_weight"))
        self.n = _check_rows(self.x, self.y, self.sample_weight)
        self.batch_size = 32 if batch_size is None else positive_count(batch_size, "batch_size")
        self.shuffle = shuffle
        self.class_weight = _class_weight_table(class_weight)
        self.steps = math.ceil(self.n / self.batch_size)
        self._x_cast = [input_dtype(a.dtype) for a in _leaves(self.x)]
        self._y_cast = [target_dtype(a.dtype) for a in _leaves(self.y)]
        self._single_x = isinstance(self.x, np.ndarray)
        self._single_y = isinstance(self.y, np.ndarray)

    def epoch(self) -> Iterator[Batch]:
        if backend.current() != "numpy" and self._fits_on_device():
            yield from self._device_epoch()
            return
        n, size = self.n, self.batch_size
        if self.shuffle == "batch":
            order = np.arange(n)
            starts = backend.rng().permutation(self.steps) * size
        elif self.shuffle:
            order = backend.rng().permutation(n)
            starts = range(0, n, size)
        else:
            order = None
            starts = range(0, n, size)
        for start in starts:
            rows = slice(start, min(start + size, n)) if order is None else order[start:start + size]
            x = self._take(self.x, rows, self._x_cast, self._single_x)
            y = None if self.y is None else self._take(self.y, rows, self._y_cast, self._single_y)
            sw = None if self.sample_weight is None else self.sample_weight[rows]
            if self.class_weight is not None and y is not None:  # (no sample weights then: check_one_weighting)
                sw = class_weights_for(y, self.class_weight)
            yield x, y, sw

    def _fits_on_device(self) -> bool:
        """Whether the arrays stay on the device for the fit (called off the NumPy backend): small enough, numbers
        only, no class weights (those are looked up per batch on the host)."""
        if self.class_weight is not None:
            return False
        casts = iter(self._x_cast + self._y_cast)
        total = 0
        for a in _leaves(self.x) + _leaves(self.y) + ([self.sample_weight] if self.sample_weight is not None else []):
            if a.dtype.kind not in _NUMERIC:  # text stays on the host (string lookups run there)
                return False
            dtype = next(casts, None)
            total += a.size * (dtype or a.dtype).itemsize
        return total <= DEVICE_RESIDENT_MAX_BYTES

    def _device_epoch(self) -> Iterator[Batch]:
        """:meth:`epoch` on arrays copied to the device once (then cast there): each batch is a device slice, or a
        device gather through the epoch's permutation, which goes over once per epoch."""
        if getattr(self, "_device", None) is None:
            casts = iter(self._x_cast + self._y_cast)

            def upload(a):
                dtype = next(casts, None)
                on_device = backend.to_device(np.ascontiguousarray(a))
                return on_device if dtype is None else backend.array_namespace(on_device).astype(on_device, dtype)
            self._device = (tree.map_structure(upload, self.x, none_is_leaf=False),
                            tree.map_structure(upload, self.y, none_is_leaf=False),
                            None if self.sample_weight is None else backend.to_device(self.sample_weight))
        x, y, sw = self._device
        n, size = self.n, self.batch_size
        order = None
        starts = range(0, n, size)
        if self.shuffle == "batch":
            starts = backend.rng().permutation(self.steps) * size
        elif self.shuffle:
            order = backend.to_device(backend.rng().permutation(n))
        for start in starts:
            if order is None:
                rows = slice(start, min(start + size, n))
                take = lambda a: a[rows, ...]  # noqa: E731  (a view)
            else:
                rows = order[start:min(start + size, n)]
                take = lambda a: backend.array_namespace(a).take(a, rows, axis=0)  # noqa: E731  (one gather)
            yield (tree.map_structure(take, x, none_is_leaf=False), tree.map_structure(take, y, none_is_leaf=False),
                   None if sw is None else take(sw))

    @staticmethod
    def _take(data, rows, casts, single: bool):
        if single:
            batch = data[rows]
            return batch if casts[0] is None else batch.astype(casts[0])
        it = iter(casts)

        def take(a):
            batch = a[rows]
            dtype = next(it)
            return batch if dtype is None else batch.astype(dtype)
        return tree.map_structure(take, data, none_is_leaf=False)

    def split(self, validation_split: float) -> tuple["ArrayAdapter", tuple]:
        """Keep the first ``1 - validation_split`` of the rows for training; return the last part as arrays, as
        Keras takes the validation data from the end, before any shuffling."""
        if not 0.0 < validation_split < 1.0:
            raise ValueError(f"validation_split must be between 0 and 1, got {validation_split}")
        at = int(math.floor(self.n * (1.0 - validation_split)))
        if at == 0 or at == self.n:
            raise ValueError(f"Training data contains {self.n} samples, which is not sufficient to split it into a "
                             f"validation and training set as specified by `validation_split={validation_split}`. "
                             f"Either provide more data, or a different value for the `validation_split` argument.")
        head, tail = slice(0, at), slice(at, self.n)
        val = (tree.map_structure(lambda a: a[tail], self.x, none_is_leaf=False),
               tree.map_structure(lambda a: a[tail], self.y, none_is_leaf=False),
               None if self.sample_weight is None else self.sample_weight[tail])
        self.x = tree.map_structure(lambda a: a[head], self.x, none_is_leaf=False)
        self.y = tree.map_structure(lambda a: a[head], self.y, none_is_leaf=False)
        if self.sample_weight is not None:
            self.sample_weight = self.sample_weight[head]
        self.n = at
        self.steps = math.ceil(self.n / self.batch_size)
        return self, val


def _check_rows(x, y, sample_weight) -> int:
    if not _leaves(x):
        raise ValueError("No input data: x is empty")
    arrays = [pair for structure, role in ((x, "x"), (y, "y"), (sample_weight, "sample_weight"))
              for pair in named_leaves(structure, role)]
    for name, a in arrays:
        if np.ndim(a) == 0:
            raise ValueError(f"{name} is a single value (shape ()), not an array with one row per sample")
    sizes = {len(a) for _, a in arrays}
    if len(sizes) != 1:
        raise ValueError(sample_count_message([(name, np.shape(a)) for name, a in arrays], isinstance(x, list)))
    if 0 in sizes:
        name, a = arrays[0]
        raise ValueError(f"Expected input data to be non-empty: {name} has 0 samples (shape {np.shape(a)})")
    return sizes.pop()


def _class_weight_table(class_weight: dict | None):
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict) or not class_weight:
        raise ValueError(f"class_weight must be a dict {{class index: weight}}, got {class_weight!r}")
    size = max(int(k) for k in class_weight) + 1
    table = np.ones(size, dtype=backend.floatx())
    for k, w in class_weight.items():
        table[int(k)] = w
    return table


def class_weights_for(y, table: np.ndarray) -> np.ndarray:
    """Per-sample weights from ``class_weight``: by the class id (or the one-hot argmax) of each label."""
    if isinstance(y, (list, dict)):
        raise ValueError("`class_weight` is only supported for models with a single output")
    y = np.asarray(y)
    ids = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    ids = np.rint(ids).astype(np.int64) if ids.dtype.kind == "f" else ids.astype(np.int64)
    weights = np.ones(len(ids), dtype=table.dtype)  # classes missing from class_weight weigh 1
    known = (ids >= 0) & (ids < len(table))
    weights[known] = table[ids[known]]
    return weights


class IterableAdapter(DataAdapter):
    """Batches from a re-iterable source: a ``chainrule.data.Dataset`` (or anything with ``__iter__`` that starts
    over each time). ``batch_size`` does not apply: the source's batches are used as they are."""

    def __init__(self, source, class_weight: dict | None = None):
        self.source = source
        self.class_weight = _class_weight_table(class_weight)
        self.steps = _cardinality(source)

    def epoch(self) -> Iterator[Batch]:
        numpy_iter = getattr(self.source, "as_numpy_iterator", None)
        for element in (numpy_iter() if numpy_iter is not None else iter(self.source)):
            yield _standardize(element, self.class_weight)


def _cardinality(source) -> int | None:
    card = getattr(source, "cardinality", None)
    if card is not None:
        n = int(card() if callable(card) else card)
        return n if n >= 0 else None  # -1: infinite, -2: unknown (tf.data's codes)
    try:
        return len(source)
    except TypeError:
        return None


def _standardize(element, class_weight) -> Batch:
    x, y, sw = unpack(element if not isinstance(element, list) or len(element) > 3 else tuple(element))
    x = cast_structure(to_numpy(x, "x"), input_dtype)
    y = None if y is None else cast_structure(to_numpy(y, "y"), target_dtype)
    sw = None if sw is None else np.asarray(to_numpy(sw, "sample_weight"))
    if class_weight is not None and y is not None:
        cw = class_weights_for(y, class_weight)
        sw = cw if sw is None else sw * cw
    return x, y, sw


class GeneratorAdapter(DataAdapter):
    """Batches from a generator or iterator: read once; with ``steps_per_epoch`` each epoch takes that many."""

    reiterable = False

    def __init__(self, iterator, class_weight: dict | None = None):
        self.iterator = iter(iterator)
        self.class_weight = _class_weight_table(class_weight)
        self.steps = None

    def epoch(self) -> Iterator[Batch]:
        for element in self.iterator:
            yield _standardize(element, self.class_weight)


class SequenceAdapter(DataAdapter):
    """A Keras ``Sequence``/``PyDataset``: ``num_batches`` (``len(seq)``) batches, ``seq[i]`` is batch i (endless
    when ``num_batches`` is None); shuffling reorders batches; ``on_epoch_begin()``/``on_epoch_end()`` around each
    epoch; a PyDataset's ``workers`` > 1 fetch up to ``max_queue_size`` batches ahead on threads, in order."""

    def __init__(self, sequence, shuffle: bool = False, class_weight: dict | None = None):
        self.sequence = sequence
        self.shuffle = shuffle
        self.class_weight = _class_weight_table(class_weight)
        self.steps = sequence.num_batches if isinstance(sequence, PyDataset) else len(sequence)
        threads = isinstance(sequence, PyDataset) and (sequence.workers > 1 or (sequence.workers > 0 and
                                                                                  sequence.use_multiprocessing))
        self.workers = max(sequence.workers, 1) if threads else 1
        self.max_queue_size = sequence.max_queue_size if threads else 0

    def epoch(self) -> Iterator[Batch]:
        on_epoch_begin = getattr(self.sequence, "on_epoch_begin", None)
        if on_epoch_begin is not None:
            on_epoch_begin()
        if self.steps is None:
            order = itertools.count()
        else:
            order = backend.rng().permutation(self.steps) if self.shuffle else range(self.steps)

        def fetch(index):
            return self.sequence[int(index)]

        batches = (map(fetch, order) if self.workers == 1 else
                   parallel.ordered_map(fetch, iter(order), self.workers, in_flight=self.max_queue_size or None))
        for batch in batches:
            yield _standardize(batch, self.class_weight)
        on_epoch_end = getattr(self.sequence, "on_epoch_end", None)
        if on_epoch_end is not None:
            on_epoch_end()


def _is_sequence(x) -> bool:
    return isinstance(x, PyDataset) or (hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(
        x, (np.ndarray, Tensor, list, tuple, dict, str)) and not _is_pandas(x))


def _is_pandas(x) -> bool:
    """A pandas DataFrame or Series: arrays of rows (as Keras's array adapter takes them), not a sequence of batches."""
    return type(x).__module__.startswith("pandas") and hasattr(x, "to_numpy")


def _is_dataset(x) -> bool:
    from chainrule.data import Dataset

    return isinstance(x, Dataset) or (hasattr(x, "as_numpy_iterator") and hasattr(x, "__iter__"))


def _is_torch_dataloader(x) -> bool:
    """A ``torch.utils.data.DataLoader`` (Keras 3 trains on them); told by its class, so torch is never imported."""
    return any(c.__name__ == "DataLoader" and c.__module__.startswith("torch.utils.data") for c in type(x).__mro__)


def check_one_weighting(sample_weight, class_weight) -> None:
    """Keras takes sample weights or class weights, not both (it would not say how to combine them)."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError("Arguments `sample_weight` and `class_weight` cannot be specified at the same time "
                         "(fold the class weights into the sample weights instead)")


def make_adapter(x, y=None, sample_weight=None, batch_size: int | None = None, shuffle=False,
                 class_weight: dict | None = None) -> DataAdapter:
    """The adapter for ``x`` (and ``y``, ``sample_weight``, which only arrays take separately)."""
    check_one_weighting(sample_weight, class_weight)
    if (_is_dataset(x) or isinstance(x, (types.GeneratorType, Iterator)) or _is_sequence(x)
            or _is_torch_dataloader(x)):
        if y is not None:
            raise ValueError(f"`y` argument is not supported when using a {type(x).__name__} as input (it must "
                             f"yield (x, y) batches itself)")
        if sample_weight is not None:
            raise ValueError(f"`sample_weight` argument is not supported when using a {type(x).__name__} as input "
                             f"(yield (x, y, sample_weight) batches instead)")
        if _is_dataset(x) or _is_torch_dataloader(x):  # a DataLoader starts over on each iter(), as a Dataset
            return IterableAdapter(x, class_weight)
        if _is_sequence(x):
            return SequenceAdapter(x, shuffle=bool(shuffle), class_weight=class_weight)
        return GeneratorAdapter(x, class_weight)
    if x is None:
        raise ValueError("No input data: pass x (arrays, a chainrule.data.Dataset or a generator)")
    return ArrayAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle, class_weight=class_weight)


class EpochIterator:
    """Batches per epoch, honouring ``steps_per_epoch``: then one iterator is kept across epochs (so a long or
    endless dataset continues where the last epoch stopped) and restarted when a re-iterable source runs out."""

    def __init__(self, adapter: DataAdapter, steps_per_epoch: int | None = None):
        from chainrule.keras.global_settings import max_steps_per_epoch

        cap = max_steps_per_epoch()  # keras.config.set_max_steps_per_epoch, for quick debugging runs
        if cap and (not steps_per_epoch or cap < steps_per_epoch):
            warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
            steps_per_epoch = cap
        self.adapter = adapter
        self.steps_per_epoch = steps_per_epoch
        self._iterator = None
        self.exhausted = False  # a one-shot source ran out: nothing more to train on

    @property
    def steps(self) -> int | None:
        return self.steps_per_epoch if self.steps_per_epoch is not None else self.adapter.steps

    def epoch(self) -> Iterator[Batch]:
        if self.steps_per_epoch is None:
            if self.exhausted:
                return
            count = 0
            for batch in self.adapter.epoch():
                count += 1
                yield on_device(batch)
            if not self.adapter.reiterable:
                self.exhausted = True
            if self.adapter.steps is None:
                self.adapter.steps = count
            return
        produced = 0
        fresh = False  # the iterator was just (re)started: running out now means there is no data at all
        while produced < self.steps_per_epoch:
            if self._iterator is None:
                self._iterator, fresh = self.adapter.epoch(), True
            try:
                batch = next(self._iterator)
            except StopIteration:
                self._iterator = None
                if not self.adapter.reiterable or fresh:
                    self.exhausted = True
                    warnings.warn(f"Your input ran out of data; interrupting training. Make sure that your dataset or "
                                  f"generator can generate at least `steps_per_epoch * epochs` batches "
                                  f"({self.steps_per_epoch} per epoch).", stacklevel=3)
                    return
                continue
            fresh = False
            produced += 1
            yield on_device(batch)


def on_device(batch: Batch) -> Batch:
    """A batch's NumPy arrays on the current backend's device: one copy each per batch (none on the NumPy backend).

    >>> x, y, sw = on_device((np.ones(2), None, None)); type(x).__name__
    'ndarray'
    """
    if backend.current() == "numpy":
        return batch
    return tree.map_structure(lambda a: backend.to_device(a) if isinstance(a, np.ndarray) and a.dtype.kind in _NUMERIC
                              else a, batch, none_is_leaf=False)


_NUMERIC = "biufc"  # the dtype kinds a device holds (not text, not objects)
