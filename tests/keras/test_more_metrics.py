"""The metrics Keras lists that chainrule lacked (chainrule/keras/metrics/): each against Keras's documented example
(with and without sample weights), against its formula in NumPy on random data, through a config round trip and in
compile/fit."""
import numpy as np
import pytest

from chainrule import keras

M = keras.metrics
TRUE_01 = [[0, 1], [0, 0]]
PRED_01 = [[1, 1], [0, 0]]
PRED_PROBS = [[0.6, 0.4], [0.4, 0.6]]


def _result(metric, *args, **kwargs):
    metric.update_state(*args, **kwargs)
    return metric.result().numpy()


@pytest.mark.parametrize("make, y_true, y_pred, expected, weighted", [
    (M.MeanAbsolutePercentageError, TRUE_01, PRED_01, 250000000.0, 500000000.0),
    (M.MeanSquaredLogarithmicError, TRUE_01, PRED_01, 0.12011322, 0.24022643),
    (M.LogCoshError, TRUE_01, PRED_01, 0.10844523, 0.21689045),
    (M.Poisson, TRUE_01, PRED_01, 0.49999997, 0.99999994),
    (M.KLDivergence, TRUE_01, PRED_PROBS, 0.45814306, 0.9162892),
    (M.Hinge, TRUE_01, PRED_PROBS, 1.3, 1.1),
    (M.SquaredHinge, TRUE_01, PRED_PROBS, 1.86, 1.46),
    (M.CategoricalHinge, TRUE_01, PRED_PROBS, 1.4000001, 1.2),
], ids=lambda v: getattr(v, "__name__", None))
def test_mean_metrics_match_kerass_documented_examples(make, y_true, y_pred, expected, weighted):
    np.testing.assert_allclose(_result(make(), y_true, y_pred), expected, rtol=1e-5)
    np.testing.assert_allclose(_result(make(), y_true, y_pred, sample_weight=[1, 0]), weighted, rtol=1e-5)


def test_cosine_similarity_keras_example():
    y_true, y_pred = [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]
    np.testing.assert_allclose(_result(M.CosineSimilarity(axis=1), y_true, y_pred), 0.49999997, rtol=1e-5)
    np.testing.assert_allclose(_result(M.CosineSimilarity(axis=1), y_true, y_pred, sample_weight=[0.3, 0.7]),
                               0.6999999, rtol=1e-5)


RNG = np.random.default_rng(0)
Y_TRUE = RNG.uniform(0.5, 3.0, (40, 3))
Y_PRED = Y_TRUE + RNG.normal(0, 0.3, (40, 3))


def test_regression_metrics_follow_their_formulas_over_batches():
    metrics = {"mape": M.MeanAbsolutePercentageError(), "msle": M.MeanSquaredLogarithmicError(),
               "logcosh": M.LogCoshError(), "cos": M.CosineSimilarity()}
    for start in range(0, 40, 16):  # uneven batches
        for metric in metrics.values():
            metric.update_state(Y_TRUE[start:start + 16], Y_PRED[start:start + 16])
    expected = {"mape": 100 * np.mean(np.abs(Y_TRUE - Y_PRED) / Y_TRUE),
                "msle": np.mean((np.log1p(np.maximum(Y_PRED, 1e-7)) - np.log1p(Y_TRUE)) ** 2),
                "logcosh": np.mean(np.log(np.cosh(Y_PRED - Y_TRUE))),
                "cos": np.mean((Y_TRUE * Y_PRED).sum(1) / np.linalg.norm(Y_TRUE, axis=1)
                               / np.linalg.norm(Y_PRED, axis=1))}
    for key, metric in metrics.items():
        np.testing.assert_allclose(float(metric.result()), expected[key], rtol=1e-5, err_msg=key)


