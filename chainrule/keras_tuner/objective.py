"""``Objective``: the metric a search ranks trials by, and whether lower or higher is better.

A string names a metric of ``fit``'s history; its direction is inferred from the name as keras_tuner infers it
(losses and errors are minimised; accuracy, AUC, precision, recall are maximised).

>>> create_objective("val_accuracy")
Objective(name="val_accuracy", direction="max")
>>> create_objective("val_loss").better(0.1, 0.2)
True
"""
from __future__ import annotations

_MAXIMISED = ("acc", "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
              "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "precision", "recall",
              "f1_score", "fbeta_score", "r2_score", "iou", "mean_iou", "one_hot_iou")
_MINIMISED = ("loss", "mse", "mae", "mape", "msle", "mean_squared_error", "mean_absolute_error",
              "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "root_mean_squared_error",
              "rmse", "hinge", "squared_hinge", "categorical_hinge", "logcosh", "log_cosh", "kl_divergence",
              "kld", "poisson", "cosine_similarity", "crossentropy", "binary_crossentropy",
              "categorical_crossentropy", "sparse_categorical_crossentropy")


class Objective:
    """``Objective(name, direction)`` with direction ``'min'`` or ``'max'``."""

    def __init__(self, name: str, direction: str):
        if direction not in ("min", "max"):
            raise ValueError(f"Objective {name!r}: direction must be 'min' or 'max', got {direction!r}")
        self.name, self.direction = name, direction

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` is strictly better than ``b``."""
        return a < b if self.direction == "min" else a > b

    def sort_key(self, score: float) -> float:
        """A key that sorts the best score first."""
        return score if self.direction == "min" else -score

    def __eq__(self, other) -> bool:
        return isinstance(other, Objective) and (self.name, self.direction) == (other.name, other.direction)

    def __repr__(self) -> str:
        return f'Objective(name="{self.name}", direction="{self.direction}")'

    def get_config(self) -> dict:
        return {"name": self.name, "direction": self.direction}


def infer_direction(metric: str) -> str | None:
    """'min', 'max', or None for a metric name this cannot place."""
    name = metric[4:] if metric.startswith("val_") else metric
    if name in _MAXIMISED:
        return "max"
    if name in _MINIMISED or name.endswith("loss") or name.endswith("error"):
        return "min"
    return None


def create_objective(objective: str | Objective | None) -> Objective:
    """An Objective from a metric name or an Objective; None means 'val_loss'."""
    if objective is None:
        return Objective("val_loss", "min")
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        direction = infer_direction(objective)
        if direction is None:
            raise ValueError(f'Could not infer optimization direction ("min" or "max") for unknown metric '
                             f'"{objective}". Please specify the objective as a `keras_tuner.Objective`, for '
                             f'example `keras_tuner.Objective("{objective}", direction="min")`.')
        return Objective(objective, direction)
    raise TypeError(f"objective must be a metric name (str) or an Objective, got {type(objective).__name__}")
