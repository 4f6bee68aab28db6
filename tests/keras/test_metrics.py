"""Metrics against direct NumPy references (no sklearn): accuracies, precision/recall, F1, AUC, confusion matrix,
the 'accuracy' resolution, and their cost per batch."""
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import losses
from chainrule.keras import metrics

RNG = np.random.default_rng(0)


def _batches(n_batches=3, n=16, c=5, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        ids = rng.integers(0, c, n)
        logits = rng.standard_normal((n, c))
        probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        out.append((ids, np.eye(c)[ids], probs.astype(np.float32), rng.random(n)))
    return out


def _weighted_mean(values, weights):
    values, weights = np.concatenate(values), np.concatenate(weights)
    return (values * weights).sum() / weights.sum()


def test_result_types():
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 3.0])
    r = m.result()
    assert isinstance(r, cr.Tensor) and r.dtype == np.float32 and float(r) == 2.0 and r.numpy() == 2.0
    m.reset_state()
    assert float(m.result()) == 0.0
    assert float(m([4.0, 6.0], sample_weight=[1.0, 3.0])) == 5.5
    m.reset_states()
    m.update_state(np.ones((2, 3)) * [[1.0], [3.0]], sample_weight=[1.0, 0.0])  # per-sample means, weighted
    assert float(m.result()) == 1.0


def test_accuracies_match_numpy_over_batches():
    batches = _batches()
    sparse, categorical, top2 = (metrics.SparseCategoricalAccuracy(), metrics.CategoricalAccuracy(),
                                 metrics.TopKCategoricalAccuracy(k=2))
    hits, hits2, weights = [], [], []
    for ids, onehot, probs, w in batches:
        sparse.update_state(ids[:, None], probs, sample_weight=w)  # (N, 1) labels are squeezed
        categorical.update_state(onehot, probs, sample_weight=w)
        top2.update_state(onehot, probs, sample_weight=w)
        hits.append((probs.argmax(-1) == ids).astype(float))
        hits2.append(np.array([ids[i] in np.argsort(-probs[i])[:2] for i in range(len(ids))], float))
        weights.append(w)
    assert float(sparse.result()) == pytest.approx(_weighted_mean(hits, weights), rel=1e-6)
    assert float(categorical.result()) == pytest.approx(_weighted_mean(hits, weights), rel=1e-6)
    assert float(top2.result()) == pytest.approx(_weighted_mean(hits2, weights), rel=1e-6)
    sparse_top = metrics.SparseTopKCategoricalAccuracy(k=2)
    for ids, _, probs, w in batches:
        sparse_top.update_state(ids, probs, w)
    assert float(sparse_top.result()) == float(top2.result())


def test_top_k_ties_count_as_in():
    assert metrics.sparse_top_k_categorical_accuracy(np.array([2]), np.array([[0.5, 0.5, 0.5, 0.1]]), k=1)[0] == 1.0
    assert metrics.sparse_top_k_categorical_accuracy(np.array([3]), np.array([[0.5, 0.5, 0.5, 0.1]]), k=3)[0] == 0.0


def test_binary_accuracy_and_accuracy():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.7], [0.6], [0.5], [0.1]])
    m = metrics.BinaryAccuracy()
    m.update_state(y, p)
    assert float(m.result()) == 0.5  # 0.5 is not above the threshold
    m = metrics.BinaryAccuracy(threshold=0.55)
    m.update_state(y[:, 0], p)  # (N,) labels against (N, 1) predictions
    assert float(m.result()) == 0.5
    a = metrics.Accuracy()
    a.update_state([1, 2, 3, 4], [1, 2, 0, 4])
    assert float(a.result()) == 0.75


def test_regression_metrics():
    y, p = RNG.standard_normal((10, 3)), RNG.standard_normal((10, 3))
    for m, expected in ((metrics.MeanSquaredError(), ((y - p) ** 2).mean()),
                        (metrics.MeanAbsoluteError(), np.abs(y - p).mean()),
                        (metrics.RootMeanSquaredError(), np.sqrt(((y - p) ** 2).mean()))):
        m.update_state(y[:4], p[:4])
        m.update_state(y[4:], p[4:])
        assert float(m.result()) == pytest.approx(expected, rel=1e-6)


