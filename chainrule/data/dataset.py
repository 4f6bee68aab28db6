"""Dataset: tf.data's input pipeline on NumPy arrays.

>>> import numpy as np
>>> ds = Dataset.from_tensor_slices((np.arange(10), np.arange(10) % 2)).shuffle(10, seed=0).batch(4)
>>> len(ds)
3
>>> for images, labels in ds:
...     pass
>>> labels.shape
TensorShape([2])
>>> list(Dataset.range(7).window(3, shift=2, drop_remainder=True).flat_map(lambda w: w.batch(3))
...      .as_numpy_iterator())
[array([0, 1, 2]), array([2, 3, 4]), array([4, 5, 6])]

How it stays fast: a dataset made by ``from_tensor_slices`` (or ``range``, ``from_tensors``, ``zip`` of those) keeps
its arrays whole and moves only row numbers through ``shuffle``, ``take``, ``skip``, ``repeat``, ``shard`` and
``batch`` (see :mod:`chainrule.data.blocks`); each batch is then one fancy-indexing gather per array. ``map`` calls
its function once per element (once per batch after ``batch``), as tf.data does, so put vectorized work after
``batch``. ``prefetch`` makes the next elements on a background thread while the consumer works on this one, and
``num_parallel_calls`` runs ``map`` and ``interleave`` on a pool of threads (see :mod:`chainrule.data.parallel`).

``element_spec`` is TensorFlow's where it follows from the sources (shapes, dtypes, batch sizes); after ``map``,
``flat_map`` or ``interleave``, whose function TensorFlow traces, it is read from the first element when first
asked for, so the function runs once more then, and a size that varies between elements shows as that element's.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.backend import determinism
from chainrule.backend.string_dtype import text_as_bytes
from chainrule.data import blocks as bl
from chainrule.data import padding, parallel, sampling, streams
from chainrule.data.iterator import OwnedIterator
from chainrule.data.map_context import dataset_function, freeze_closure
from chainrule.data.options import Options, merge_options
from chainrule.data.spec import DatasetSpec, SparseTensorSpec, TensorSpec, batched, dtype_name, relaxed, shapes_fit, unbatched
from chainrule.data.structure import Structure, is_composite, leaves, map_structure, pack, stack_structures
from chainrule.engine.tensor import Tensor, as_tensor

INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2  # after filter: the count is known only by iterating (tf.data's code)
AUTOTUNE = -1  # tf.data.AUTOTUNE: let the pipeline choose a buffer size or a number of threads
_AUTOTUNE_PREFETCH = 2  # elements prepared ahead by prefetch(AUTOTUNE)
_INT64_MAX = np.iinfo(np.int64).max

Spec = Any  # a structure of TensorSpec / DatasetSpec, or a callable that works it out when first asked


class Dataset:
    """A re-iterable sequence of elements (a Tensor, or a tuple or dict of them); every method returns a new one.

    Build one with :meth:`from_tensor_slices`, :meth:`range`, :meth:`from_generator`, ...; each full iteration is
    one epoch.
    """

    def __init__(self, make_blocks: Callable[[], bl.Blocks], cardinality: int, source: Structure | None = None,
                 spec: Spec = None, options: Options | None = None, plain: bool = False):
        self._make_blocks = make_blocks  # a fresh stream of blocks per epoch
        self._cardinality = cardinality
        self._source = source  # the arrays the blocks index into, or None when blocks hold elements
        self._spec = spec if spec is not None else self._first_spec
        self._options = options
        self._plain = plain  # blocks are the row numbers 0, 1, ... in order, once (what zip can join as arrays)

    def _derived(self, make_blocks: Callable[[], bl.Blocks], cardinality: int, source: Structure | None = None,
                 spec: Spec = None, inputs: tuple = ()) -> "Dataset":
        """A dataset made from this one (and ``inputs``): their options carry over, merged, as in tf.data."""
        options = [d._options for d in (self, *inputs) if d._options is not None]
        merged = merge_options(*options) if len(options) > 1 else (options[0] if options else None)
        return Dataset(make_blocks, cardinality, source, spec, merged)

    # --- sources ------------------------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Structure, name: str | None = None) -> "Dataset":
        """One element per row of the input: an array, a tuple ``(x, y)`` or a dict of arrays, sliced along axis 0.

        >>> [int(x) for x in Dataset.from_tensor_slices(np.array([3, 1, 2]))]
        [3, 1, 2]
        """
        for leaf in leaves(tensors):
            if type(leaf).__name__ in ("SparseTensor", "RaggedTensor"):  # (tf.sparse / tf.ragged live above tf.data)
                raise TypeError(f"from_tensor_slices: chainrule's tf.data slices dense arrays only, got a "
                                f"{type(leaf).__name__}; convert it first (tf.sparse.to_dense, RaggedTensor.to_tensor)")
        # on the host whatever the backend, as TensorFlow's input pipelines run on the CPU: fit moves each batch over
        source = map_structure(lambda leaf: backend.to_host(as_tensor(leaf).data), tensors)
        rows = {array.shape[0] if array.ndim else None for array in leaves(source)}
        if None in rows or len(rows) != 1:
            found = sorted(rows, key=str)
            raise ValueError(f"from_tensor_slices needs arrays with the same first dimension, got {found}")
        n = rows.pop()
        spec = map_structure(lambda a: TensorSpec(a.shape[1:], a.dtype), source)
        return Dataset(lambda: bl.row_numbers(n), n, source, spec, plain=True)

    @staticmethod
    def from_tensors(tensors: Structure, name: str | None = None) -> "Dataset":
        """A dataset of one element: ``tensors`` whole.

        >>> list(Dataset.from_tensors(np.array([1, 2, 3])).as_numpy_iterator())
        [array([1, 2, 3])]
        """
        if any(is_composite(leaf) for leaf in leaves(tensors)):  # a SparseTensor stays whole: one element
            return Dataset(lambda: iter([bl.as_objects([tensors])]), 1, None, _spec_of(tensors))
        return Dataset.from_tensor_slices(map_structure(lambda leaf: as_tensor(leaf).data[np.newaxis], tensors))

    @staticmethod
    def range(*args, output_type=np.int64, name: str | None = None) -> "Dataset":
        """``range(stop)``, ``range(start, stop)`` or ``range(start, stop, step)`` as scalar elements, int64 by
        default; its rows are computed, not stored.

        >>> list(Dataset.range(1, 5, 2).as_numpy_iterator()), list(Dataset.range(5, 1, -2).as_numpy_iterator())
        ([np.int64(1), np.int64(3)], [np.int64(5), np.int64(3)])
        """
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Dataset.range takes 1 to 3 positional arguments (stop; start, stop; start, stop, "
                             f"step), got {len(args)}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
        start, stop, step = (_count_arg(v, "range argument") for v in (start, stop, step))
        if step == 0:
            raise ValueError("Dataset.range: step must not be 0")
        n = len(range(start, stop, step))
        dtype = backend.as_dtype(output_type)
        return Dataset(lambda: bl.row_numbers(n), n, _Arange(start, step, n, dtype), TensorSpec((), dtype),
                       plain=True)

    @staticmethod
    def counter(start: int = 0, step: int = 1, dtype=np.int64, name: str | None = None) -> "Dataset":
        """``start``, ``start + step``, ... without end.

        >>> list(Dataset.counter(start=10, step=-1).take(3).as_numpy_iterator())
        [np.int64(10), np.int64(9), np.int64(8)]
        """
        dtype = backend.as_dtype(dtype)
        return Dataset(lambda: bl.row_numbers(None), INFINITE_CARDINALITY, _Arange(int(start), int(step), None, dtype),
                       TensorSpec((), dtype), plain=True)

    @staticmethod
    def list_files(file_pattern, shuffle: bool | None = None, seed: int | None = None,
                   name: str | None = None) -> "Dataset":
        """The names of the files matching ``file_pattern`` (:mod:`chainrule.data.file_patterns`)."""
        from chainrule.data.file_patterns import list_files

        return list_files(file_pattern, shuffle, seed, name)

    @staticmethod
    def from_generator(generator: Callable, output_types=None, output_shapes=None, args=None,
                       output_signature=None, name: str | None = None) -> "Dataset":
        """The elements ``generator(*args)`` yields, called again for each pass. ``output_signature`` (a structure
        of ``tf.TensorSpec``) says their structure, dtypes and shapes; each element is checked against it and
        converted to its dtypes (values that cannot be are a TypeError), as in TensorFlow. The older
        ``output_types`` (and ``output_shapes``) form works too.

        >>> def gen():
        ...     yield 1, [1.0]
        ...     yield 2, [2.0, 3.0]
        >>> ds = Dataset.from_generator(gen, output_signature=(TensorSpec((), np.int32),
        ...                                                    TensorSpec((None,), np.float32)))
        >>> list(ds.as_numpy_iterator())
        [(np.int32(1), array([1.], dtype=float32)), (np.int32(2), array([2., 3.], dtype=float32))]
        """
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if output_signature is not None:
            if output_types is not None or output_shapes is not None:
                raise TypeError("The `output_types` and `output_shapes` arguments cannot be used together with the "
                                "`output_signature` argument.")
            signature = output_signature
        elif output_types is not None:
            types = output_types
            shapes = map_structure(lambda _: None, types) if output_shapes is None else output_shapes
            signature = pack(types, [TensorSpec(padding.as_padded_shape(s), backend.as_dtype(t))
                                     for t, s in zip(leaves(types), padding.flatten_up_to(types, shapes,
                                                                                         "output_shapes"))])
        else:
            raise TypeError("To specify the output signature you need to provide either the `output_signature` "
                            "argument or the `output_types` argument.")
        for spec in leaves(signature):
            if not isinstance(spec, TensorSpec):
                raise TypeError(f"`output_signature` must contain objects that are subclass of `tf.TypeSpec` but "
                                f"found {type(spec)} which is not.")
        # as TensorFlow passes them: NumPy arrays, a scalar as a NumPy scalar (hashable: a dict key in the generator)
        call_args = () if args is None else tuple(_numpy_value(np.asarray(getattr(a, "data", a))) for a in args)

        def make_blocks() -> bl.Blocks:
            for value in generator(*call_args):
                yield _element_block(_conform(value, signature))

        return Dataset(make_blocks, UNKNOWN_CARDINALITY, spec=signature)

    @staticmethod
    def zip(*args, datasets=None, name: str | None = None) -> "Dataset":
        """Elements of several datasets side by side, in the structure they are given in (``zip(a, b)``,
        ``zip((a, b))``, ``zip({"x": a, "y": b})``); as long as the shortest.

        >>> a, b = Dataset.range(1, 4), Dataset.range(4, 7)
        >>> [tuple(int(v) for v in pair) for pair in Dataset.zip(a, b).as_numpy_iterator()]
        [(1, 4), (2, 5), (3, 6)]
        """
        if not args and datasets is None:
            raise TypeError("Must pass at least one dataset to `zip`.")
        if args and datasets is not None:
            raise TypeError("Both `*args` and `datasets` cannot be set.")
        structure = datasets if datasets is not None else (args[0] if len(args) == 1 else args)
        parts = leaves(structure)
        for part in parts:
            if not isinstance(part, Dataset):
                raise TypeError(f"Invalid `datasets`. `datasets` is expected to be a (nested) structure of "
                                f"`tf.data.Dataset` objects. Encountered object with type {type(part)}.")
        cardinality = _zip_cardinality([d._cardinality for d in parts])
        spec = _lazy(lambda: pack(structure, [d.element_spec for d in parts]),
                     *(d._spec for d in parts))
        if all(d._plain for d in parts):  # rows line up: one source of all the arrays, still gathered per batch
            source = pack(structure, [d._source for d in parts])
            n = cardinality if cardinality >= 0 else None
            return parts[0]._derived(lambda: bl.row_numbers(n), cardinality, source, spec, inputs=tuple(parts[1:]))._as_plain()

        def make_blocks() -> bl.Blocks:
            for element in zip(*(d._elements() for d in parts)):
                yield _element_block(pack(structure, list(element)))

        return parts[0]._derived(make_blocks, cardinality, spec=spec, inputs=tuple(parts[1:]))

    @staticmethod
    def sample_from_datasets(datasets: list, weights=None, seed: int | None = None,
                             stop_on_empty_dataset: bool = False, rerandomize_each_iteration: bool | None = None
                             ) -> "Dataset":
        """Elements drawn at random from ``datasets``, each from dataset i with probability ``weights[i]`` (uniform
        when None); a dataset that runs out ends the result (``stop_on_empty_dataset``) or stops being drawn.
        With a ``seed`` every pass draws the same order unless ``rerandomize_each_iteration``.

        >>> ds = Dataset.sample_from_datasets([Dataset.range(3), Dataset.range(10, 13)], seed=1)
        >>> sorted(int(x) for x in ds)
        [0, 1, 2, 10, 11, 12]
        """
        parts = _datasets_to_merge(datasets, "sample_from_datasets")
        probabilities = sampling.sampling_weights(weights, len(parts))
        base_seed = seed if seed is not None else int(backend.rng().integers(2**63))
        passes = itertools.count()
        fresh = seed is None or bool(rerandomize_each_iteration)

        def make_blocks() -> bl.Blocks:
            rng = np.random.default_rng([base_seed, next(passes) if fresh else 0])
            iterators = [d._elements() for d in parts]
            return map(_element_block, sampling.sampled(iterators, probabilities, rng, stop_on_empty_dataset))

        return _merged(parts, make_blocks)

    @staticmethod
    def choose_from_datasets(datasets: list, choice_dataset: "Dataset", stop_on_empty_dataset: bool = True
                             ) -> "Dataset":
        """For each int64 ``c`` of ``choice_dataset``, the next element of ``datasets[c]``; a chosen dataset that
        has run out ends the result (``stop_on_empty_dataset``) or is skipped.

        >>> ds = Dataset.choose_from_datasets([Dataset.range(3), Dataset.range(10, 13)],
        ...                                   Dataset.from_tensor_slices(np.array([0, 1, 1, 0])))
        >>> [int(x) for x in ds]
        [0, 10, 11, 1]
        """
        parts = _datasets_to_merge(datasets, "choose_from_datasets")
        if not isinstance(choice_dataset, Dataset):
            raise TypeError(f"Invalid `choice_dataset`. `choice_dataset` must be a `tf.data.Dataset`, got "
                            f"{type(choice_dataset).__name__}.")
        choice_spec = choice_dataset.element_spec
        if (not isinstance(choice_spec, TensorSpec) or choice_spec.shape != () or choice_spec.dtype != np.int64):
            raise TypeError(f"Invalid `choice_dataset`. Elements of `choice_dataset` must be scalar of `tf.int64` "
                            f"dtype, but found: {choice_spec}.")

        def make_blocks() -> bl.Blocks:
            iterators = [d._elements() for d in parts]
            return map(_element_block, sampling.chosen(iterators, choice_dataset._elements(), stop_on_empty_dataset))

        return _merged(parts + [choice_dataset], make_blocks, inputs_only=1)

    def _as_plain(self) -> "Dataset":
        self._plain = True
        return self

    # --- transformations ----------------------------------------------------------------------------------------
    def shuffle(self, buffer_size: int, seed: int | None = None, reshuffle_each_iteration: bool | None = None,
                name: str | None = None) -> "Dataset":
        """Random order. A buffer at least as large as the dataset gives a uniform permutation per epoch; a smaller
        one works like tf.data's buffer (each output is drawn from the next ``buffer_size`` items), so order is
        only mixed locally. Without a seed the draws come from :func:`chainrule.backend.rng` (see ``set_seed``).

        >>> ds = Dataset.from_tensor_slices(np.arange(5))
        >>> sorted(int(x) for x in ds.shuffle(5))
        [0, 1, 2, 3, 4]
        """
        buffer_size = _count_arg(buffer_size, "buffer_size")
        if buffer_size < 1:
            raise ValueError(f"shuffle buffer_size must be at least 1, got {buffer_size}")
        base_seed = seed if seed is not None else int(backend.rng().integers(2**63))
        epochs = itertools.count()
        full = 0 <= self._cardinality <= buffer_size
        reshuffle = reshuffle_each_iteration is None or reshuffle_each_iteration

        def make_blocks() -> bl.Blocks:
            rng = np.random.default_rng([base_seed, next(epochs) if reshuffle else 0])
            if full:
                return bl.permute(self._make_blocks(), rng)
            return bl.buffer_shuffle(self._make_blocks(), buffer_size, rng)

        return self._derived(make_blocks, self._cardinality, self._source, self._spec)

    def batch(self, batch_size: int, drop_remainder: bool = False, num_parallel_calls: int | None = None,
              deterministic: bool | None = None, name: str | None = None) -> "Dataset":
        """Stack ``batch_size`` consecutive elements into one; the last batch is smaller unless ``drop_remainder``.
        ``num_parallel_calls`` and ``deterministic`` are accepted for TensorFlow code: a batch is one gather (or one
        stack), made in order.

        >>> [x.shape for x in Dataset.from_tensor_slices(np.zeros((5, 2))).batch(2)]
        [TensorShape([2, 2]), TensorShape([2, 2]), TensorShape([1, 2])]
        """
        batch_size = _count_arg(batch_size, "batch_size")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        gather = self._gather_rows if self._source is not None else stack_structures

        def make_blocks() -> bl.Blocks:
            for chunk in bl.rebatch(self._make_blocks(), batch_size, drop_remainder):
                yield _element_block(gather(chunk))

        size = batch_size if drop_remainder else None
        spec = self._spec_map(lambda s: map_structure(lambda leaf: _batched_spec(leaf, size), s))
        return self._derived(make_blocks, _batched_cardinality(self._cardinality, batch_size, drop_remainder),
                             spec=spec)

    def padded_batch(self, batch_size: int, padded_shapes=None, padding_values=None, drop_remainder: bool = False,
                     name: str | None = None) -> "Dataset":
        """Like ``batch``, for elements whose shapes differ: each component is padded (after its values, on every
        axis) to ``padded_shapes`` (a size, or None / -1 for the batch's largest; default: the largest on every
        axis) with ``padding_values`` (default 0, ``""`` for text; one value for all components, or one each).

        >>> ds = Dataset.range(1, 5).map(lambda x: np.full([int(x)], int(x)))
        >>> for batch in ds.padded_batch(2, padded_shapes=5, padding_values=-1).as_numpy_iterator():
        ...     print(batch)
        [[ 1 -1 -1 -1 -1]
         [ 2  2 -1 -1 -1]]
        [[ 3  3  3 -1 -1]
         [ 4  4  4  4 -1]]
        """
        batch_size = _count_arg(batch_size, "batch_size")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        one_value = padding_values is None or not isinstance(padding_values, (tuple, list, dict))

        def settings(structure: Structure) -> tuple[list, list]:
            """Per component: the padded shape and the padding value."""
            count = len(leaves(structure))
            shapes = ([None] * count if padded_shapes is None else
                      [padding.as_padded_shape(s) for s in padding.flatten_up_to(structure, padded_shapes,
                                                                                 "padded_shapes")])
            values = ([padding_values] * count if one_value else
                      padding.flatten_up_to(structure, padding_values, "padding_values"))
            return shapes, values

        # the arguments are checked against the elements' structure now, unless they need none
        known = None if padded_shapes is None and one_value else settings(self.element_spec)

        def make_blocks() -> bl.Blocks:
            for chunk in bl.rebatch(self._element_blocks(), batch_size, drop_remainder):
                shapes, values = known or settings(chunk[0])
                yield _element_block(padding.pad_and_stack(list(chunk), shapes, values))

        size = batch_size if drop_remainder else None

        def padded_spec(spec):
            shapes = (known or settings(spec))[0]
            return pack(spec, [_batched_spec(TensorSpec(_padded_spec_shape(s.shape, shape), s.dtype), size)
                               for s, shape in zip(leaves(spec), shapes)])

        return self._derived(make_blocks, _batched_cardinality(self._cardinality, batch_size, drop_remainder),
                             spec=self._spec_map(padded_spec))

    def unbatch(self, name: str | None = None) -> "Dataset":
        """Split each element along its first axis into that many elements.

        >>> ds = Dataset.from_tensor_slices(np.arange(5)).batch(2).unbatch()
        >>> [int(x) for x in ds]
        [0, 1, 2, 3, 4]
        """
        spec = self._spec_map(lambda s: map_structure(_unbatched_spec, s))
        rows_per_element = _static_rows(self._spec)

        def make_blocks() -> bl.Blocks:
            for element in self._elements():
                parts = leaves(element)
                sizes = [np.shape(part)[0] if np.ndim(part) else None for part in parts]
                if None in sizes:
                    raise ValueError("Cannot unbatch an input with scalar components.")
                if len(set(sizes)) > 1:
                    other = next(i for i, n in enumerate(sizes) if n != sizes[0])
                    raise ValueError(f"Input element must have the same batch size in each component. Component 0 "
                                     f"had size {sizes[0]} but component {other} had size {sizes[other]}.")
                if sizes and sizes[0]:
                    yield bl.as_objects([pack(element, [part[i] for part in parts]) for i in range(sizes[0])])

        if self._cardinality == INFINITE_CARDINALITY:
            cardinality = INFINITE_CARDINALITY
        elif self._cardinality >= 0 and rows_per_element is not None:
            cardinality = self._cardinality * rows_per_element
        else:
            cardinality = UNKNOWN_CARDINALITY
        return self._derived(make_blocks, cardinality, spec=spec)

    def rebatch(self, batch_size, drop_remainder: bool = False, name: str | None = None) -> "Dataset":
        """The same rows in batches of ``batch_size`` (a list of sizes is used in turn), as ``unbatch().batch()``.

        >>> ds = Dataset.range(8).batch(4).rebatch([2, 1, 1])
        >>> [b.tolist() for b in ds.as_numpy_iterator()]
        [[0, 1], [2], [3], [4, 5], [6], [7]]
        """
        sizes = [_count_arg(s, "batch_size") for s in np.atleast_1d(np.asarray(batch_size, dtype=object))]
        if not sizes or min(sizes) < 1:
            raise ValueError(f"rebatch batch_size must be positive, got {batch_size!r}")
        rows = self.unbatch()

        def make_blocks() -> bl.Blocks:
            pending: list = []
            cycle = itertools.cycle(sizes)
            want = next(cycle)
            for row in rows._elements():
                pending.append(row)
                if len(pending) == want:
                    yield _element_block(stack_structures(pending))
                    pending, want = [], next(cycle)
            if pending and not drop_remainder:
                yield _element_block(stack_structures(pending))

        size = sizes[0] if drop_remainder and len(sizes) == 1 else None
        spec = rows._spec_map(lambda s: map_structure(lambda leaf: _batched_spec(leaf, size), s))
        cardinality = INFINITE_CARDINALITY if self._cardinality == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY
        return self._derived(make_blocks, cardinality, spec=spec)

    def map(self, map_func: Callable[..., Any], num_parallel_calls: int | None = None,
            deterministic: bool | None = None, name: str | None = None) -> "Dataset":
        """Apply ``map_func`` to each element, given as Tensors; a tuple element is spread over the arguments, as
        in tf.data. With ``num_parallel_calls`` (a count, or ``AUTOTUNE`` for one thread per core) the calls run
        on a pool of threads, the results in order (``deterministic=False``: as they finish); this pays off for
        work that releases the GIL (file reads, image decoding, large NumPy operations).

        >>> ds = Dataset.from_tensor_slices((np.array([1, 2]), np.array([3, 4]))).map(lambda x, y: x + y)
        >>> [int(z) for z in ds]
        [4, 6]
        """
        workers = _thread_count(num_parallel_calls, "num_parallel_calls")
        map_func = freeze_closure(map_func)  # (tf.data traces it now: data/map_context.py)

        def apply(element) -> Structure:
            with dataset_function():
                result = _call(map_func, element)
            return _to_arrays(tuple(result) if isinstance(result, list) else result)  # tf.data: a list is a tuple

        def make_blocks() -> bl.Blocks:
            if workers > 1 and not determinism.enabled():  # op determinism: one thread, so draws keep their order
                results = parallel.ordered_map(apply, self._elements(), workers, ordered=deterministic is not False)
            else:
                results = map(apply, self._elements())
            for element in results:
                yield _element_block(element)

        return self._derived(make_blocks, self._cardinality)

    def flat_map(self, map_func: Callable[..., "Dataset"], name: str | None = None) -> "Dataset":
        """Map each element to a dataset and chain the datasets' elements.

        >>> ds = Dataset.from_tensor_slices(np.array([[1, 2, 3], [4, 5, 6]])).flat_map(Dataset.from_tensor_slices)
        >>> [int(x) for x in ds]
        [1, 2, 3, 4, 5, 6]
        """
        map_func = freeze_closure(map_func)  # (tf.data traces it now: data/map_context.py)
        def make_blocks() -> bl.Blocks:
            for element in self._elements():
                yield from _returned_dataset(map_func, element, "flat_map")._element_blocks()

        return self._derived(make_blocks, UNKNOWN_CARDINALITY)

    def interleave(self, map_func: Callable[..., "Dataset"], cycle_length: int | None = None,
                   block_length: int | None = None, num_parallel_calls: int | None = None,
                   deterministic: bool | None = None, name: str | None = None) -> "Dataset":
        """Map each element to a dataset and take their elements in turn: ``cycle_length`` datasets open at once
        (default: one per core), ``block_length`` elements (default 1) from each before moving to the next. With
        ``num_parallel_calls`` each open dataset is read ahead on a thread of its own; the order is the same.

        >>> ds = Dataset.range(1, 4).interleave(lambda x: Dataset.from_tensors(x).repeat(3), cycle_length=2,
        ...                                     block_length=2)
        >>> [int(x) for x in ds]
        [1, 1, 2, 2, 1, 2, 3, 3, 3]
        """
        map_func = freeze_closure(map_func)  # (tf.data traces it now: data/map_context.py)
        cycle = AUTOTUNE if cycle_length is None else _count_arg(cycle_length, "cycle_length")
        cycle = parallel.cores() if cycle == AUTOTUNE else cycle
        block = 1 if block_length is None else _count_arg(block_length, "block_length")
        if cycle < 1 or block < 1:
            raise ValueError(f"interleave: cycle_length and block_length must be positive, got {cycle_length!r} "
                             f"and {block_length!r}")
        _thread_count(num_parallel_calls, "num_parallel_calls")  # checked; the threads are one per open dataset
        read_ahead = num_parallel_calls is not None

        def open_element(element) -> Iterator:
            dataset = _returned_dataset(map_func, element, "interleave")
            if read_ahead and not determinism.enabled():
                return parallel.background(dataset._elements, buffer_size=block)
            return dataset._elements()

        def make_blocks() -> bl.Blocks:
            for element in streams.interleave(self._elements(), open_element, cycle, block):
                yield _element_block(element)

        return self._derived(make_blocks, UNKNOWN_CARDINALITY)

    def window(self, size: int, shift: int | None = None, stride: int = 1, drop_remainder: bool = False,
               name: str | None = None) -> "Dataset":
        """Windows of ``size`` elements, each a dataset (a structure of datasets for structured elements, one per
        component), starting ``shift`` (default ``size``) elements apart, taking every ``stride``-th element; the
        last windows are shorter unless ``drop_remainder``. Flatten them with ``flat_map``.

        >>> for w in Dataset.range(7).window(3, shift=1, stride=2, drop_remainder=True):
        ...     print([int(x) for x in w])
        [0, 2, 4]
        [1, 3, 5]
        [2, 4, 6]
        """
        size = _count_arg(size, "size")
        shift = size if shift is None else _count_arg(shift, "shift")
        stride = _count_arg(stride, "stride")
        for value, what in ((size, "size"), (shift, "shift"), (stride, "stride")):
            if value < 1:
                raise ValueError(f"Window {what} must be greater than zero, but got {value}.")
        def component_spec(k: int) -> Spec:
            return (lambda: leaves(self.element_spec)[k]) if callable(self._spec) else leaves(self._spec)[k]

        def window_dataset(window: list) -> Structure:
            flat = [leaves(element) for element in window]
            return pack(window[0], [Dataset._from_list([parts[k] for parts in flat], component_spec(k))
                                    for k in range(len(flat[0]))])

        def make_blocks() -> bl.Blocks:
            for window in streams.windows(self._elements(), size, shift, stride, drop_remainder):
                yield _element_block(window_dataset(window))

        n = self._cardinality
        if n < 0:
            cardinality = n
        elif drop_remainder:
            rest = n - ((size - 1) * stride + 1)
            cardinality = 0 if rest < 0 else rest // shift + 1
        else:
            cardinality = -(-n // shift)
        spec = self._spec_map(lambda s: map_structure(DatasetSpec, s))
        return self._derived(make_blocks, cardinality, spec=spec)

    @staticmethod
    def _from_list(elements: list, spec: Spec) -> "Dataset":
        return Dataset(lambda: iter((bl.as_objects(elements),)), len(elements), spec=spec)

    def repeat(self, count: int | None = None, name: str | None = None) -> "Dataset":
        """The dataset ``count`` times over (None or -1: forever); each pass reshuffles an earlier ``shuffle``.

        >>> int(Dataset.from_tensor_slices(np.arange(3)).repeat(2).cardinality())
        6
        """
        count = None if count is None else _count_arg(count, "count")
        passes = None if count is None or count < 0 else count
        if self._cardinality == 0 or passes == 0:
            passes, cardinality = 0, 0
        elif passes is None:
            cardinality = INFINITE_CARDINALITY
        elif self._cardinality < 0:
            cardinality = self._cardinality
        else:
            cardinality = self._cardinality * passes
        return self._derived(lambda: bl.repeat(self._make_blocks, passes), cardinality, self._source, self._spec)

    def take(self, count: int, name: str | None = None) -> "Dataset":
        """The first ``count`` elements (-1: all of them).

        >>> [int(x) for x in Dataset.from_tensor_slices(np.arange(5)).take(2)]
        [0, 1]
        """
        count = _count_arg(count, "count")
        if count < 0:
            return self._derived(self._make_blocks, self._cardinality, self._source, self._spec)
        cardinality = {INFINITE_CARDINALITY: count, UNKNOWN_CARDINALITY: UNKNOWN_CARDINALITY}.get(
            self._cardinality, min(count, self._cardinality))
        return self._derived(lambda: bl.take(self._make_blocks(), count), cardinality, self._source, self._spec)

    def skip(self, count: int, name: str | None = None) -> "Dataset":
        """All but the first ``count`` elements (-1: none of them, as in TensorFlow).

        >>> [int(x) for x in Dataset.from_tensor_slices(np.arange(5)).skip(3)]
        [3, 4]
        """
        count = _count_arg(count, "count")
        if count < 0:
            return self._derived(lambda: iter(()), 0, self._source, self._spec)
        cardinality = self._cardinality
        if cardinality >= 0:
            cardinality = max(cardinality - count, 0)
        return self._derived(lambda: bl.skip(self._make_blocks(), count), cardinality, self._source, self._spec)

    def shard(self, num_shards: int, index: int, name: str | None = None) -> "Dataset":
        """Every ``num_shards``-th element, starting at ``index``: one worker's part of the data.

        >>> [int(x) for x in Dataset.range(10).shard(num_shards=3, index=1)]
        [1, 4, 7]
        """
        num_shards, index = _count_arg(num_shards, "num_shards"), _count_arg(index, "index")
        if num_shards < 1:
            raise ValueError(f"num_shards must be >= 1; got: {num_shards}")
        if index < 0:
            raise ValueError(f"index must be >= 0; got: {index}")
        if index >= num_shards:
            raise ValueError(f"index must be < num_shards; {index} is not < {num_shards}")
        n = self._cardinality
        cardinality = n if n < 0 else n // num_shards + (1 if index < n % num_shards else 0)
        return self._derived(lambda: bl.shard(self._make_blocks(), num_shards, index), cardinality, self._source,
                             self._spec)

    def enumerate(self, start: int = 0, name: str | None = None) -> "Dataset":
        """Pairs ``(i, element)`` with ``i`` counting from ``start`` (int64).

        >>> [(int(i), int(x)) for i, x in Dataset.from_tensor_slices(np.array([1, 2, 3])).enumerate(start=5)]
        [(5, 1), (6, 2), (7, 3)]
        """
        start = _count_arg(start, "start")
        return Dataset.zip((Dataset.range(start, _INT64_MAX), self))

    def concatenate(self, dataset: "Dataset", name: str | None = None) -> "Dataset":
        """This dataset's elements, then ``dataset``'s; their structures and dtypes must agree.

        >>> [int(x) for x in Dataset.range(1, 3).concatenate(Dataset.range(5, 7))]
        [1, 2, 5, 6]
        """
        if not isinstance(dataset, Dataset):
            raise TypeError(f"concatenate expects a tf.data.Dataset, got {type(dataset).__name__}")
        mine, theirs = self.element_spec, dataset.element_spec
        if not _same_types(mine, theirs):
            raise TypeError(f"Two datasets to concatenate have different types {_types(mine)} and {_types(theirs)}")
        spec = map_structure(lambda a, b: TensorSpec(relaxed(a.shape, b.shape), a.dtype), mine, theirs)
        a, b = self._cardinality, dataset._cardinality
        if INFINITE_CARDINALITY in (a, b):
            cardinality = INFINITE_CARDINALITY
        elif UNKNOWN_CARDINALITY in (a, b):
            cardinality = UNKNOWN_CARDINALITY
        else:
            cardinality = a + b
        return self._derived(lambda: itertools.chain(self._element_blocks(), dataset._element_blocks()), cardinality,
                             spec=spec, inputs=(dataset,))

    def filter(self, predicate: Callable[..., Any], name: str | None = None) -> "Dataset":
        """The elements for which ``predicate`` (given Tensors, a tuple spread over the arguments, as in ``map``)
        returns True, as a boolean scalar. The count is then unknown until iterated: ``cardinality()`` is
        ``UNKNOWN_CARDINALITY`` (-2), and ``len()`` raises.

        >>> ds = Dataset.from_tensor_slices(np.arange(6)).filter(lambda x: x % 2 == 0)
        >>> [int(x) for x in ds], int(ds.cardinality())
        ([0, 2, 4], -2)
        """
        predicate = freeze_closure(predicate)  # (tf.data traces it now: data/map_context.py)
        def keep(element) -> bool:
            verdict = as_tensor(_call(predicate, element)).data
            if verdict.shape != () or verdict.dtype != np.bool_:
                raise TypeError(f"filter: the predicate must return a boolean scalar, got one of shape "
                                f"{verdict.shape} and dtype {verdict.dtype}")
            return bool(verdict)

        def make_blocks() -> bl.Blocks:
            for block in self._make_blocks():
                if self._source is not None:  # row numbers: keep those whose rows pass
                    kept = block[np.fromiter((keep(self._gather_rows(row)) for row in block), bool, len(block))]
                else:
                    kept = bl.as_objects([e for e in block if keep(e)])
                if len(kept):
                    yield kept

        return self._derived(make_blocks, UNKNOWN_CARDINALITY, self._source, self._spec)

    def rejection_resample(self, class_func: Callable[..., Any], target_dist, initial_dist=None,
                           seed: int | None = None, name: str | None = None) -> "Dataset":
        """``(class, element)`` pairs whose classes (``class_func(element)``: an int32 or int64 scalar in
        ``[0, len(target_dist))``) come out in the proportions ``target_dist``, by TensorFlow's rejection
        resampling (:func:`chainrule.data.sampling.rejection_resampled`); ``initial_dist`` is the data's class
        proportions, estimated from the elements seen when None. Ends when the data does.

        >>> ds = Dataset.from_tensor_slices(np.array([0] * 90 + [1] * 10)).repeat()
        >>> labels = [int(c) for c, _ in ds.rejection_resample(lambda x: x, [0.5, 0.5], [0.9, 0.1], seed=0).take(400)]
        >>> 0.4 < sum(labels) / len(labels) < 0.6
        True
        """
        target = sampling.sampling_weights(target_dist, len(np.ravel(getattr(target_dist, "data", target_dist))))
        initial = None if initial_dist is None else sampling.sampling_weights(initial_dist, len(target))
        class_func = freeze_closure(class_func)

        def class_of(element) -> int:
            label = as_tensor(_call(class_func, element)).data
            if label.shape != () or label.dtype.kind not in "iu":
                raise TypeError(f"rejection_resample: `class_func` must return an integer scalar, got shape "
                                f"{label.shape} and dtype {label.dtype}")
            if not 0 <= int(label) < len(target):
                raise ValueError(f"rejection_resample: class {int(label)} is outside [0, {len(target)})")
            return int(label)

        base_seed = seed if seed is not None else int(backend.rng().integers(2**63))
        passes = itertools.count()

        def make_blocks() -> bl.Blocks:
            rng = np.random.default_rng([base_seed, next(passes)])
            pairs = sampling.rejection_resampled(self._elements(), self._elements(), class_of, target, initial, rng)
            return (_element_block((np.int64(label), element)) for label, element in pairs)

        spec = self._spec_map(lambda s: (TensorSpec((), np.int64), s))
        return self._derived(make_blocks, UNKNOWN_CARDINALITY, spec=spec)

    def cache(self, filename: str = "", name: str | None = None) -> "Dataset":
        """The elements of the first complete pass, kept in memory; later passes replay them, so the work before
        ``cache()`` (a ``map``, a ``shuffle``) runs once, as in tf.data. A pass stopped early keeps nothing.

        >>> calls = []
        >>> ds = Dataset.from_tensor_slices(np.arange(3)).map(lambda x: calls.append(1) or x * 2).cache()
        >>> [int(x) for x in ds] == [int(x) for x in ds] == [0, 2, 4], len(calls)
        (True, 3)
        """
        if filename:
            raise NotImplementedError(f"Dataset.cache(filename={filename!r}): a cache file is not supported; "
                                      f"cache() keeps the elements in memory")
        complete: list[list] = []  # one list of blocks once a pass has run to the end

        def make_blocks() -> bl.Blocks:
            if complete:
                return iter(complete[0])
            return _recorded(self._make_blocks(), complete)

        return self._derived(make_blocks, self._cardinality, self._source, self._spec)

    def snapshot(self, path: str, compression: str | None = "AUTO", reader_func=None, shard_func=None,
                 checkpoint_args=None, name: str | None = None) -> "Dataset":
        """The elements of the first complete pass written to the folder ``path`` and read from there afterwards,
        also by a later program that builds the same pipeline (:mod:`chainrule.data.snapshot`)."""
        from chainrule.data.snapshot import snapshot

        return snapshot(self, path)

    def prefetch(self, buffer_size: int, name: str | None = None) -> "Dataset":
        """The same elements, made on a background thread up to ``buffer_size`` ahead of the consumer
        (``AUTOTUNE``: a small buffer), so that the next batches are ready while the model trains on this one. An
        error in the pipeline is raised to the consumer; a loop that stops early stops the thread.

        >>> list(Dataset.range(3).prefetch(2).as_numpy_iterator())
        [np.int64(0), np.int64(1), np.int64(2)]
        """
        buffer_size = _count_arg(buffer_size, "buffer_size")
        if buffer_size == AUTOTUNE:
            buffer_size = _AUTOTUNE_PREFETCH
        elif buffer_size < 0:
            raise ValueError(f"prefetch buffer_size must be >= 0 or tf.data.AUTOTUNE, got {buffer_size}")
        if buffer_size == 0:
            return self._derived(self._make_blocks, self._cardinality, self._source, self._spec)
        return self._derived(lambda: parallel.background(self._make_blocks, buffer_size), self._cardinality,
                             self._source, self._spec)

    def with_options(self, options: Options, name: str | None = None) -> "Dataset":
        """The same dataset with ``options`` merged into its options (a setting given again takes the new value).

        >>> options = Options()
        >>> options.deterministic = False
        >>> Dataset.range(3).with_options(options).options().deterministic
        False
        """
        if not isinstance(options, Options):
            raise TypeError(f"with_options expects a tf.data.Options, got {type(options).__name__}")
        kept = merge_options(*(o for o in (self._options, options) if o is not None))  # a copy: later edits stay out
        return Dataset(self._make_blocks, self._cardinality, self._source, self._spec, kept, self._plain)

    def apply(self, transformation_func: Callable[["Dataset"], "Dataset"]) -> "Dataset":
        """``transformation_func(self)``, which must return a dataset (for chaining custom transformations)."""
        dataset = transformation_func(self)
        if not isinstance(dataset, Dataset):
            raise TypeError(f"`transformation_func` must return a `tf.data.Dataset` object. Got {type(dataset)}.")
        return dataset

    # --- reading ------------------------------------------------------------------------------------------------
    def options(self) -> Options:
        """The options set on this dataset and its inputs (read-only: set them with ``with_options``)."""
        options = merge_options(self._options if self._options is not None else Options())
        options._set_mutable(False)
        return options

    @property
    def element_spec(self) -> Structure:
        """The structure, shapes and dtypes of an element, as ``tf.TensorSpec``s (see the module's docstring).

        >>> Dataset.from_tensor_slices(np.array([1, 2, 3])).element_spec
        TensorSpec(shape=(), dtype=tf.int64, name=None)
        """
        if callable(self._spec):
            self._spec = self._spec()
        return self._spec

    def cardinality(self) -> Tensor:
        """The number of elements as an int64 scalar, ``INFINITE_CARDINALITY`` (-1) after an endless ``repeat()``,
        or ``UNKNOWN_CARDINALITY`` (-2) after ``filter`` or ``from_generator``.

        >>> int(Dataset.range(42).repeat().cardinality())
        -1
        """
        return as_tensor(np.int64(self._cardinality))

    def reduce(self, initial_state: Structure, reduce_func: Callable) -> Structure:
        """Fold the elements into one value: ``state = reduce_func(state, element)`` from ``initial_state``.

        >>> int(Dataset.range(5).reduce(np.int64(0), lambda total, x: total + x))
        10
        """
        state = map_structure(as_tensor, initial_state)
        for element in self._elements():
            state = map_structure(as_tensor, reduce_func(state, _to_tensors(element)))
        return state

    def get_single_element(self, name: str | None = None) -> Structure:
        """The one element of a dataset that has exactly one.

        >>> int(Dataset.from_tensors(np.int64(7)).get_single_element())
        7
        """
        elements = self._elements()
        first = next(elements, _NOTHING)
        if first is _NOTHING:
            raise ValueError("Dataset had no elements.")
        if next(elements, _NOTHING) is not _NOTHING:
            raise ValueError("Dataset had more than one element.")
        return _to_tensors(first)

    def __len__(self) -> int:
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __bool__(self) -> bool:
        return True  # an infinite dataset has no len(), but is still a dataset

    def __iter__(self) -> OwnedIterator:
        """One epoch of elements as chainrule Tensors: ``for images, labels in dataset:``; a checkpoint can save the
        iterator's position (:mod:`chainrule.data.iterator`)."""
        return OwnedIterator(self._elements, _to_tensors, lambda: self.element_spec)

    def as_numpy_iterator(self) -> Iterator[Structure]:
        """One epoch of elements as NumPy arrays (a scalar as a NumPy scalar, text as bytes, as TensorFlow gives them);
        the iterator also has TensorFlow's ``next()`` method.

        >>> list(Dataset.from_tensor_slices({"a": np.arange(2)}).as_numpy_iterator())
        [{'a': np.int64(0)}, {'a': np.int64(1)}]
        >>> list(Dataset.from_tensor_slices(["x", "yz"]).as_numpy_iterator())
        [b'x', b'yz']
        """
        if not callable(self._spec):
            _no_dataset_components(self._spec, "as_numpy_iterator()")
        return _NumpyIterator(map_structure(_numpy_value, element) for element in self._elements())

    def __repr__(self) -> str:
        spec = "(read from the first element when asked)" if callable(self._spec) else self._spec
        return f"<Dataset element_spec={spec}>"

    # --- internals ----------------------------------------------------------------------------------------------
    def _elements(self) -> Iterator[Structure]:
        for block in self._make_blocks():
            if self._source is None:
                yield from block
            else:
                for row in block:
                    yield self._gather_rows(row)

    def _element_blocks(self) -> bl.Blocks:
        """The stream as blocks of elements (row numbers gathered), for transformations that take elements."""
        if self._source is None:
            return self._make_blocks()
        return (bl.as_objects([self._gather_rows(row) for row in block]) for block in self._make_blocks())

    def _gather_rows(self, rows: Any) -> Structure:
        source = self._source
        if type(source) is tuple and all(type(array) is np.ndarray for array in source):  # (x, y): no tree walk
            return tuple(array[rows] for array in source)
        return map_structure(lambda array: array[rows], source)

    def _first_spec(self) -> Structure:
        first = next(self._elements(), _NOTHING)
        if first is _NOTHING:
            raise ValueError("The element_spec of this dataset comes from its first element (a function made its "
                             "elements), and it has none")
        return _spec_of(first)

    def _spec_map(self, fn: Callable[[Structure], Structure]) -> Spec:
        """``fn`` of this dataset's element_spec: now when it is known, else when first asked for."""
        if callable(self._spec):
            return lambda: fn(self.element_spec)
        return fn(self._spec)


# --- helpers --------------------------------------------------------------------------------------------------------
_NOTHING = object()


class _NumpyIterator:
    """What ``as_numpy_iterator`` returns: an iterator with TensorFlow's ``next()`` method as well
    (``test_dataset.as_numpy_iterator().next()``, TensorFlow's transfer-learning tutorial)."""

    def __init__(self, elements: Iterator[Structure]):
        self._elements = elements

    def __iter__(self) -> "_NumpyIterator":
        return self

    def __next__(self) -> Structure:
        return next(self._elements)

    def next(self) -> Structure:
        return next(self._elements)


class _Arange:
    """The column ``start + step * row`` of ``range``/``counter``, computed for the rows asked for."""

    def __init__(self, start: int, step: int, n: int | None, dtype: np.dtype):
        self.start, self.step, self.n, self.dtype = start, step, n, dtype

    def __getitem__(self, rows):
        values = self.start + np.asarray(rows, dtype=np.int64) * self.step
        return values.astype(self.dtype)[()] if np.ndim(rows) == 0 else values.astype(self.dtype)


def _count_arg(value: Any, name: str) -> int:
    """An integer argument given as an int, a NumPy integer or an integer scalar Tensor."""
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.shape != () or array.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must be an integer scalar, got {value!r}")
    return int(array)


def _thread_count(num_parallel_calls: int | None, name: str) -> int:
    """Threads for ``num_parallel_calls``: None -> 1 (run in the consumer's thread), AUTOTUNE -> one per core."""
    if num_parallel_calls is None:
        return 1
    count = _count_arg(num_parallel_calls, name)
    if count == AUTOTUNE:
        return parallel.cores()
    if count < 1:
        raise ValueError(f"`{name}` must be a positive integer or tf.data.AUTOTUNE, got {count}")
    return count


def _batched_cardinality(n: int, size: int, drop_remainder: bool) -> int:
    if n < 0:  # infinite or unknown stays so
        return n
    return n // size if drop_remainder else -(-n // size)


def _zip_cardinality(counts: list[int]) -> int:
    """TensorFlow's rule: unknown if any is unknown, else the shortest (infinite if all are)."""
    if UNKNOWN_CARDINALITY in counts:
        return UNKNOWN_CARDINALITY
    finite = [n for n in counts if n != INFINITE_CARDINALITY]
    return min(finite) if finite else INFINITE_CARDINALITY


def _lazy(make: Callable[[], Structure], *specs: Spec) -> Spec:
    """``make()`` now if every one of ``specs`` is known, else a callable that makes it when asked."""
    return make if any(callable(s) for s in specs) else make()


def _batched_spec(spec, size: int | None) -> TensorSpec:
    if isinstance(spec, DatasetSpec):
        raise TypeError("Cannot batch a component that is a dataset (such as the windows of Dataset.window)")
    return batched(spec, size)


def _unbatched_spec(spec) -> TensorSpec:
    if isinstance(spec, DatasetSpec):
        raise TypeError("Cannot unbatch a component that is a dataset")
    return unbatched(spec)


def _padded_spec_shape(element_shape: tuple | None, padded: tuple | None) -> tuple | None:
    if padded is None:
        return element_shape
    if element_shape is not None and len(element_shape) != len(padded):
        raise ValueError(f"The padded shape {list(padded)} is not compatible with the shape "
                         f"{list(element_shape)} of the component: they have different ranks")
    return padded


def _static_rows(spec: Spec) -> int | None:
    """The size of the first axis shared by every component, when the spec says it."""
    if callable(spec):
        return None
    sizes = {s.shape[0] if isinstance(s, TensorSpec) and s.shape else None for s in leaves(spec)}
    return sizes.pop() if len(sizes) == 1 else None


def _no_dataset_components(spec: Structure, what: str) -> None:
    for leaf in leaves(spec):
        if isinstance(leaf, DatasetSpec):
            raise TypeError(f"`tf.data.Dataset.{what}` is not supported for datasets that produce values of type "
                            f"Dataset (iterate the inner datasets, or flatten them with flat_map)")


def _datasets_to_merge(datasets, method: str) -> list:
    """``datasets`` checked for sample_from_datasets / choose_from_datasets: a non-empty list of Datasets of one
    structure and dtypes."""
    parts = list(datasets) if isinstance(datasets, (list, tuple)) else None
    if not parts or not all(isinstance(d, Dataset) for d in parts):
        raise TypeError(f"Invalid `datasets`. `datasets` should be a non-empty list of `tf.data.Dataset` objects "
                        f"({method}), got {datasets!r}.")
    first = parts[0].element_spec
    for other in parts[1:]:
        if not _same_types(first, other.element_spec):
            raise TypeError(f"Incompatible dataset elements in {method}: {_types(first)} and "
                            f"{_types(other.element_spec)}.")
    return parts


def _merged(parts: list, make_blocks: Callable[[], bl.Blocks], inputs_only: int = 0) -> Dataset:
    """The dataset of ``make_blocks`` drawing on ``parts`` (the last ``inputs_only`` of them give no elements):
    its spec relaxes theirs; endless when every part is, else of unknown size."""
    sources = parts[:len(parts) - inputs_only]
    spec = sources[0].element_spec
    for other in sources[1:]:
        spec = map_structure(lambda a, b: TensorSpec(relaxed(a.shape, b.shape), a.dtype), spec, other.element_spec)
    endless = all(d._cardinality == INFINITE_CARDINALITY for d in parts)
    cardinality = INFINITE_CARDINALITY if endless else UNKNOWN_CARDINALITY
    return parts[0]._derived(make_blocks, cardinality, spec=spec, inputs=tuple(parts[1:]))


def _leaf_spec(leaf: Any):
    if isinstance(leaf, Dataset):
        return DatasetSpec(leaf.element_spec)
    if is_composite(leaf):  # its dense shape and dtype
        return SparseTensorSpec(np.asarray(leaf.dense_shape.numpy() if isinstance(leaf.dense_shape, Tensor)
                                           else leaf.dense_shape).tolist(),
                                np.asarray(leaf.values.numpy()).dtype, type(leaf))
    return TensorSpec(np.shape(leaf), np.asarray(leaf).dtype)


def _spec_of(element: Structure) -> Structure:
    return map_structure(_leaf_spec, element)


def _same_types(a: Structure, b: Structure) -> bool:
    try:
        map_structure(lambda x, y: None, a, b)
    except (ValueError, TypeError):
        return False
    return all(type(x) is type(y) and (not isinstance(x, TensorSpec) or x.dtype == y.dtype)
               for x, y in zip(leaves(a), leaves(b)))


def _types(spec: Structure) -> str:
    names = map_structure(lambda s: dtype_name(s.dtype) if isinstance(s, TensorSpec) else repr(s), spec)
    return str(names).replace("'", "")


def _to_tensors(element: Structure) -> Structure:
    if type(element) is tuple and all(type(leaf) is np.ndarray for leaf in element):  # (x, y): no tree walk
        return tuple(as_tensor(leaf) for leaf in element)
    return map_structure(lambda leaf: leaf if isinstance(leaf, Dataset) or is_composite(leaf) else as_tensor(leaf),
                         element)


def _to_arrays(result: Structure) -> Structure:
    return map_structure(lambda leaf: leaf if isinstance(leaf, Dataset) or is_composite(leaf) else as_tensor(leaf).data,
                         result)


def _numpy_value(leaf: Any) -> Any:
    if isinstance(leaf, Dataset):
        raise TypeError("`tf.data.Dataset.as_numpy_iterator()` is not supported for datasets that produce values "
                        "of type Dataset")
    if not isinstance(leaf, (np.ndarray, np.generic)):
        return leaf
    leaf = text_as_bytes(np.asarray(leaf))  # text as bytes, as TensorFlow gives it
    return leaf[()] if isinstance(leaf, np.ndarray) and leaf.ndim == 0 else leaf


def _call(fn: Callable, element: Structure) -> Any:
    """``fn`` on an element as tf.data calls it: a tuple spread over the arguments, anything else as one."""
    tensors = _to_tensors(element)
    return fn(*tensors) if isinstance(tensors, tuple) else fn(tensors)


def _returned_dataset(map_func: Callable, element: Structure, method: str) -> Dataset:
    dataset = _call(map_func, element)
    if not isinstance(dataset, Dataset):
        raise TypeError(f"The `map_func` argument of {method} must return a `Dataset` object. Got "
                        f"{type(dataset)}.")
    return dataset


def _conform(value: Any, signature: Structure) -> Structure:
    """A value ``from_generator``'s generator yielded, as arrays of the signature's dtypes (TypeError if not)."""
    specs = leaves(signature)
    parts = [value] if not isinstance(signature, (tuple, dict)) else None
    if parts is None:
        try:
            parts = padding.flatten_up_to(signature, value, "value")
        except ValueError:
            raise TypeError(f"`generator` yielded an element that did not match the expected structure. The "
                            f"expected structure was {signature}, but the yielded element was {value}.") from None
    arrays = []
    for part, spec in zip(parts, specs):
        raw = part.data if isinstance(part, Tensor) else part
        given = np.asarray(raw)
        if given.dtype == spec.dtype or (given.dtype.kind in "US" and spec.dtype.kind in "USO"):
            array = given
        elif not isinstance(raw, np.ndarray) and not (given.dtype.kind == "f" and spec.dtype.kind in "iub"):
            array = given.astype(spec.dtype)  # Python numbers and lists take the signature's dtype
        elif np.can_cast(given.dtype, spec.dtype, "same_kind"):
            array = given.astype(spec.dtype)
        else:
            raise TypeError(f"`generator` yielded an element of {TensorSpec(given.shape, given.dtype)} where an "
                            f"element of {spec} was expected.")
        if not shapes_fit(spec.shape, array.shape):
            raise TypeError(f"`generator` yielded an element of {TensorSpec(array.shape, array.dtype)} where an "
                            f"element of {spec} was expected.")
        arrays.append(array)
    return pack(signature, arrays)


def _recorded(blocks: bl.Blocks, complete: list) -> bl.Blocks:
    """Pass ``blocks`` through; when they run out, append the list of them to ``complete``."""
    seen = []
    for block in blocks:
        seen.append(block)
        yield block
    complete.append(seen)


def _element_block(element: Structure) -> np.ndarray:
    """A block that holds one element (dtype=object keeps tuples and dicts whole)."""
    return np.fromiter((element,), dtype=object, count=1)
