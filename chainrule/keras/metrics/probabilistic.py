"""Cross-entropy metrics: the running mean of the losses' per-sample cross-entropies."""
from __future__ import annotations

from chainrule.engine.autograd import no_grad
from chainrule.keras import losses
from chainrule.keras.metrics.reduction import mean_metric_class


def _loss_metric(name: str, loss_fn, default_name: str, **options):
    """A metric that averages one of :mod:`chainrule.keras.losses`'s per-sample losses (computed without a graph)."""
    def fn(y_true, y_pred, **kwargs):
        with no_grad():
            return loss_fn(y_true, y_pred, **kwargs).numpy()
    fn.__name__ = loss_fn.__name__
    return mean_metric_class(name, fn, default_name, f"The mean of ``losses.{loss_fn.__name__}`` over all batches.",
                             **options)


BinaryCrossentropy = _loss_metric("BinaryCrossentropy", losses.binary_crossentropy, "binary_crossentropy",
                                  from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = _loss_metric("CategoricalCrossentropy", losses.categorical_crossentropy,
                                       "categorical_crossentropy", from_logits=False, label_smoothing=0.0)
SparseCategoricalCrossentropy = _loss_metric("SparseCategoricalCrossentropy", losses.sparse_categorical_crossentropy,
                                             "sparse_categorical_crossentropy", from_logits=False)