def test_crossentropy_metrics_match_the_losses():
    ids, onehot, probs, _ = _batches(1)[0]
    m = metrics.SparseCategoricalCrossentropy()
    m.update_state(ids, probs)
    assert float(m.result()) == pytest.approx(losses.SparseCategoricalCrossentropy()(ids, probs).item(), rel=1e-6)
    m = metrics.CategoricalCrossentropy()
    m.update_state(onehot, probs)
    assert float(m.result()) == pytest.approx(losses.CategoricalCrossentropy()(onehot, probs).item(), rel=1e-6)


# --- precision, recall, F1 --------------------------------------------------------------------------------------------
def _counts(y, p, threshold, w=None):
    w = np.ones_like(p) if w is None else np.broadcast_to(w, p.shape)
    pred = p > threshold
    y = y.astype(bool)
    return (w * (pred & y)).sum(), (w * (pred & ~y)).sum(), (w * (~pred & y)).sum()


def test_precision_and_recall():
    y = (RNG.random((40, 3)) > 0.6).astype(float)
    p = RNG.random((40, 3))
    w = RNG.random((40, 1))
    prec, rec = metrics.Precision(), metrics.Recall()
    multi = metrics.Precision(thresholds=[0.2, 0.5, 0.8])
    prec_c1 = metrics.Precision(class_id=1)
    for part in (slice(0, 25), slice(25, 40)):
        for m in (prec, rec, multi):
            m.update_state(y[part], p[part], sample_weight=w[part])
        prec_c1.update_state(y[part], p[part])
    tp, fp, fn = _counts(y, p, 0.5, w)
    assert float(prec.result()) == pytest.approx(tp / (tp + fp), rel=1e-6)
    assert float(rec.result()) == pytest.approx(tp / (tp + fn), rel=1e-6)
    expected = [(lambda c: c[0] / (c[0] + c[1]))(_counts(y, p, t, w)) for t in (0.2, 0.5, 0.8)]
    np.testing.assert_allclose(multi.result().numpy(), expected, rtol=1e-6)
    tp, fp, _ = _counts(y[:, 1], p[:, 1], 0.5)
    assert float(prec_c1.result()) == pytest.approx(tp / (tp + fp), rel=1e-6)
    assert float(metrics.Recall()(np.zeros(4), np.zeros(4))) == 0.0  # no positives: 0, not nan


def test_precision_top_k():
    y = np.array([[0, 1, 0, 1], [1, 0, 0, 0]], float)
    p = np.array([[0.9, 0.8, 0.1, 0.7], [0.1, 0.6, 0.3, 0.2]])
    m = metrics.Precision(top_k=2)
    m.update_state(y, p)
    assert float(m.result()) == pytest.approx(1 / 4)  # top-2: {0, 1} and {1, 2}; only (0, 1) is right


def _f1_reference(y, p, average, threshold=None, beta=1.0):
    pred = (p >= p.max(-1, keepdims=True)) if threshold is None else p > threshold
    pred = pred.astype(float)
    axis = None if average == "micro" else 0
    tp, fp, fn = (pred * y).sum(axis), (pred * (1 - y)).sum(axis), ((1 - pred) * y).sum(axis)
    precision, recall = tp / (tp + fp + 1e-7), tp / (tp + fn + 1e-7)
    f = (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall + 1e-7)
    if average == "weighted":
        return (f * y.sum(0) / (y.sum() + 1e-7)).sum()
    return f.mean() if average else f


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.3])
def test_f1_score(average, threshold):
    ids, onehot, probs, _ = _batches(1, n=50, c=4)[0]
    m = metrics.F1Score(average=average, threshold=threshold)
    m.update_state(onehot[:20], probs[:20])
    m.update_state(onehot[20:], probs[20:])
    np.testing.assert_allclose(m.result().numpy(), _f1_reference(onehot, probs.astype(float), average, threshold),
                               rtol=1e-5)
    f2 = metrics.FBetaScore(average=average, beta=2.0, threshold=threshold)
    f2.update_state(onehot, probs)
    np.testing.assert_allclose(f2.result().numpy(), _f1_reference(onehot, probs.astype(float), average, threshold,
                                                                  beta=2.0), rtol=1e-5)


def test_f1_rejects_integer_labels_with_a_hint():
    with pytest.raises(ValueError, match="to_categorical"):
        metrics.F1Score().update_state(np.array([0, 1]), np.array([[0.3, 0.7], [0.2, 0.8]]))


