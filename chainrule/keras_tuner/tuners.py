"""``keras_tuner.tuners``: the built-in tuners under KerasTuner's module name.

>>> from chainrule.keras_tuner import tuners
>>> sorted(tuners.__all__)
['BayesianOptimization', 'GridSearch', 'Hyperband', 'RandomSearch']
"""
from chainrule.keras_tuner.bayesian import BayesianOptimization
from chainrule.keras_tuner.grid_search import GridSearch
from chainrule.keras_tuner.hyperband import Hyperband
from chainrule.keras_tuner.random_search import RandomSearch

__all__ = ["BayesianOptimization", "GridSearch", "Hyperband", "RandomSearch"]
