"""Hyperband (Li et al., JMLR 2018) as keras_tuner runs it: brackets of successive halving.

Bracket ``s`` (from ``s_max = number of brackets - 1`` down to 0) starts ``ceil(B / (s + 1) * factor**s)`` random
trials for ``ceil(max_epochs / factor**s)`` epochs, where ``B = ceil(1 + log_factor(max_epochs))``; each following
round keeps the best ``1/factor`` of the previous round's trials and trains them on (from the epoch they reached,
with their weights) to ``factor`` times as many epochs, until a round trains to ``max_epochs``. The whole runs
``hyperband_iterations`` times. A trial's values carry ``tuner/epochs``, ``tuner/initial_epoch``,
``tuner/bracket``, ``tuner/round`` and, when it continues another trial, ``tuner/trial_id``.

>>> oracle = HyperbandOracle("val_loss", max_epochs=9, factor=3)
>>> [(oracle._get_size(2, r), oracle._get_epochs(2, r)) for r in range(3)]   # bracket 2: trials, epochs per round
[(9, 1), (3, 3), (1, 9)]
"""
from __future__ import annotations

import math

from chainrule.keras_tuner.oracle import Oracle
from chainrule.keras_tuner.trial import TrialStatus
from chainrule.keras_tuner.tuner import Tuner


class HyperbandOracle(Oracle):
    """Proposes Hyperband's trials; see the module's docstring."""

    def __init__(self, objective=None, max_epochs: int = 100, factor: int = 3, hyperband_iterations: int = 1,
                 seed: int | None = None, hyperparameters=None, allow_new_entries: bool = True,
                 tune_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3):
        super().__init__(objective, None, hyperparameters, allow_new_entries, tune_new_entries, seed,
                         max_retries_per_trial, max_consecutive_failed_trials)
        if not isinstance(factor, int) or factor < 2:
            raise ValueError("factor needs to be a int larger than 1.")
        if not isinstance(max_epochs, int) or max_epochs < 1:
            raise ValueError(f"max_epochs must be a whole number of at least 1, got {max_epochs!r}")
        self.hyperband_iterations = hyperband_iterations or math.inf
        self.max_epochs, self.min_epochs, self.factor = max_epochs, 1, factor
        self._current_iteration = 0
        self._current_bracket = self._get_num_brackets() - 1
        self._brackets: list[dict] = []
        self._start_new_bracket()

    def populate_space(self, trial_id: str) -> dict:
        self._remove_completed_brackets()
        for bracket in self._brackets:
            bracket_num, rounds = bracket["bracket_num"], bracket["rounds"]
            if len(rounds[0]) < self._get_size(bracket_num, 0):
                return self._random_trial(trial_id, bracket)
            for round_num in range(1, len(rounds)):
                size, past_size = self._get_size(bracket_num, round_num), self._get_size(bracket_num, round_num - 1)
                already = {info["past_id"] for info in rounds[round_num]}
                candidates = [self.trials[info["id"]] for info in rounds[round_num - 1]
                              if info["id"] not in already]
                candidates = [t for t in candidates if t.status == TrialStatus.COMPLETED]
                if len(candidates) > past_size - size:  # enough of the last round is in to know its best
                    best = min(candidates, key=lambda t: self.objective.sort_key(t.score))
                    values = {name: value for name, value in best.hyperparameters.values.items()
                              if not name.startswith("tuner/")}
                    values.update({"tuner/epochs": self._get_epochs(bracket_num, round_num),
                                   "tuner/initial_epoch": self._get_epochs(bracket_num, round_num - 1),
                                   "tuner/bracket": self._current_bracket, "tuner/round": round_num,
                                   "tuner/trial_id": best.trial_id})
                    rounds[round_num].append({"past_id": best.trial_id, "id": trial_id})
                    return {"status": TrialStatus.RUNNING, "values": values}
        if self._current_bracket == 0 and self._current_iteration + 1 == self.hyperband_iterations:
            return {"status": TrialStatus.IDLE if self.ongoing_trials else TrialStatus.STOPPED, "values": None}
        self._increment_bracket_num()
        self._start_new_bracket()
        return self._random_trial(trial_id, self._brackets[-1])

    def _start_new_bracket(self) -> None:
        self._brackets.append({"bracket_num": self._current_bracket,
                               "rounds": [[] for _ in range(self._get_num_rounds(self._current_bracket))]})

    def _increment_bracket_num(self) -> None:
        self._current_bracket -= 1
        if self._current_bracket < 0:
            self._current_bracket = self._get_num_brackets() - 1
            self._current_iteration += 1

    def _remove_completed_brackets(self) -> None:
        def incomplete(bracket):
            last = len(bracket["rounds"]) - 1
            return len(bracket["rounds"][last]) != self._get_size(bracket["bracket_num"], last)

        self._brackets = [b for b in self._brackets if incomplete(b)]

    def _random_trial(self, trial_id: str, bracket: dict) -> dict:
        values = self._random_values()
        if values is None:
            return {"status": TrialStatus.IDLE if self.ongoing_trials else TrialStatus.STOPPED, "values": None}
        values.update({"tuner/epochs": self._get_epochs(bracket["bracket_num"], 0), "tuner/initial_epoch": 0,
                       "tuner/bracket": self._current_bracket, "tuner/round": 0})
        bracket["rounds"][0].append({"past_id": None, "id": trial_id})
        return {"status": TrialStatus.RUNNING, "values": values}

    def _get_size(self, bracket_num: int, round_num: int) -> int:
        """How many trials round ``round_num`` of bracket ``bracket_num`` trains."""
        bracket0_end_size = math.ceil(1 + math.log(self.max_epochs, self.factor))
        return math.ceil(bracket0_end_size / (bracket_num + 1) * self.factor ** (bracket_num - round_num))

    def _get_epochs(self, bracket_num: int, round_num: int) -> int:
        """The epoch that round ``round_num`` of bracket ``bracket_num`` trains to."""
        return math.ceil(self.max_epochs / self.factor ** (bracket_num - round_num))

    def _get_num_rounds(self, bracket_num: int) -> int:
        return bracket_num + 1

    def _get_num_brackets(self) -> int:
        epochs, brackets = self.max_epochs, 0
        while epochs >= self.min_epochs:
            epochs, brackets = epochs / self.factor, brackets + 1
        return brackets

    def get_state(self) -> dict:
        return {**super().get_state(), "hyperband_iterations": self.hyperband_iterations,
                "max_epochs": self.max_epochs, "min_epochs": self.min_epochs, "factor": self.factor,
                "brackets": self._brackets, "current_bracket": self._current_bracket,
                "current_iteration": self._current_iteration}

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self.hyperband_iterations = state["hyperband_iterations"]
        self.max_epochs, self.min_epochs, self.factor = state["max_epochs"], state["min_epochs"], state["factor"]
        self._brackets = state["brackets"]
        self._current_bracket, self._current_iteration = state["current_bracket"], state["current_iteration"]


