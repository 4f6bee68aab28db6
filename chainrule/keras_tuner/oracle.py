"""``Oracle``: what to try next. It holds the search space and the trials, hands out new trials
(``create_trial``), takes their results (``update_trial``, ``end_trial``), ranks them (``get_best_trials``) and
keeps its state in the search's folder so that an interrupted search resumes where it stopped.

A search strategy (random, grid, Hyperband) is an Oracle whose ``populate_space(trial_id)`` returns
``{"status": "RUNNING", "values": {...}}`` for the next trial, ``"IDLE"`` while it waits for running trials, or
``"STOPPED"`` when it has nothing left to try. The folder (``<directory>/<project_name>``) holds ``oracle.json``
and one ``trial_<id>/trial.json`` per trial, each replaced whole; trials that were running when the search was
stopped run again when it resumes, finished ones are kept.

>>> from chainrule.keras_tuner.random_search import RandomSearchOracle
>>> oracle = RandomSearchOracle("val_loss", max_trials=2, seed=1)
>>> oracle.hyperparameters.Float("lr", 1e-3, 1e-1, sampling="log")
0.001
>>> trial = oracle.create_trial("tuner0")
>>> oracle.update_trial(trial.trial_id, {"val_loss": 0.5}, step=0)
>>> oracle.end_trial(trial)
>>> oracle.get_best_trials()[0].score
0.5
"""
from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from chainrule.keras_tuner.hyperparameters import HyperParameters
from chainrule.keras_tuner.objective import Objective, create_objective
from chainrule.keras_tuner.trial import Trial, TrialStatus, write_json

STATE_FILE = "oracle.json"


