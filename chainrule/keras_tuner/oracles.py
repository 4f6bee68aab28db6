"""``keras_tuner.oracles``: the search strategies without a tuner, for ``Tuner(oracle=..., hypermodel=...)``.

``BayesianOptimization``, ``GridSearch``, ``Hyperband`` and ``RandomSearch`` are the names older KerasTuner
releases gave the oracles here (its guides still use ``kt.oracles.BayesianOptimization``).

>>> from chainrule.keras_tuner import oracles
>>> oracles.RandomSearch is oracles.RandomSearchOracle
True
"""
from chainrule.keras_tuner.bayesian import BayesianOptimizationOracle
from chainrule.keras_tuner.grid_search import GridSearchOracle
from chainrule.keras_tuner.hyperband import HyperbandOracle
from chainrule.keras_tuner.random_search import RandomSearchOracle

BayesianOptimization = BayesianOptimizationOracle
GridSearch = GridSearchOracle
Hyperband = HyperbandOracle
RandomSearch = RandomSearchOracle

__all__ = ["BayesianOptimization", "BayesianOptimizationOracle", "GridSearch", "GridSearchOracle", "Hyperband",
           "HyperbandOracle", "RandomSearch", "RandomSearchOracle"]