class Hyperband(Tuner):
    """``Hyperband(hypermodel, objective, max_epochs=100, factor=3, hyperband_iterations=1, seed=None, ...,
    directory=, project_name=, overwrite=, executions_per_trial=, workers=)``. ``search``'s ``epochs`` is replaced
    by each trial's; a trial that continues another starts from that trial's saved model (its best epoch)."""

    def __init__(self, hypermodel=None, objective=None, max_epochs: int = 100, factor: int = 3,
                 hyperband_iterations: int = 1, seed: int | None = None, hyperparameters=None,
                 tune_new_entries: bool = True, allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs):
        oracle = HyperbandOracle(objective, max_epochs, factor, hyperband_iterations, seed, hyperparameters,
                                 allow_new_entries, tune_new_entries, max_retries_per_trial,
                                 max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)

    def run_trial(self, trial, *fit_args, **fit_kwargs):
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            fit_kwargs["epochs"] = values["tuner/epochs"]
            fit_kwargs["initial_epoch"] = values["tuner/initial_epoch"]
        return super().run_trial(trial, *fit_args, **fit_kwargs)

    def _build_model(self, hp):
        model = super()._build_model(hp)
        if "tuner/trial_id" in hp.values:
            from chainrule.keras import saving

            saving.load_weights(model, self.get_trial_dir(hp.values["tuner/trial_id"]) / "model.keras")
        return model
