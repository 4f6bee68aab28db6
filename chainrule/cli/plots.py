"""The pictures ``chainrule train`` writes: learning curves, a confusion matrix, a grid of misclassified images.

They are drawn with matplotlib's object API on the Agg canvas (no pyplot, no display needed), so they work on
servers and leave the user's own matplotlib state alone. matplotlib is the ``train`` extra:
``pip install 'chainrule[train]'``.

>>> plot_curves({"loss": [0.5, 0.3], "val_loss": [0.4, 0.35]}, "curves.png")  # doctest: +SKIP
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

DPI = 100


def plot_curves(history: Mapping[str, Sequence[float]], path: str | os.PathLike) -> None:
    """One panel per metric (loss, accuracy, ...), training and validation values per epoch."""
    from matplotlib.ticker import MaxNLocator

    names = [name for name in history if not name.startswith("val_")] or ["loss"]
    figure = _figure(5 * len(names), 4)
    for i, name in enumerate(names, start=1):
        axes = figure.add_subplot(1, len(names), i)
        for key, label in ((name, "training"), (f"val_{name}", "validation")):
            values = history.get(key)
            if values:
                axes.plot(range(1, len(values) + 1), values, marker="o", label=label)
        epochs = max(map(len, (history.get(name) or [0], history.get(f"val_{name}") or [0])))
        axes.set_title(name)
        axes.set_xlabel("epoch")
        axes.set_xlim(0.5, epochs + 0.5)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        if axes.lines:
            axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)


def plot_confusion(matrix: np.ndarray, path: str | os.PathLike, class_names: Sequence[str]) -> None:
    """Counts of (true class, predicted class) pairs, each cell labelled with its count."""
    matrix = np.asarray(matrix)
    figure = _figure(8, 7)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    ticks = range(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45 if max(map(len, class_names)) > 2 else 0, ha="right")
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    total = matrix.sum()
    accuracy = np.trace(matrix) / total if total else 0.0
    axes.set_title(f"confusion matrix: {int(total)} test images, accuracy {accuracy:.2%}")
    dark = matrix.max() / 2
    for (row, col), count in np.ndenumerate(matrix):
        axes.text(col, row, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > dark else "black")
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)


def plot_mistakes(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray, path: str | os.PathLike,
                  class_names: Sequence[str], limit: int = 36) -> None:
    """The misclassified images, most confident mistakes first, titled 'true -> predicted (probability)'."""
    predictions = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predictions != labels)
    confidence = probabilities[np.arange(len(labels)), predictions]
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    if not len(wrong):
        figure = _figure(6, 2)
        figure.text(0.5, 0.5, f"no mistakes on the {len(labels)} test images", ha="center", va="center")
        figure.savefig(path, dpi=DPI)
        return
    columns = min(6, len(wrong))
    rows = -(-len(wrong) // columns)
    figure = _figure(max(2 * columns, 6), 2.2 * rows + 0.5)
    for k, i in enumerate(wrong, start=1):
        axes = figure.add_subplot(rows, columns, k)
        axes.imshow(images[i].squeeze(), cmap="gray", vmin=0.0, vmax=1.0)
        axes.set_title(f"{class_names[labels[i]]} -> {class_names[predictions[i]]} ({confidence[i]:.2f})",
                       fontsize=8, color="firebrick")
        axes.axis("off")
    figure.suptitle(f"{int((predictions != labels).sum())} of {len(labels)} test images misclassified "
                    f"(true -> predicted, probability)", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=DPI)


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure
