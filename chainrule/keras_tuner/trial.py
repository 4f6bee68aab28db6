"""``Trial``: one set of hyperparameter values, its status, the metrics it reached and its score.

A trial is saved as ``trial_<id>/trial.json`` in the search's folder (written atomically, so that a search killed
at any moment leaves each file whole) and read back when the search resumes.

>>> from chainrule.keras_tuner.hyperparameters import HyperParameters
>>> trial = Trial(HyperParameters(), "00", TrialStatus.RUNNING)
>>> trial.record({"val_accuracy": 0.9, "loss": 0.3}, step=2)
>>> Trial.from_state(trial.get_state()).metrics
{'val_accuracy': [[2, 0.9]], 'loss': [[2, 0.3]]}
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from chainrule.keras.saving import atomic_write
from chainrule.keras_tuner.hyperparameters import HyperParameters
from chainrule.keras_tuner.objective import Objective


class TrialStatus:
    """keras_tuner's trial statuses."""
    RUNNING = "RUNNING"
    IDLE = "IDLE"          # the oracle waits for running trials before it can say what to try next
    INVALID = "INVALID"    # the objective was not finite
    STOPPED = "STOPPED"    # the search is over
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class Trial:
    """``hyperparameters`` (its ``values`` are this trial's), ``status``, ``metrics`` (name -> [[step, value], ...]),
    ``score`` and ``best_step`` (of the objective), ``message`` (why it failed)."""

    def __init__(self, hyperparameters: HyperParameters, trial_id: str, status: str = TrialStatus.RUNNING):
        self.hyperparameters = hyperparameters
        self.trial_id = trial_id
        self.status = status
        self.metrics: dict[str, list[list]] = {}
        self.score: float | None = None
        self.best_step: int | None = None
        self.message: str | None = None

    def record(self, metrics: dict[str, float], step: int = 0) -> None:
        """Add the metric values observed at ``step`` (an epoch, or a count of them)."""
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append([int(step), float(value)])

    def score_by(self, objective: Objective) -> None:
        """Set ``score``/``best_step`` to the objective's best observation, or mark the trial INVALID when it has
        none that is finite."""
        observed = [(step, value) for step, value in self.metrics.get(objective.name, []) if math.isfinite(value)]
        if not observed:
            self.score, self.best_step = None, None
            self.status = TrialStatus.INVALID
            self.message = self.message or f"the objective {objective.name!r} was never a finite number"
            return
        self.best_step, self.score = min(observed, key=lambda pair: objective.sort_key(pair[1]))

    def best_metrics(self) -> dict[str, float]:
        """Each metric's value at ``best_step`` (the last value where there is none at that step)."""
        found = {}
        for name, observations in self.metrics.items():
            at_best = [value for step, value in observations if step == self.best_step]
            found[name] = at_best[-1] if at_best else observations[-1][1]
        return found

    def summary(self) -> None:
        """Print the trial as ``results_summary`` shows it."""
        print(f"Trial {self.trial_id} summary")
        print("Hyperparameters:")
        for name, value in self.hyperparameters.values.items():
            print(f"{name}: {value}")
        if self.score is not None:
            print(f"Score: {self.score}")
        if self.message:
            print(self.message)

    # --- files --------------------------------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {"trial_id": self.trial_id, "hyperparameters": self.hyperparameters.get_config(),
                "status": self.status, "metrics": self.metrics, "score": self.score, "best_step": self.best_step,
                "message": self.message}

    @classmethod
    def from_state(cls, state: dict) -> Trial:
        trial = cls(HyperParameters.from_config(state["hyperparameters"]), state["trial_id"], state["status"])
        trial.metrics = {name: [list(pair) for pair in values] for name, values in state["metrics"].items()}
        trial.score, trial.best_step, trial.message = state["score"], state["best_step"], state.get("message")
        return trial

    def save(self, path: str | Path) -> None:
        write_json(path, self.get_state())

    @classmethod
    def load(cls, path: str | Path) -> Trial:
        return cls.from_state(json.loads(Path(path).read_text()))

    def __repr__(self) -> str:
        return f"Trial(trial_id={self.trial_id!r}, status={self.status!r}, score={self.score})"


def write_json(path: str | Path, value) -> None:
    """``value`` as indented JSON, replacing ``path`` whole or not at all."""
    atomic_write(path, [json.dumps(value, indent=2).encode() + b"\n"])
