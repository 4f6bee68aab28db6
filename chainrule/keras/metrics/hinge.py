"""Hinge metrics: the running mean of the hinge losses (labels in {-1, 1}, or {0, 1} mapped there).

>>> m = CategoricalHinge()
>>> m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
>>> round(float(m.result()), 4)
1.4
"""
from __future__ import annotations

from chainrule.keras import losses
from chainrule.keras.metrics.reduction import loss_metric_class

Hinge = loss_metric_class(__name__, "Hinge", losses.hinge, "hinge")
SquaredHinge = loss_metric_class(__name__, "SquaredHinge", losses.squared_hinge, "squared_hinge")
CategoricalHinge = loss_metric_class(__name__, "CategoricalHinge", losses.categorical_hinge, "categorical_hinge")
