"""Small NumPy stand-ins for the scikit-learn functions TensorFlow's tutorials call (scikit-learn is not installed
here): ``train_test_split``, ``StandardScaler``, ``confusion_matrix``, ``roc_curve`` and ``precision_recall_curve``,
with scikit-learn's arguments and results for the cases the tutorials use (binary labels, arrays or DataFrames).
"""

import types

import numpy as np


def train_test_split(*arrays, test_size=0.25, random_state=None, shuffle=True):
    """Each of ``arrays`` (arrays or DataFrames of as many rows) split by the same rows, shuffled unless
    ``shuffle=False``: train1, test1, train2, test2, ...; ``ceil(test_size * n)`` rows in test."""
    n = len(arrays[0])
    if not shuffle:
        order = np.arange(n)
    else:
        order = np.random.RandomState(random_state).permutation(n) if random_state is not None else \
            np.random.permutation(n)
    n_test = int(np.ceil(test_size * n))
    split = []
    for data in arrays:
        take = data.iloc.__getitem__ if hasattr(data, "iloc") else data.__getitem__
        split += [take(order[n_test:]), take(order[:n_test])]
    return split


class StandardScaler:
    """Each column centred on its mean and divided by its standard deviation (both from ``fit``)."""

    def fit(self, x):
        x = np.asarray(x, dtype=np.float64)
        self.mean_, self.scale_ = x.mean(axis=0), x.std(axis=0)
        self.scale_[self.scale_ == 0] = 1.0
        return self

    def transform(self, x):
        return (np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def inverse_transform(self, x):
        return np.asarray(x, dtype=np.float64) * self.scale_ + self.mean_


def confusion_matrix(y_true, y_pred):
    """``cm[i][j]``: how many of class i were predicted j (binary labels)."""
    y_true, y_pred = np.asarray(y_true).astype(int).ravel(), np.asarray(y_pred).astype(int).ravel()
    cm = np.zeros((2, 2), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def _counts_by_threshold(y_true, y_score):
    y_true, y_score = np.asarray(y_true).ravel().astype(bool), np.asarray(y_score).ravel()
    order = np.argsort(-y_score, kind="mergesort")
    y_true, y_score = y_true[order], y_score[order]
    last = np.r_[np.flatnonzero(np.diff(y_score)), len(y_score) - 1]  # the last of each run of equal scores
    tps = np.cumsum(y_true)[last]
    fps = (last + 1) - tps
    return fps, tps, y_score[last]


def roc_curve(y_true, y_score):
    """False and true positive rates at each distinct score as threshold, from (0, 0)."""
    fps, tps, thresholds = _counts_by_threshold(y_true, y_score)
    fpr = np.r_[0.0, fps / max(fps[-1], 1)]
    tpr = np.r_[0.0, tps / max(tps[-1], 1)]
    return fpr, tpr, np.r_[np.inf, thresholds]


def precision_recall_curve(y_true, y_score):
    """Precision and recall at each distinct score as threshold, recall decreasing, ending at (1, 0)."""
    fps, tps, thresholds = _counts_by_threshold(y_true, y_score)
    precision = tps / np.maximum(tps + fps, 1)
    recall = tps / max(tps[-1], 1)
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


metrics = types.SimpleNamespace(confusion_matrix=confusion_matrix, roc_curve=roc_curve,
                                precision_recall_curve=precision_recall_curve)