def test_r2_score_keras_example_aggregations_and_adjustment():
    np.testing.assert_allclose(_result(M.R2Score(), [[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]]), 0.57142854,
                               rtol=1e-6)
    per_column = 1 - ((Y_TRUE - Y_PRED) ** 2).sum(0) / ((Y_TRUE - Y_TRUE.mean(0)) ** 2).sum(0)
    variances = ((Y_TRUE - Y_TRUE.mean(0)) ** 2).sum(0)
    for aggregation, expected in [(None, per_column), ("uniform_average", per_column.mean()),
                                  ("variance_weighted_average", (per_column * variances).sum() / variances.sum())]:
        metric = M.R2Score(class_aggregation=aggregation)
        metric.update_state(Y_TRUE[:25], Y_PRED[:25])
        metric.update_state(Y_TRUE[25:], Y_PRED[25:])
        np.testing.assert_allclose(metric.result().numpy(), expected, rtol=1e-5, err_msg=str(aggregation))
    adjusted = _result(M.R2Score(num_regressors=2), Y_TRUE, Y_PRED)
    np.testing.assert_allclose(adjusted, 1 - (1 - per_column.mean()) * 39 / 37, rtol=1e-5)
    with pytest.warns(UserWarning, match="More independent predictors than datapoints"):
        _result(M.R2Score(num_regressors=5), Y_TRUE[:3], Y_PRED[:3])
    weights = RNG.uniform(0, 1, 40)
    weighted_mean = (Y_TRUE * weights[:, None]).sum(0) / weights.sum()
    weighted = 1 - ((Y_TRUE - Y_PRED) ** 2 * weights[:, None]).sum(0) / \
        ((Y_TRUE - weighted_mean) ** 2 * weights[:, None]).sum(0)
    np.testing.assert_allclose(_result(M.R2Score(), Y_TRUE, Y_PRED, sample_weight=weights), weighted.mean(),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="R2Score expects 2D inputs"):
        M.R2Score().update_state([1.0, 2.0, 3.0], [1.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="Invalid value for argument `class_aggregation`"):
        M.R2Score(class_aggregation="median")


# --- IoU ------------------------------------------------------------------------------------------------------------
def test_iou_metrics_keras_examples():
    np.testing.assert_allclose(_result(M.IoU(num_classes=2, target_class_ids=[0]), [0, 0, 1, 1], [0, 1, 0, 1]),
                               0.33333334, rtol=1e-6)
    np.testing.assert_allclose(_result(M.IoU(num_classes=2, target_class_ids=[0]), [0, 0, 1, 1], [0, 1, 0, 1],
                                       sample_weight=[0.3, 0.3, 0.3, 0.1]), 0.33333334, rtol=1e-6)
    np.testing.assert_allclose(_result(M.MeanIoU(num_classes=2), [0, 0, 1, 1], [0, 1, 0, 1],
                                       sample_weight=[0.3, 0.3, 0.3, 0.1]), 0.23809525, rtol=1e-6)
    np.testing.assert_allclose(_result(M.BinaryIoU(target_class_ids=[0, 1], threshold=0.3), [0, 1, 0, 1],
                                       [0.1, 0.2, 0.4, 0.7]), 0.33333334, rtol=1e-6)
    np.testing.assert_allclose(_result(M.BinaryIoU(target_class_ids=[0, 1], threshold=0.3), [0, 1, 0, 1],
                                       [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1]), 0.17361112,
                               rtol=1e-6)
    y_true = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    y_pred = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    weights = [0.1, 0.2, 0.3, 0.4]
    np.testing.assert_allclose(_result(M.OneHotIoU(num_classes=3, target_class_ids=[0, 2]), y_true, y_pred,
                                       sample_weight=weights), 0.071, atol=5e-4)
    np.testing.assert_allclose(_result(M.OneHotMeanIoU(num_classes=3), y_true, y_pred, sample_weight=weights),
                               0.048, atol=5e-4)


def test_mean_iou_on_segmentation_maps_with_an_ignored_class():
    labels = RNG.integers(0, 4, (3, 8, 8))
    predicted = np.where(RNG.uniform(size=labels.shape) < 0.7, labels, RNG.integers(0, 4, labels.shape))
    metric = M.MeanIoU(num_classes=4, ignore_class=3)
    metric.update_state(labels, predicted)
    kept = labels != 3
    ious = []
    for c in range(4):
        inter = ((labels == c) & (predicted == c) & kept).sum()
        union = (((labels == c) | (predicted == c)) & kept).sum()
        if union:
            ious.append(inter / union)
    np.testing.assert_allclose(float(metric.result()), np.mean(ious), rtol=1e-5)
    with pytest.raises(ValueError, match="Target class id 2 is out of range"):
        M.IoU(num_classes=2, target_class_ids=[2])


# --- confusion counts and the rates at a constraint -----------------------------------------------------------------
@pytest.mark.parametrize("make, y_true, y_pred", [
    (M.TruePositives, [0, 1, 1, 1], [1, 0, 1, 1]), (M.FalsePositives, [0, 1, 0, 0], [0, 0, 1, 1]),
    (M.TrueNegatives, [0, 1, 0, 0], [1, 1, 0, 0]), (M.FalseNegatives, [0, 1, 1, 1], [0, 1, 0, 0]),
], ids=lambda v: getattr(v, "__name__", None))
def test_confusion_counts_keras_examples(make, y_true, y_pred):
    assert _result(make(), y_true, y_pred) == 2.0
    assert _result(make(), y_true, y_pred, sample_weight=[0, 0, 1, 0]) == 1.0
    several = make(thresholds=[0.0, 0.5, 1.0])
    assert several.update_state(y_true, y_pred) is None and several.result().shape == (3,)


@pytest.mark.parametrize("make, y_true, y_pred, expected, weights, weighted", [
    (lambda: M.SensitivityAtSpecificity(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], 0.5, [1, 1, 2, 2, 1],
     0.333333),
    (lambda: M.SpecificityAtSensitivity(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], 0.66666667,
     [1, 1, 2, 2, 2], 0.5),
    (lambda: M.PrecisionAtRecall(0.5), [0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], 0.5, [2, 2, 2, 1, 1],
     0.33333333),
    (lambda: M.RecallAtPrecision(0.8), [0, 0, 1, 1], [0, 0.5, 0.3, 0.9], 0.5, [1, 0, 0, 1], 1.0),
])
def test_rates_at_a_constraint_keras_examples(make, y_true, y_pred, expected, weights, weighted):
    np.testing.assert_allclose(_result(make(), y_true, y_pred), expected, rtol=1e-5)
    np.testing.assert_allclose(_result(make(), y_true, y_pred, sample_weight=weights), weighted, rtol=1e-5)


def test_rates_at_a_constraint_errors_and_config():
    metric = M.PrecisionAtRecall(0.7, num_thresholds=50, class_id=1)
    config = metric.get_config()
    assert config["recall"] == 0.7 and config["num_thresholds"] == 50 and config["name"] == "precision_at_recall"
    again = M.deserialize(M.serialize(metric))
    assert type(again) is M.PrecisionAtRecall and again.get_config() == config
    with pytest.raises(ValueError, match=r"Argument `recall` must be in the range \[0, 1\]"):
        M.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="Argument `num_thresholds` must be an integer > 0"):
        M.SensitivityAtSpecificity(0.5, num_thresholds=0)


