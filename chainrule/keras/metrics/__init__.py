"""Metrics (``keras.metrics``): stateful summaries updated batch by batch on plain NumPy values (no graph).

Every metric has ``update_state(y_true, y_pred, sample_weight=None)`` (``Mean`` takes ``update_state(values)``),
``result()`` (a 0-d float32 Tensor, or a vector for per-class results: ``float(m.result())`` and
``m.result().numpy()`` both work), ``reset_state()`` and ``name``. Calling a metric updates it and returns the result.

>>> import numpy as np
>>> m = SparseCategoricalAccuracy()
>>> m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
>>> float(m.result())
0.5
"""
from __future__ import annotations

from chainrule.keras import configurable as _config
from chainrule.keras import losses
from chainrule.keras.configurable import serialize
from chainrule.keras.metrics.accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy,
                                              SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                                              TopKCategoricalAccuracy, accuracy, binary_accuracy,
                                              categorical_accuracy, sparse_categorical_accuracy,
                                              sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from chainrule.keras.metrics.confusion import (AUC, F1Score, FalseNegatives, FalsePositives, FBetaScore, Precision,
                                               PrecisionAtRecall, Recall, RecallAtPrecision, SensitivityAtSpecificity,
                                               SpecificityAtSensitivity, TrueNegatives, TruePositives,
                                               confusion_matrix)
from chainrule.keras.metrics.correlation import (ConcordanceCorrelation, PearsonCorrelation, concordance_correlation,
                                                 pearson_correlation)
from chainrule.keras.metrics.hinge import CategoricalHinge, Hinge, SquaredHinge
from chainrule.keras.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from chainrule.keras.metrics.metric import Metric
from chainrule.keras.metrics.probabilistic import (BinaryCrossentropy, CategoricalCrossentropy, KLDivergence, Poisson,
                                                   SparseCategoricalCrossentropy)
from chainrule.keras.metrics.reduction import Mean, MeanMetricWrapper, Sum
from chainrule.keras.metrics.regression import (CosineSimilarity, LogCoshError, MeanAbsoluteError,
                                                MeanAbsolutePercentageError, MeanSquaredError,
                                                MeanSquaredLogarithmicError, R2Score, RootMeanSquaredError,
                                                cosine_similarity, mean_absolute_error, mean_squared_error)
# Keras exports these loss functions as metric functions too
from chainrule.keras.losses import (categorical_hinge, hinge, kl_divergence, log_cosh, mean_absolute_percentage_error,
                                    mean_squared_logarithmic_error, poisson, squared_hinge)
from chainrule.keras.losses import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                                    categorical_focal_crossentropy, huber, sparse_categorical_crossentropy)
from chainrule.utils.naming import to_snake_case


ALL_METRICS = {cls.__name__: cls for cls in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, Precision, Recall, FBetaScore, F1Score, AUC, MeanSquaredError, MeanAbsoluteError,
    RootMeanSquaredError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score, Hinge,
    SquaredHinge, CategoricalHinge, KLDivergence, Poisson, IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU,
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives, SensitivityAtSpecificity, SpecificityAtSensitivity,
    PrecisionAtRecall, RecallAtPrecision, PearsonCorrelation, ConcordanceCorrelation)}
ALIASES = {"mse": MeanSquaredError, "mae": MeanAbsoluteError, "rmse": RootMeanSquaredError,
           "mape": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError, "kld": KLDivergence,
           "logcosh": LogCoshError,
           **{to_snake_case(name): cls for name, cls in ALL_METRICS.items()},
           "fbeta_score": FBetaScore}  # its default name (Keras's key, f_beta_score, is the class's snake case)


def _accuracy_for(loss, output_shape, label_shape) -> Metric:
    """The accuracy that fits the loss (sparse CCE, binary CE, categorical CE) or, failing that, the shapes."""
    kind = None
    try:
        loss = losses.get(loss) if loss is not None else None
    except ValueError:
        loss = None
    function = getattr(loss, "function", None) or getattr(loss, "fn", None)
    if function is losses.sparse_categorical_crossentropy:
        kind = "sparse"
    elif function is losses.binary_crossentropy:
        from_logits = loss._fn_kwargs.get("from_logits", False)
        return BinaryAccuracy(threshold=0.0 if from_logits else 0.5)  # a logit > 0 is a probability > 0.5
    elif function is losses.categorical_crossentropy:
        kind = "categorical"
    elif output_shape is not None and tuple(output_shape)[-1:] == (1,):
        kind = "binary"
    elif output_shape is not None and label_shape is not None:
        out, lab = tuple(output_shape), tuple(label_shape)
        sparse = len(lab) < len(out) or (lab[-1:] == (1,) and out[-1:] != (1,))
        kind = "sparse" if sparse else "categorical"
    return {"sparse": SparseCategoricalAccuracy, "binary": BinaryAccuracy}.get(kind, CategoricalAccuracy)()


def get(identifier, loss=None, output_shape=None, label_shape=None) -> Metric | None:
    """A :class:`Metric` from a name, a config dict, a class, an instance or a per-sample function.

    'accuracy'/'acc' resolve as Keras's ``compile`` does: sparse categorical accuracy for a sparse categorical
    cross-entropy loss (or integer-id labels: ``label_shape`` of lower rank than ``output_shape``, or ending in 1),
    binary accuracy for a binary cross-entropy loss or a single output unit, categorical accuracy otherwise. A metric
    made from a name carries that name ('acc' stays 'acc'), as Keras's training logs do."""
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        metric = _accuracy_for(loss, output_shape, label_shape)
    else:
        metric = _config.lookup(identifier, "metric", Metric, {**ALL_METRICS, **ALIASES}, deserialize,
                                MeanMetricWrapper)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric


def deserialize(config: dict, custom_objects: dict | None = None) -> Metric:
    cls, config = _config.resolve(config, ALL_METRICS, "metric", custom_objects)
    return cls.from_config(config)
