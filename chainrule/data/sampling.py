"""The element orders of ``Dataset.sample_from_datasets`` and ``Dataset.choose_from_datasets``: which input's next
element comes next, drawn at random by weight or read from a dataset of indices.

>>> import numpy as np
>>> list(chosen([iter("ab"), iter("xyz")], iter([1, 0, 1, 1, 1, 0]), stop_on_empty_dataset=False))
['x', 'a', 'y', 'z', 'b']
>>> sorted(sampled([iter("ab"), iter("xy")], [0.5, 0.5], np.random.default_rng(0), stop_on_empty_dataset=False))
['a', 'b', 'x', 'y']
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

_DRAWS = 1024  # indices drawn at a time


def sampling_weights(weights, n: int) -> np.ndarray:
    """``weights`` (None: uniform) as n probabilities that sum to 1; ValueError for a wrong count or sign."""
    if weights is None:
        return np.full(n, 1.0 / n)
    array = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
    if array.shape != (n,):
        raise ValueError(f"Invalid `weights`. The shape of `weights` should be compatible with `[len(datasets)]` = "
                         f"[{n}] but is {list(array.shape)}.")
    if (array < 0).any() or not np.isfinite(array).all() or array.sum() <= 0:
        raise ValueError(f"Invalid `weights`: they must be finite, non-negative and not all zero, got "
                         f"{array.tolist()}.")
    return array / array.sum()


def sampled(iterators: list[Iterator], weights: np.ndarray, rng: np.random.Generator,
            stop_on_empty_dataset: bool) -> Iterator:
    """Elements of the inputs, each from input i with probability ``weights[i]``; an input that runs out either
    ends the stream (``stop_on_empty_dataset``) or leaves, the others' weights renormalised."""
    weights = np.array(weights, dtype=np.float64)
    while weights.sum() > 0:
        for i in rng.choice(len(weights), size=_DRAWS, p=weights / weights.sum()):
            try:
                yield next(iterators[i])
            except StopIteration:
                if stop_on_empty_dataset:
                    return
                weights[i] = 0.0
                break


def chosen(iterators: list[Iterator], choices: Iterator, stop_on_empty_dataset: bool) -> Iterator:
    """The next element of input ``c`` for each index ``c`` of ``choices``; an input that runs out ends the stream
    (``stop_on_empty_dataset``) or is skipped."""
    for choice in choices:
        index = int(choice)
        if not 0 <= index < len(iterators):
            raise ValueError(f"Selector index out of range: choice_dataset gave {index}, but there are "
                             f"{len(iterators)} datasets.")
        try:
            yield next(iterators[index])
        except StopIteration:
            if stop_on_empty_dataset:
                return


def acceptance_and_mixing(initial: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    """TensorFlow's rejection_resample rates: with r_i = target_i / initial_i, an element is drawn from the
    unfiltered data with probability m = min(r), else from the data filtered by class, class i accepted with
    probability a_i = (r_i - m) / (max(r) - m); together the classes come out in the target proportions.

    >>> a, m = acceptance_and_mixing(np.array([0.9, 0.1]), np.array([0.5, 0.5]))
    >>> a.round(3).tolist(), round(m, 3)
    ([0.0, 1.0], 0.556)
    """
    ratio = target / (initial + np.finfo(np.float64).tiny)
    low, high = float(ratio.min()), float(ratio.max())
    if high - low <= 1e-12 * max(high, 1.0):  # the data already has the target proportions
        return np.ones_like(ratio), 1.0
    return (ratio - low) / (high - low), min(low, 1.0)


def rejection_resampled(originals: Iterator, candidates: Iterator, class_of, target: np.ndarray,
                        initial: np.ndarray | None, rng: np.random.Generator) -> Iterator:
    """(class, element) pairs whose classes follow ``target``: drawn from ``originals`` with the mixing probability,
    else the next element of ``candidates`` its class accepts (two passes over the same data, as TensorFlow's
    sample of the unfiltered and the filtered datasets). With ``initial`` None the class proportions are estimated
    from the counts seen so far, and the rates follow the estimate."""
    counts = np.zeros(len(target))

    def rates() -> tuple[np.ndarray, float]:
        if initial is not None:
            return acceptance_and_mixing(initial, target)
        return acceptance_and_mixing(counts / max(counts.sum(), 1.0), target)

    while True:
        accept, mixing = rates()
        source = originals if rng.random() < mixing else None
        try:
            if source is not None:
                element = next(source)
                label = class_of(element)
                counts[label] += 1
                yield label, element
                continue
            while True:
                element = next(candidates)
                label = class_of(element)
                counts[label] += 1
                accept, _ = rates()
                if rng.random() < accept[label]:
                    yield label, element
                    break
        except StopIteration:
            return
