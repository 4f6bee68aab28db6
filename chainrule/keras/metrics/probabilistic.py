"""Probabilistic metrics: the running mean of the losses' per-sample cross-entropies, KL divergence and Poisson
deviance."""
from __future__ import annotations

from chainrule.keras import losses
from chainrule.keras.metrics.reduction import loss_metric_class

BinaryCrossentropy = loss_metric_class(__name__, "BinaryCrossentropy", losses.binary_crossentropy,
                                       "binary_crossentropy", from_logits=False, label_smoothing=0.0)
CategoricalCrossentropy = loss_metric_class(__name__, "CategoricalCrossentropy", losses.categorical_crossentropy,
                                            "categorical_crossentropy", from_logits=False, label_smoothing=0.0)
SparseCategoricalCrossentropy = loss_metric_class(__name__, "SparseCategoricalCrossentropy",
                                                  losses.sparse_categorical_crossentropy,
                                                  "sparse_categorical_crossentropy", from_logits=False)
KLDivergence = loss_metric_class(__name__, "KLDivergence", losses.kl_divergence, "kl_divergence")
Poisson = loss_metric_class(__name__, "Poisson", losses.poisson, "poisson")