# --- AUC ------------------------------------------------------------------------------------------------------------
def _auc_reference(y, p, num_thresholds=200, curve="ROC", method="interpolation", w=None):
    """Keras's AUC, transcribed directly: confusion counts by comparing every prediction with every threshold."""
    eps = 1e-7
    thresholds = np.array([-eps] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1 + eps])
    w = np.ones_like(p) if w is None else w
    pred = p.reshape(1, -1) > thresholds[:, None]
    pos, neg = (y * w).reshape(-1), ((1 - y) * w).reshape(-1)
    tp, fp = pred @ pos, pred @ neg
    fn, tn = pos.sum() - tp, neg.sum() - fp

    def div(a, b):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)
    if curve == "PR" and method == "interpolation":
        dtp, p_ = tp[:-1] - tp[1:], tp + fp
        dp = p_[:-1] - p_[1:]
        slope = div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p_[1:]
        ratio = np.where((p_[:-1] > 0) & (p_[1:] > 0), div(p_[:-1], np.maximum(p_[1:], 0)), 1.0)
        return div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum()
    recall = div(tp, tp + fn)
    x, yy = (div(fp, fp + tn), recall) if curve == "ROC" else (recall, div(tp, tp + fp))
    heights = {"interpolation": (yy[:-1] + yy[1:]) / 2, "minoring": np.minimum(yy[:-1], yy[1:]),
               "majoring": np.maximum(yy[:-1], yy[1:])}[method]
    return ((x[:-1] - x[1:]) * heights).sum()


def _scores(n=300, seed=2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) > 0.6).astype(float)
    p = np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1)
    return y, p


@pytest.mark.parametrize("curve, method", [("ROC", "interpolation"), ("ROC", "minoring"), ("ROC", "majoring"),
                                           ("PR", "interpolation"), ("PR", "minoring"), ("PR", "majoring")])
def test_auc_matches_the_direct_computation(curve, method):
    y, p = _scores()
    w = RNG.random(len(y))
    m = metrics.AUC(curve=curve, summation_method=method)
    m.update_state(y[:100], p[:100], sample_weight=w[:100])
    m.update_state(y[100:], p[100:], sample_weight=w[100:])
    assert float(m.result()) == pytest.approx(_auc_reference(y, p, curve=curve, method=method, w=w), rel=1e-5)


def test_auc_predictions_on_a_threshold_are_not_above_it():
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    p = np.array([0.5, 0.5, 0.75, 0.25, 1.0, 0.0])  # thresholds: -eps, 0.25, 0.5, 0.75, 1 + eps
    for curve in ("ROC", "PR"):
        m = metrics.AUC(num_thresholds=5, curve=curve)
        m.update_state(y, p)
        assert float(m.result()) == pytest.approx(_auc_reference(y, p, num_thresholds=5, curve=curve), rel=1e-6)
    np.testing.assert_array_equal(m.true_positives, [3, 3, 2, 1, 0])


def test_auc_with_many_thresholds_approaches_the_exact_roc_area():
    y, p = _scores(n=400)
    m = metrics.AUC(num_thresholds=20_001)
    m.update_state(y, p)
    pos, neg = p[y == 1], p[y == 0]
    exact = ((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())  # Mann-Whitney
    assert float(m.result()) == pytest.approx(exact, abs=1e-4)
    assert float(m.result()) == pytest.approx(_auc_reference(y, p, num_thresholds=20_001), rel=1e-5)


def test_auc_options():
    y, p = _scores()
    logits = np.log(p + 1e-9) - np.log(1 - p + 1e-9)
    a, b = metrics.AUC(), metrics.AUC(from_logits=True)
    a.update_state(y, p)
    b.update_state(y, logits)
    assert float(a.result()) == pytest.approx(float(b.result()), abs=1e-3)
    y2 = np.stack([y, 1 - y], axis=1)
    p2 = np.stack([p, RNG.random(len(p))], axis=1)
    multi = metrics.AUC(multi_label=True)
    multi.update_state(y2, p2)
    per_label = [_auc_reference(y2[:, i], p2[:, i]) for i in range(2)]
    assert float(multi.result()) == pytest.approx(np.mean(per_label), rel=1e-5)
    weighted = metrics.AUC(multi_label=True, label_weights=[3.0, 1.0])
    weighted.update_state(y2, p2)
    assert float(weighted.result()) == pytest.approx((3 * per_label[0] + per_label[1]) / 4, rel=1e-5)
    pooled = metrics.AUC()
    pooled.update_state(y2, p2)
    assert float(pooled.result()) == pytest.approx(_auc_reference(y2, p2), rel=1e-5)
    custom = metrics.AUC(thresholds=[0.25, 0.5, 0.75])
    custom.update_state(y, p)
    assert custom.num_thresholds == 5


# --- confusion matrix -------------------------------------------------------------------------------------------------
def test_confusion_matrix_rows_are_true_labels():
    labels, predictions = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])
    cm = metrics.confusion_matrix(labels, predictions)
    expected = np.zeros((3, 3), int)
    for t, p in zip(labels, predictions):
        expected[t, p] += 1
    assert cm.dtype == np.int32
    np.testing.assert_array_equal(cm.numpy(), expected)
    assert metrics.confusion_matrix(labels, predictions, num_classes=5).shape == (5, 5)
    weighted = metrics.confusion_matrix([1, 1], [0, 0], num_classes=2, weights=[2.0, 0.5], dtype=np.float32)
    np.testing.assert_array_equal(weighted.numpy(), [[0.0, 0.0], [2.5, 0.0]])
    with pytest.raises(ValueError, match="out of range"):
        metrics.confusion_matrix([3], [0], num_classes=3)


