"""The learning-rate range test (Smith 2017, "Cyclical Learning Rates"; fastai's ``lr_find``):
``model.find_learning_rate(x, y)``.

Training runs for ``num_steps`` batches while the learning rate grows exponentially from ``start_lr`` to ``end_lr``
(step ``i`` uses ``start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))``). Each batch's loss (before its update)
is recorded and smoothed with a bias-corrected exponential moving average (``smoothing`` = fastai's beta, 0.98);
the sweep stops early once the smoothed loss exceeds ``stop_factor`` times the lowest seen so far, or is not finite.
It runs on a copy of the optimizer (with the optimizer's current state) and the model's weights are put back
afterwards, so the model and its optimizer are as they were.

The suggested rate is fastai's default, ``"valley"``: the longest stretch over which the smoothed loss keeps
falling, and the rate two thirds of the way down it (Zachary Mueller's method). ``"steep"`` (the steepest descent of
the smoothed loss against log10 of the rate) and ``"minimum"`` (the rate of the lowest smoothed loss, divided by 10)
are computed too. As fastai, the suggestions ignore the first tenth of the sweep and its last five steps.

>>> import numpy as np
>>> from chainrule import keras
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32"); y = x @ [[1.0], [-2.0]]
>>> found = model.find_learning_rate(x, y, batch_size=8, num_steps=40, verbose=0)
>>> len(found.lrs) == len(found.losses) <= 40, found.method
(True, 'valley')
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

METHODS = ("valley", "steep", "minimum")


@dataclass
class LearningRateFinder:
    """The sweep's record: ``lrs`` and ``losses`` (each batch's), ``smoothed_losses``, ``suggestions`` (one rate
    per method in METHODS), ``suggestion`` (the one of ``method``), and ``stopped_early`` (the loss diverged)."""

    lrs: list[float]
    losses: list[float]
    smoothed_losses: list[float]
    method: str = "valley"
    stopped_early: bool = False
    suggestions: dict[str, float | None] = field(default_factory=dict)

    @property
    def suggestion(self) -> float | None:
        return self.suggestions.get(self.method)

    def plot(self, path: str | os.PathLike | None = None, title: str | None = None):
        """The smoothed loss against the learning rate (log scale), each batch's loss faint behind it and the
        suggestions marked; saved to ``path`` when given. Returns the matplotlib Figure."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(7, 4.5))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        axes.plot(self.lrs, self.losses, color="tab:blue", alpha=0.25, linewidth=1, label="loss per batch")
        axes.plot(self.lrs, self.smoothed_losses, color="tab:blue", linewidth=2, label="smoothed loss")
        for (name, rate), colour in zip(self.suggestions.items(), ("tab:red", "tab:green", "tab:orange")):
            if rate is not None:
                axes.axvline(rate, color=colour, linestyle="--" if name != self.method else "-",
                             label=f"{name}: {rate:.2g}" + (" (suggested)" if name == self.method else ""))
        smoothed = [v for v in self.smoothed_losses if math.isfinite(v)]
        if smoothed:  # the divergence at the end would squash the rest of the curve
            low = min(smoothed + [v for v in self.losses if math.isfinite(v)])
            high = max(smoothed) if min(smoothed) <= 0 else min(max(smoothed), 4 * min(smoothed))
            axes.set_ylim(low - 0.05 * (high - low + 1e-12), high + 0.1 * (high - low + 1e-12))
        axes.set_xscale("log")
        axes.set_xlabel("learning rate")
        axes.set_ylabel("training loss")
        axes.set_title(title or "learning-rate range test")
        axes.grid(alpha=0.3, which="both")
        axes.legend(fontsize=8)
        figure.tight_layout()
        if path is not None:
            figure.savefig(path, dpi=100)
        return figure