# --- lookup, configs and use in fit ---------------------------------------------------------------------------------
def test_configs_round_trip_and_names_resolve():
    for metric in (M.MeanAbsolutePercentageError(), M.CosineSimilarity(axis=0), M.R2Score("variance_weighted_average"),
                   M.IoU(3, [0, 2], ignore_class=1), M.BinaryIoU([1], threshold=0.4), M.OneHotMeanIoU(4),
                   M.TruePositives(thresholds=[0.3, 0.6]), M.CategoricalHinge(), M.KLDivergence()):
        again = M.deserialize(M.serialize(metric))
        assert type(again) is type(metric) and again.get_config() == metric.get_config()
    assert isinstance(M.get("mape"), M.MeanAbsolutePercentageError) and M.get("mape").name == "mape"
    assert isinstance(M.get("msle"), M.MeanSquaredLogarithmicError)
    assert isinstance(M.get("logcosh"), M.LogCoshError) and M.LogCoshError().name == "logcosh"
    assert isinstance(M.get("r2_score"), M.R2Score) and isinstance(M.get("KLDivergence"), M.KLDivergence)
    assert float(np.mean(M.categorical_hinge(TRUE_01, np.array(PRED_PROBS)).numpy())) == pytest.approx(1.4)


def test_the_new_metrics_in_compile_and_fit():
    x = RNG.normal(size=(64, 4)).astype("float32")
    y = (x @ RNG.normal(size=(4, 1))).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse",
                  metrics=["mape", M.R2Score(), M.CosineSimilarity(), "logcosh"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0).history
    assert set(history) >= {"loss", "mape", "r2_score", "cosine_similarity", "logcosh"}
    assert history["r2_score"][-1] > history["r2_score"][0]
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    r2 = 1 - ((y - model.predict(x, verbose=0)) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert results["r2_score"] == pytest.approx(r2, rel=1e-4)