# --- lookup -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, expected", [
    (dict(loss="sparse_categorical_crossentropy"), metrics.SparseCategoricalAccuracy),
    (dict(loss=losses.SparseCategoricalCrossentropy(from_logits=True)), metrics.SparseCategoricalAccuracy),
    (dict(loss="categorical_crossentropy"), metrics.CategoricalAccuracy),
    (dict(loss="binary_crossentropy", output_shape=(None, 3)), metrics.BinaryAccuracy),
    (dict(loss="mse", output_shape=(None, 1)), metrics.BinaryAccuracy),
    (dict(loss="mse", output_shape=(None, 10), label_shape=(None,)), metrics.SparseCategoricalAccuracy),
    (dict(loss="mse", output_shape=(None, 10), label_shape=(None, 1)), metrics.SparseCategoricalAccuracy),
    (dict(loss="mse", output_shape=(None, 10), label_shape=(None, 10)), metrics.CategoricalAccuracy),
    (dict(loss=lambda y, p: p), metrics.CategoricalAccuracy),
])
def test_accuracy_resolution(kwargs, expected):
    m = metrics.get("accuracy", **kwargs)
    assert type(m) is expected and m.name == "accuracy"
    assert metrics.get("acc", **kwargs).name == "acc"


def test_binary_accuracy_for_logits_uses_threshold_zero():
    m = metrics.get("accuracy", loss=losses.BinaryCrossentropy(from_logits=True))
    m.update_state(np.array([1.0, 0.0]), np.array([0.3, -0.2]))
    assert float(m.result()) == 1.0


def test_get_names_configs_and_functions():
    assert type(metrics.get("mse")) is metrics.MeanSquaredError and metrics.get("mse").name == "mse"
    assert type(metrics.get("auc")) is metrics.AUC and type(metrics.get("AUC")) is metrics.AUC
    assert type(metrics.get("precision")) is metrics.Precision
    assert type(metrics.get("f1_score")) is metrics.F1Score
    assert type(metrics.get("top_k_categorical_accuracy")) is metrics.TopKCategoricalAccuracy
    m = metrics.AUC(num_thresholds=50, curve="PR", name="pr")
    again = metrics.deserialize(metrics.serialize(m))
    assert type(again) is metrics.AUC and again.get_config() == m.get_config()
    again = metrics.get(metrics.serialize(metrics.BinaryAccuracy(threshold=0.3)))
    assert again._fn_kwargs == {"threshold": 0.3}
    custom = metrics.get(lambda y, p: np.abs(y - p))
    custom.update_state(np.zeros(3), np.ones(3))
    assert float(custom.result()) == 1.0
    with pytest.raises(ValueError, match="Could not interpret metric"):
        metrics.get("accuracyy")


def test_update_state_is_cheap_per_batch():
    ids, onehot, probs, _ = _batches(1, n=32, c=10)[0]
    ms = [metrics.SparseCategoricalAccuracy(), metrics.CategoricalAccuracy(), metrics.Mean(), metrics.AUC(),
          metrics.Precision()]
    start = time.perf_counter()
    for _ in range(200):
        ms[0].update_state(ids, probs)
        ms[1].update_state(onehot, probs)
        ms[2].update_state(0.5)
        ms[3].update_state(onehot, probs)
        ms[4].update_state(onehot, probs)
        [m.result() for m in ms]
    per_batch = (time.perf_counter() - start) / 200
    assert per_batch < 2e-3, f"{per_batch * 1e6:.0f} µs per batch for five metrics"