def find_learning_rate(model, x, y=None, start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int | None = 100,
                       epochs: int | None = None, batch_size: int = 32, stop_factor: float = 4.0,
                       smoothing: float = 0.98, method: str = "valley", shuffle: bool = True, seed: int | None = None,
                       verbose: int = 1) -> LearningRateFinder:
    """Run the range test on ``model`` (compiled) with arrays ``x``, ``y``; see the module's docstring. Give
    ``epochs`` instead of ``num_steps`` to sweep over that many passes of the data."""
    _check_arguments(model, start_lr, end_lr, num_steps, epochs, batch_size, stop_factor, smoothing, method)
    x, y = np.asarray(x), None if y is None else np.asarray(y)
    if y is not None and len(x) != len(y):
        raise ValueError(f"find_learning_rate: x has {len(x)} samples and y has {len(y)}; they must match")
    if len(x) == 0:
        raise ValueError("find_learning_rate: x holds no samples")
    per_epoch = math.ceil(len(x) / batch_size)
    steps = num_steps if epochs is None else epochs * per_epoch
    if steps < 2:
        raise ValueError(f"find_learning_rate: the sweep needs at least 2 steps, got {steps}")
    rates = start_lr * (end_lr / start_lr) ** (np.arange(steps) / (steps - 1))

    original_optimizer, weights = model.optimizer, [np.array(w, copy=True) for w in model.get_weights()]
    sweeper = type(original_optimizer).from_config(original_optimizer.get_config())
    sweeper.build(model.trainable_variables)
    sweeper.set_state(original_optimizer.get_state())  # start from the optimizer's moments, as fastai does
    model.optimizer = sweeper
    lrs, losses, smoothed = [], [], []
    average, best, stopped = 0.0, math.inf, False
    rng = np.random.default_rng(seed)
    try:
        for step, (xb, yb) in zip(range(steps), _batches(x, y, batch_size, shuffle, rng)):
            sweeper.learning_rate = float(rates[step])
            loss = float(np.asarray(model.train_on_batch(xb, yb)).reshape(-1)[0])
            average = smoothing * average + (1 - smoothing) * loss
            smooth = average / (1 - smoothing ** (step + 1))
            lrs.append(float(rates[step]))
            losses.append(loss)
            smoothed.append(smooth)
            if verbose:
                print(f"\rfind_learning_rate: step {step + 1}/{steps}, lr {rates[step]:.2e}, loss {loss:.4f}",
                      end="", flush=True)
            best = min(best, smooth)
            if not math.isfinite(smooth) or smooth > stop_factor * best:
                stopped = True
                break
    finally:
        model.optimizer = original_optimizer
        model.set_weights(weights)
        if verbose:
            print()
    found = LearningRateFinder(lrs, losses, smoothed, method=method, stopped_early=stopped)
    found.suggestions = suggest(lrs, smoothed)
    return found


def suggest(lrs: list[float], smoothed: list[float]) -> dict[str, float | None]:
    """The rate each method in METHODS suggests for a sweep (None where too few finite points remain)."""
    lrs_a, losses_a = np.asarray(lrs, dtype=float), np.asarray(smoothed, dtype=float)
    if len(lrs_a) > 15:  # as fastai: skip the first tenth and the last five steps
        lrs_a, losses_a = lrs_a[len(lrs) // 10:-5], losses_a[len(lrs) // 10:-5]
    keep = np.isfinite(losses_a)
    lrs_a, losses_a = lrs_a[keep], losses_a[keep]
    if len(lrs_a) < 3:
        return {name: None for name in METHODS}
    return {"valley": float(lrs_a[_valley(losses_a)]),
            "steep": float(lrs_a[int(np.argmin(np.diff(losses_a) / np.diff(np.log10(lrs_a))))]),
            "minimum": float(lrs_a[int(np.argmin(losses_a))] / 10)}


def _valley(losses: np.ndarray) -> int:
    """Index two thirds down the longest run of falling losses (a longest decreasing subsequence)."""
    n = len(losses)
    lds = [1] * n
    start, end = 0, 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[end] < lds[i]:
                end = i
                start = end - lds[end]
    sections = (end - start) / 3
    return min(start + int(sections) + int(sections / 2), n - 1)


def _batches(x: np.ndarray, y: np.ndarray | None, batch_size: int, shuffle: bool, rng: np.random.Generator):
    """Batches of the arrays, pass after pass, each pass in a new random order."""
    while True:
        order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
        for begin in range(0, len(x), batch_size):
            chosen = order[begin:begin + batch_size]
            yield x[chosen], None if y is None else y[chosen]


def _check_arguments(model, start_lr, end_lr, num_steps, epochs, batch_size, stop_factor, smoothing, method):
    if getattr(model, "optimizer", None) is None:
        raise RuntimeError("You must call `compile()` before using the model: find_learning_rate trains it")
    if not (isinstance(start_lr, (int, float)) and isinstance(end_lr, (int, float)) and 0 < start_lr < end_lr):
        raise ValueError(f"find_learning_rate: expected 0 < start_lr < end_lr, got start_lr={start_lr}, "
                         f"end_lr={end_lr}")
    if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
        raise ValueError(f"find_learning_rate: epochs must be a whole number of at least 1, got {epochs!r}")
    if epochs is None and (not isinstance(num_steps, int) or num_steps < 2):
        raise ValueError(f"find_learning_rate: num_steps must be a whole number of at least 2, got {num_steps!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"find_learning_rate: batch_size must be a whole number of at least 1, got {batch_size!r}")
    if not stop_factor > 1:
        raise ValueError(f"find_learning_rate: stop_factor must be above 1, got {stop_factor}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"find_learning_rate: smoothing must be in [0, 1), got {smoothing}")
    if method not in METHODS:
        raise ValueError(f"find_learning_rate: method must be one of {', '.join(METHODS)}, got {method!r}")
