"""Grid search: every combination of the hyperparameters' values, the defaults first, the last-declared parameter
changing fastest (as keras_tuner's ``GridSearch``). A ``Float`` without ``step`` (or a log-scale ``Int`` without
one) contributes 10 values evenly spread on its scale; give ``step`` for a finer or coarser grid.

>>> from chainrule.keras_tuner.hyperparameters import HyperParameters
>>> hp = HyperParameters(); _ = hp.Choice("optimizer", ["sgd", "adam"]); _ = hp.Choice("lr", [0.01, 0.1])
>>> oracle = GridSearchOracle("val_loss", hyperparameters=hp)
>>> [tuple(oracle.create_trial(f"t{i}").hyperparameters.values.values()) for i in range(4)]
[('sgd', 0.01), ('sgd', 0.1), ('adam', 0.01), ('adam', 0.1)]
>>> oracle.create_trial("t4").status   # all four given out; they still run, so it waits
'IDLE'
"""
from __future__ import annotations

from chainrule.keras_tuner.oracle import Oracle
from chainrule.keras_tuner.trial import TrialStatus
from chainrule.keras_tuner.tuner import Tuner


class GridSearchOracle(Oracle):
    """Each trial takes the next combination after the last one started; stops when all were tried (or after
    ``max_trials``)."""

    def __init__(self, objective=None, max_trials: int | None = None, seed: int | None = None,
                 hyperparameters=None, allow_new_entries: bool = True, tune_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3):
        super().__init__(objective, max_trials, hyperparameters, allow_new_entries, tune_new_entries, seed,
                         max_retries_per_trial, max_consecutive_failed_trials)

    def populate_space(self, trial_id: str) -> dict:
        values = self._defaults() if not self.start_order else self._following(
            self.trials[self.start_order[-1]].hyperparameters.values)
        while values is not None and self._values_hash(values) in self._tried_so_far:
            values = self._following(values)  # a combination reached twice through inactive parameters
        if values is None:
            return {"status": TrialStatus.IDLE if self.ongoing_trials else TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}

    def _defaults(self) -> dict:
        hps = self.get_space()
        hps.values = {}
        hps.ensure_active_values()
        return hps.values

    def _following(self, values: dict) -> dict | None:
        """The combination after ``values``: an odometer over the active parameters, the last one fastest, each
        running through its default then its other values; None after the last combination."""
        hps = self.get_space()
        hps.values = {name: value for name, value in values.items() if not name.startswith("tuner/")}
        for hp in reversed(hps.space):
            if hps.is_active(hp):
                order = [hp.default] + [v for v in hp.values if v != hp.default]
                current = hps.values.get(hp.name, hp.default)
                position = order.index(current) if current in order else len(order) - 1
                if position + 1 < len(order):
                    hps.values[hp.name] = order[position + 1]
                    for later in hps.space[hps.space.index(hp) + 1:]:  # the faster digits start over
                        hps.values.pop(later.name, None)
                    hps.ensure_active_values()
                    return hps.values
            hps.values[hp.name] = hp.default
        return None


class GridSearch(Tuner):
    """``GridSearch(hypermodel, objective, max_trials=None, seed=None, ..., directory=, project_name=,
    overwrite=, executions_per_trial=, workers=)``: see :class:`~chainrule.keras_tuner.tuner.Tuner`."""

    def __init__(self, hypermodel=None, objective=None, max_trials: int | None = None, seed: int | None = None,
                 hyperparameters=None, tune_new_entries: bool = True, allow_new_entries: bool = True,
                 max_retries_per_trial: int = 0, max_consecutive_failed_trials: int = 3, **kwargs):
        self.seed = seed
        oracle = GridSearchOracle(objective, max_trials, seed, hyperparameters, allow_new_entries,
                                  tune_new_entries, max_retries_per_trial, max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)