class Oracle:
    """The base of the search strategies; see the module's docstring. ``seed`` makes the values tried repeatable."""

    def __init__(self, objective: str | Objective | None = None, max_trials: int | None = None,
                 hyperparameters: HyperParameters | None = None, allow_new_entries: bool = True,
                 tune_new_entries: bool = True, seed: int | None = None, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3):
        if max_trials is not None and (not isinstance(max_trials, int) or max_trials < 1):
            raise ValueError(f"max_trials must be a whole number of at least 1 (or None), got {max_trials!r}")
        if not hyperparameters and not (tune_new_entries and allow_new_entries):
            raise ValueError("If you set `tune_new_entries=False` or `allow_new_entries=False`, you must specify "
                             "the search space via the `hyperparameters` argument.")
        self.objective = create_objective(objective)
        self.max_trials = max_trials
        self.hyperparameters = hyperparameters.copy() if hyperparameters else HyperParameters()
        self.allow_new_entries, self.tune_new_entries = allow_new_entries, tune_new_entries
        self.seed = random.randint(1, 10000) if seed is None else int(seed)
        self._seed_state = self.seed
        self.max_retries_per_trial = max_retries_per_trial
        self.max_consecutive_failed_trials = max_consecutive_failed_trials
        self.trials: dict[str, Trial] = {}
        self.ongoing_trials: dict[str, Trial] = {}  # tuner id -> its running trial
        self.start_order: list[str] = []
        self.end_order: list[str] = []
        self._run_times: dict[str, int] = {}
        self._retry_queue: list[str] = []
        self._tried_so_far: set[str] = set()
        self._max_collisions = 20
        self.project_dir: Path | None = None

    # --- the strategy ---------------------------------------------------------------------------------------------
    def populate_space(self, trial_id: str) -> dict:
        """The values of trial ``trial_id``, with its status; see the module's docstring."""
        raise NotImplementedError

    def get_space(self) -> HyperParameters:
        return self.hyperparameters.copy()

    def update_space(self, hyperparameters: HyperParameters) -> None:
        """Add the parameters a trial's hypermodel declared that the space does not have yet."""
        new = [hp for hp in hyperparameters.space if not self.hyperparameters._exists(hp.name, hp.conditions)]
        if new and not self.allow_new_entries:
            raise RuntimeError(f"`allow_new_entries` is `False`, but found new entries {new}")
        if new and self.tune_new_entries:
            self.hyperparameters.merge(new)

    # --- trials -------------------------------------------------------------------------------------------------
    def create_trial(self, tuner_id: str) -> Trial:
        """The next trial for ``tuner_id`` (its running one if it has one): a retried trial first, then whatever
        ``populate_space`` proposes, or a STOPPED trial once ``max_trials`` trials exist."""
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        if self._retry_queue:
            trial = self.trials[self._retry_queue.pop(0)]
            trial.status, trial.message = TrialStatus.RUNNING, None
            trial.metrics, trial.score, trial.best_step = {}, None, None
            self.ongoing_trials[tuner_id] = trial
            self._save_trial(trial)
            self.save()
            return trial
        trial_id = f"{{:0{len(str(self.max_trials))}d}}".format(len(self.trials))  # keras_tuner's ids
        if self.max_trials and len(self.trials) >= self.max_trials:
            response = {"status": TrialStatus.STOPPED, "values": None}
        else:
            response = self.populate_space(trial_id)
        hyperparameters = self.hyperparameters.copy()
        hyperparameters.values = dict(response.get("values") or {})
        trial = Trial(hyperparameters, trial_id, response["status"])
        if trial.status == TrialStatus.RUNNING:
            self._tried_so_far.add(self._values_hash(trial.hyperparameters.values))
            self.trials[trial_id] = trial
            self.ongoing_trials[tuner_id] = trial
            self.start_order.append(trial_id)
            self._save_trial(trial)
            self.save()
        return trial

    def update_trial(self, trial_id: str, metrics: dict[str, float], step: int = 0) -> None:
        """Record the metrics trial ``trial_id`` reached at ``step``."""
        trial = self.trials[trial_id]
        if self.objective.name not in metrics:
            raise ValueError(f"Objective value missing in metrics reported to the Oracle, expected: "
                             f"{self.objective}, found: {sorted(metrics)}")
        trial.record(metrics, step)
        self._save_trial(trial)

    def end_trial(self, trial: Trial) -> None:
        """Close ``trial`` (status COMPLETED unless it failed): score it, retry it if it was invalid and retries
        are left, and save."""
        stored = self.trials[trial.trial_id]
        stored.hyperparameters, stored.message = trial.hyperparameters, trial.message
        stored.status = TrialStatus.COMPLETED if trial.status == TrialStatus.RUNNING else trial.status
        self.update_space(stored.hyperparameters)
        if stored.status == TrialStatus.COMPLETED:
            stored.score_by(self.objective)
        self._run_times[stored.trial_id] = self._run_times.get(stored.trial_id, 0) + 1
        if stored.status == TrialStatus.INVALID:
            if self._run_times[stored.trial_id] <= self.max_retries_per_trial:
                self._retry_queue.append(stored.trial_id)
            else:
                stored.status = TrialStatus.FAILED
        if stored.trial_id not in self._retry_queue:
            self.end_order.append(stored.trial_id)
        for tuner_id, running in list(self.ongoing_trials.items()):
            if running.trial_id == stored.trial_id:
                del self.ongoing_trials[tuner_id]
        self._save_trial(stored)
        self.save()
        self._check_consecutive_failures()

    def get_trial(self, trial_id: str) -> Trial:
        return self.trials[trial_id]

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The ``num_trials`` best completed trials, best first (then unfinished ones, if too few completed)."""
        completed = sorted((t for t in self.trials.values() if t.status == TrialStatus.COMPLETED),
                           key=lambda t: self.objective.sort_key(t.score))
        if len(completed) < num_trials:
            completed += [t for t in self.trials.values() if t.status != TrialStatus.COMPLETED]
        return completed[:num_trials]

    def remaining_trials(self) -> int | None:
        return self.max_trials - len(self.trials) if self.max_trials else None

    def _check_consecutive_failures(self) -> None:
        failures = 0
        for trial_id in self.end_order:
            trial = self.trials[trial_id]
            failures = failures + 1 if trial.status == TrialStatus.FAILED else 0
            if failures == self.max_consecutive_failed_trials:
                raise RuntimeError(f"Number of consecutive failures exceeded the limit of "
                                   f"{self.max_consecutive_failed_trials}.\n{trial.message or ''}")

    # --- values -------------------------------------------------------------------------------------------------
    def _random_values(self) -> dict | None:
        """Random values for every active parameter, not tried before; None after 20 draws that all were."""
        for _ in range(self._max_collisions + 1):
            hps = self.get_space()
            hps.values = {}
            for hp in hps.space:
                if hps.is_active(hp):
                    hps.values[hp.name] = hp.random_sample(self._seed_state)
                    self._seed_state += 1
            if self._values_hash(hps.values) not in self._tried_so_far:
                return hps.values
        return None

    @staticmethod
    def _values_hash(values: dict) -> str:
        shown = {name: value for name, value in values.items() if not name.startswith("tuner/")}
        return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:32]

    # --- the folder ---------------------------------------------------------------------------------------------
    def _set_project_dir(self, project_dir: str | Path) -> None:
        self.project_dir = Path(project_dir)

    def trial_dir(self, trial_id: str) -> Path:
        if self.project_dir is None:
            raise RuntimeError("the oracle has no folder: a Tuner gives it one (directory=, project_name=)")
        return self.project_dir / f"trial_{trial_id}"

    def _save_trial(self, trial: Trial) -> None:
        if self.project_dir is not None:
            trial.save(self.trial_dir(trial.trial_id) / "trial.json")

    def get_state(self) -> dict:
        """What ``reload`` needs besides the trial files (subclasses add their own)."""
        return {"objective": self.objective.get_config(), "max_trials": self.max_trials,
                "hyperparameters": self.hyperparameters.get_config(), "start_order": self.start_order,
                "end_order": self.end_order, "run_times": self._run_times, "retry_queue": self._retry_queue,
                "seed": self.seed, "seed_state": self._seed_state, "tried_so_far": sorted(self._tried_so_far),
                "ongoing_trials": {tuner_id: t.trial_id for tuner_id, t in self.ongoing_trials.items()}}

    def set_state(self, state: dict) -> None:
        self.hyperparameters = HyperParameters.from_config(state["hyperparameters"])
        self.start_order, self.end_order = list(state["start_order"]), list(state["end_order"])
        self._run_times, self._retry_queue = dict(state["run_times"]), list(state["retry_queue"])
        self.seed, self._seed_state = state["seed"], state["seed_state"]
        self._tried_so_far = set(state["tried_so_far"])
        self.trials = {trial_id: Trial.load(self.trial_dir(trial_id) / "trial.json")
                       for trial_id in self.start_order}
        # a trial that was running when the search stopped runs again, first
        interrupted = [trial_id for trial_id in self.start_order
                       if self.trials[trial_id].status == TrialStatus.RUNNING and trial_id not in self._retry_queue]
        self._retry_queue = interrupted + self._retry_queue
        self.ongoing_trials = {}

    def save(self) -> None:
        if self.project_dir is not None:
            write_json(self.project_dir / STATE_FILE, self.get_state())

    def reload(self) -> None:
        """Read the state ``save`` wrote (the trials included) back from the folder."""
        state = json.loads((self.project_dir / STATE_FILE).read_text())
        saved = create_objective(Objective(**state["objective"]))
        if saved != self.objective:
            raise ValueError(f"the search in {self.project_dir} ranks trials by {saved}, not {self.objective}: "
                             f"pass overwrite=True to start a new search there, or another project_name")
        self.set_state(state)

