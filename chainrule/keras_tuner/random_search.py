"""Random search: each trial draws every hyperparameter at random from its range (on its sampling's scale), never
repeating a combination tried before.

>>> from chainrule.keras_tuner.hyperparameters import HyperParameters
>>> hp = HyperParameters(); _ = hp.Choice("units", [8, 16])
>>> oracle = RandomSearchOracle("val_loss", max_trials=5, hyperparameters=hp, seed=3)
>>> sorted(oracle.create_trial(f"t{i}").hyperparameters.values["units"] for i in range(2))
[8, 16]
>>> oracle.create_trial("t2").status   # both combinations given out: it waits for them, then stops
'IDLE'
"""
from __future__ import annotations

from chainrule.keras_tuner.oracle import Oracle
from chainrule.keras_tuner.trial import TrialStatus
from chainrule.keras_tuner.tuner import Tuner


class RandomSearchOracle(Oracle):
    """Random values for each trial; stops after ``max_trials`` trials (10 by default, as keras_tuner) or when 20
    draws in a row were all tried before."""

    def __init__(self, objective=None, max_trials: int | None = 10, seed: int | None = None, hyperparameters=None,
                 allow_new_entries: bool = True, tune_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3):
        super().__init__(objective, max_trials, hyperparameters, allow_new_entries, tune_new_entries, seed,
                         max_retries_per_trial, max_consecutive_failed_trials)

    def populate_space(self, trial_id: str) -> dict:
        values = self._random_values()
        if values is None:
            return {"status": TrialStatus.IDLE if self.ongoing_trials else TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}


class RandomSearch(Tuner):
    """``RandomSearch(hypermodel, objective, max_trials=10, seed=None, ..., directory=, project_name=,
    overwrite=, executions_per_trial=, workers=)``: see :class:`~chainrule.keras_tuner.tuner.Tuner`."""

    def __init__(self, hypermodel=None, objective=None, max_trials: int | None = 10, seed: int | None = None,
                 hyperparameters=None, tune_new_entries: bool = True, allow_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3, **kwargs):
        self.seed = seed
        oracle = RandomSearchOracle(objective, max_trials, seed, hyperparameters, allow_new_entries,
                                    tune_new_entries, max_retries_per_trial, max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)
