"""What a trial may return and raise (chainrule/keras_tuner/tuner.py, errors.py), as KerasTuner takes it: a number,
a dict, a History or a list of them; None only when run_trial reported itself; errors retried, failed or fatal."""
import numpy as np
import pytest

from chainrule import keras
from chainrule import keras_tuner as kt
from chainrule.keras_tuner.tuner import metrics_by_step


def test_results_become_metrics_by_step():
    history = keras.callbacks.History()
    history.history, history.epoch = {"loss": [3.0, 2.0], "val_loss": [4.0, 1.0]}, [2, 3]
    assert metrics_by_step(history, "val_loss") == {2: {"loss": 3.0, "val_loss": 4.0},
                                                    3: {"loss": 2.0, "val_loss": 1.0}}
    assert metrics_by_step([2.0, np.float32(4.0)], "score") == {0: {"score": 3.0}}
    assert metrics_by_step({"a": 1, "b": np.float64(2)}, "a") == {0: {"a": 1.0, "b": 2.0}}
    with pytest.raises(kt.errors.FatalTypeError, match="Did you forget to return the metrics"):
        metrics_by_step(None, "score")
    with pytest.raises(kt.errors.FatalTypeError, match="Received return value: 'text'"):
        metrics_by_step("text", "score")


def test_a_tuner_without_hypermodel_needs_its_own_run_trial(tmp_path):
    with pytest.raises(ValueError, match="Received `hypermodel=None`"):
        kt.RandomSearch(directory=tmp_path)


def test_run_trial_returning_nothing_ends_the_search(tmp_path):
    class Silent(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            trial.hyperparameters.Float("x", 0.0, 1.0)

    tuner = Silent(max_trials=3, directory=tmp_path, verbose=0)
    with pytest.raises(kt.errors.FatalTypeError, match="Did you forget to return the metrics"):
        tuner.search()
    assert len(tuner.oracle.trials) == 1


def test_errors_are_retried_failed_or_fatal(tmp_path):
    runs = []

    class Flaky(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Int("x", 0, 100)
            runs.append(trial.trial_id)
            if len(runs) <= 2:  # the first trial fails twice, then works
                raise RuntimeError("flaky")
            if len(runs) == 4:
                raise kt.errors.FailedTrialError("no retry")
            return float(x)

    tuner = Flaky(max_trials=3, max_retries_per_trial=2, directory=tmp_path, verbose=0)
    tuner.search()
    statuses = {t.trial_id: t.status for t in tuner.oracle.trials.values()}
    assert runs == ["0", "0", "0", "1", "2"] and statuses == {"0": "COMPLETED", "1": "FAILED", "2": "COMPLETED"}
    assert "no retry" in tuner.oracle.trials["1"].message

    class Broken(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            trial.hyperparameters.Int("x", 0, 100)
            raise kt.errors.FatalRuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        Broken(max_trials=3, max_retries_per_trial=2, directory=tmp_path, project_name="b", verbose=0).search()
