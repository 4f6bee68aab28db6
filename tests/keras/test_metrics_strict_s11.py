"""keras.metrics on the strict backend (array-api-strict's arrays, which NumPy cannot read): each metric's result
equals NumPy's, its state stays on the device, and the metrics that accumulate there read nothing back to the host
in ``update_state`` (AUC says it reads its batch over: a search and a histogram the array API lacks)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

from chainrule import backend, keras  # noqa: E402
from chainrule.backend.strict_backend import STRICT  # noqa: E402
from chainrule.engine.tensor import Tensor  # noqa: E402

RNG = np.random.default_rng(0)
Y_TRUE = (RNG.random((8, 3)) > 0.5).astype("float32")
Y_PRED = RNG.random((8, 3)).astype("float32")
WEIGHT = RNG.random(8).astype("float32")
CLASSES_TRUE, CLASSES_PRED = np.array([0, 1, 2, 1, 3, 0]), np.array([0, 2, 2, 1, 3, 1])

ON_DEVICE = {  # name: (constructor arguments, inputs)
    "MeanSquaredError": ((), "scores"), "MeanAbsoluteError": ((), "scores"), "RootMeanSquaredError": ((), "scores"),
    "MeanAbsolutePercentageError": ((), "scores"), "MeanSquaredLogarithmicError": ((), "scores"),
    "LogCoshError": ((), "scores"), "CosineSimilarity": ((), "scores"), "R2Score": ((), "scores"),
    "Hinge": ((), "scores"), "SquaredHinge": ((), "scores"), "CategoricalHinge": ((), "scores"),
    "BinaryCrossentropy": ((), "scores"), "CategoricalCrossentropy": ((), "scores"), "KLDivergence": ((), "scores"),
    "Poisson": ((), "scores"), "PearsonCorrelation": ((), "scores"), "ConcordanceCorrelation": ((), "scores"),
    "Precision": ((), "scores"), "Recall": ((), "scores"), "TruePositives": ((), "scores"),
    "FalseNegatives": (([0.2, 0.7],), "scores"), "PrecisionAtRecall": ((0.5,), "scores"),
    "SpecificityAtSensitivity": ((0.5,), "scores"), "F1Score": ((), "scores"), "FBetaScore": (("macro", 2.0), "scores"),
    "BinaryIoU": ((), "binary"), "MeanIoU": ((4,), "classes"), "IoU": ((4, [0, 2]), "classes"),
}


def _inputs(kind: str):
    return {"scores": (Y_TRUE, Y_PRED), "binary": (Y_TRUE[:, 0], Y_PRED[:, 0]),
            "classes": (CLASSES_TRUE, CLASSES_PRED)}[kind]


def _run(name: str, args, kind: str, weighted: bool, count_reads: bool = False):
    metric = getattr(keras.metrics, name)(*args)
    on = lambda a: Tensor._wrap(backend.to_device(a))  # noqa: E731 (what fit hands a metric)
    y_true, y_pred = _inputs(kind)
    weight = WEIGHT[:len(y_true)]
    reads = []
    if count_reads:
        STRICT.to_host, real = (lambda x: reads.append(x) or real(x)), STRICT.to_host
    try:
        metric.update_state(on(y_true), on(y_pred))
        metric.update_state(on(y_true), on(y_pred), sample_weight=on(weight) if weighted else None)
    finally:
        if count_reads:
            del STRICT.to_host
    return metric, reads


@pytest.mark.parametrize("name", sorted(ON_DEVICE))
def test_metric_on_the_device_equals_numpy(strict, name):
    args, kind = ON_DEVICE[name]
    metric, reads = _run(name, args, kind, weighted=True, count_reads=True)
    assert reads == [], f"{name}.update_state read {len(reads)} arrays back to the host"
    assert all(strict.owns(v.data) for v in metric.variables)
    result = metric.result()
    assert strict.owns(result.data)
    backend.set_backend("numpy")
    expected = _run(name, args, kind, weighted=True)[0].result().numpy()
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_auc_reads_its_batch_over_and_equals_numpy(strict):
    metric, _ = _run("AUC", (), "scores", weighted=True)
    assert all(strict.owns(v.data) for v in metric.variables)
    value = metric.result().numpy()
    backend.set_backend("numpy")
    np.testing.assert_allclose(value, _run("AUC", (), "scores", weighted=True)[0].result().numpy(), rtol=1e-12)


def test_metric_given_host_lists_on_a_device_backend(strict):
    metric = keras.metrics.Precision()
    metric.update_state([1, 0, 1, 1], [0.9, 0.8, 0.2, 0.7])
    assert strict.owns(metric.true_positives.data)
    assert float(metric.result()) == pytest.approx(2 / 3)


def test_sample_weight_of_the_wrong_shape_names_it(strict):
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\)"):
        keras.metrics.Precision().update_state(Y_TRUE, Y_PRED, sample_weight=np.ones(3))
