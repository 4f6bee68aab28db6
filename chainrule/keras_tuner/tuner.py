"""``Tuner``: runs the trials an oracle proposes: builds each model from its hyperparameters, trains it with the
arguments given to ``search`` (those of ``Model.fit``), reports the metrics, and keeps the best epoch's model.

The search's folder ``<directory>/<project_name>`` holds ``oracle.json`` and, per trial, ``trial_<id>/trial.json``
and ``trial_<id>/model.keras`` (chainrule's model file, with the weights of the trial's best epoch). With
``overwrite=False`` (the default, as keras_tuner) a tuner made again on the same folder resumes the search:
finished trials are kept and not run again, a trial that was interrupted runs again. ``overwrite=True`` deletes the
folder first.

Each trial's metrics are those ``fit`` reports per epoch (averaged over ``executions_per_trial`` models, epoch by
epoch); its score is the objective at its best epoch. With ``workers=N`` (N > 1), N trials train at once in worker
processes, each limited to one BLAS thread; with ``workers="mpi"`` in a program started by ``mpiexec -n N``, rank 0
keeps the oracle and ranks 1..N-1 train trials (:mod:`chainrule.keras_tuner.mpi_search`); with KerasTuner's
environment variables (KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT) the same program started
as a chief and as workers shares one search (:mod:`chainrule.keras_tuner.chief_oracle`); the default is one trial
at a time, in this process. ``distribution_strategy`` builds and compiles each model in its ``scope()``.

>>> import numpy as np, tempfile
>>> from chainrule import keras
>>> from chainrule.keras_tuner import RandomSearch
>>> def build(hp):
...     model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 8, step=2)),
...                               keras.layers.Dense(1)])
...     model.compile(optimizer="sgd", loss="mse")
...     return model
>>> x, y = np.ones((16, 4), "float32"), np.ones((16, 1), "float32")
>>> tuner = RandomSearch(build, objective="loss", max_trials=2, seed=0, directory=tempfile.mkdtemp(), verbose=0)
>>> tuner.search(x, y, epochs=1, verbose=0)
>>> len(tuner.oracle.trials), sorted(tuner.get_best_hyperparameters()[0].values)
(2, ['units'])
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import os
import shutil
import time
import traceback
from pathlib import Path

import numpy as np

from chainrule.keras.callbacks import Callback
from chainrule.keras_tuner import chief_oracle, errors
from chainrule.keras_tuner.hypermodel import HyperModel, get_hypermodel
from chainrule.keras_tuner.hyperparameters import HyperParameters
from chainrule.keras_tuner.oracle import STATE_FILE, Oracle
from chainrule.keras_tuner.trial import Trial, TrialStatus

MODEL_FILE = "model.keras"


class Tuner:
    """Runs an oracle's trials; see the module's docstring. ``optimizer``, ``loss`` and ``metrics``, when given,
    compile each model the hypermodel builds (else ``build`` compiles it); ``max_model_size`` fails trials whose
    model has more weights."""

    def __init__(self, oracle: Oracle, hypermodel=None, max_model_size: int | None = None, optimizer=None,
                 loss=None, metrics=None, directory: str | Path | None = None, project_name: str | None = None,
                 overwrite: bool = False, executions_per_trial: int = 1, workers: int | str = 1,
                 tuner_id: str | None = None, verbose: int = 1, distribution_strategy=None):
        if not isinstance(executions_per_trial, int) or executions_per_trial < 1:
            raise ValueError(f"executions_per_trial must be a whole number of at least 1, got "
                             f"{executions_per_trial!r}")
        if workers != "mpi" and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a whole number of at least 1, or 'mpi', got {workers!r}")
        if not isinstance(oracle, Oracle):
            raise TypeError(f"oracle must be a keras_tuner Oracle, got {type(oracle).__name__}")
        if hypermodel is None and type(self).run_trial is Tuner.run_trial:
            raise ValueError("Received `hypermodel=None`. We only allow not specifying `hypermodel` if the user "
                             "defines the search space in `Tuner.run_trial()` by subclassing a `Tuner` class "
                             "without using a `HyperModel` instance.")
        self.oracle = oracle
        self.hypermodel: HyperModel | None = None if hypermodel is None else get_hypermodel(hypermodel)
        self.max_model_size = max_model_size
        self.optimizer, self.loss, self.metrics = optimizer, loss, metrics
        self.executions_per_trial = executions_per_trial
        self.workers = workers
        self.distribution_strategy = distribution_strategy
        distributed = chief_oracle.has_chief_oracle()
        self.tuner_id = tuner_id or (os.environ[chief_oracle.TUNER_ID] if distributed else "tuner0")
        self.verbose = verbose
        self._search_started = time.perf_counter()
        self.directory = str(directory or ".")
        self.project_name = project_name or "untitled_project"
        self.oracle._set_project_dir(self.project_dir)
        if workers == "mpi":  # rank 0 alone prepares the folder; the other ranks read it after
            from chainrule.keras_tuner.mpi_search import chief_then_others

            chief_then_others(lambda: self._prepare_folder(overwrite, verbose), self.oracle.reload)
        elif distributed and not chief_oracle.is_chief_oracle():  # the chief prepares the folder and the space
            self.oracle = chief_oracle.OracleClient(self.oracle)
        else:
            self._prepare_folder(overwrite, verbose)

    def _prepare_folder(self, overwrite: bool, verbose: int) -> None:
        """Start the results folder, or reload the search it holds."""
        if overwrite and self.project_dir.exists():
            shutil.rmtree(self.project_dir)
        if (self.project_dir / STATE_FILE).exists():
            if verbose:
                print(f"Reloading Tuner from {self.project_dir / STATE_FILE}")
            self.oracle.reload()
        else:
            self._populate_initial_space()
            self.project_dir.mkdir(parents=True, exist_ok=True)
            self.oracle.save()

    @property
    def project_dir(self) -> Path:
        return Path(self.directory) / self.project_name

    def get_trial_dir(self, trial_id: str) -> Path:
        return self.oracle.trial_dir(trial_id)

    def _populate_initial_space(self) -> None:
        """Build the hypermodel once with the defaults, so that the oracle knows the space before the first
        trial (grid search needs it); a tuner whose own ``run_trial`` declares them has none to build."""
        if self.hypermodel is None:
            return
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.hypermodel.build(hp)
        self.oracle.update_space(hp)

    # --- the search ---------------------------------------------------------------------------------------------
    def search(self, *fit_args, **fit_kwargs) -> None:
        """Run trials until the oracle stops (``max_trials`` reached, space exhausted, Hyperband's brackets done).
        The arguments are ``Model.fit``'s (x, y, epochs, validation_split, validation_data, callbacks, ...)."""
        if "verbose" in fit_kwargs:
            self.verbose = fit_kwargs["verbose"]
        self._search_started = time.perf_counter()
        if chief_oracle.is_chief_oracle():  # KERASTUNER_TUNER_ID="chief": serve the workers until the search ends
            chief_oracle.OracleServer(self.oracle).serve()
            return
        if self.workers == "mpi":
            from chainrule.keras_tuner.mpi_search import search_over_ranks

            if search_over_ranks(self, fit_args, fit_kwargs):
                return
        elif self.workers > 1:
            from chainrule.keras_tuner.parallel import search_in_workers

            search_in_workers(self, fit_args, fit_kwargs)
            return
        while True:
            trial = self.oracle.create_trial(self.tuner_id)
            if trial.status == TrialStatus.IDLE and isinstance(self.oracle, chief_oracle.OracleClient):
                time.sleep(0.5)  # other workers' trials must end before the chief can say what comes next
                continue
            if trial.status != TrialStatus.RUNNING:  # STOPPED, or IDLE with nothing running to wait for
                break
            self.on_trial_begin(trial)
            outcome = self.execute_trial(trial, fit_args, fit_kwargs)
            self.finish_trial(trial, outcome)
            self.on_trial_end(self.oracle.trials[trial.trial_id])

    def execute_trial(self, trial: Trial, fit_args, fit_kwargs) -> dict:
        """Run ``trial``: ``{"metrics": {epoch: {name: value}}}``, or ``{"error": message, "status": ...}`` when
        it failed (FAILED for a FailedTrialError, else INVALID: retried while ``max_retries_per_trial`` allows).
        A FatalError is not caught: it ends the search."""
        try:
            results = self.run_trial(trial, *fit_args, **fit_kwargs)
            if results is None and self._reported_objective(trial):
                return {"metrics": {}}  # run_trial reported to the oracle itself (on_epoch_end, update_trial)
            curves = metrics_by_step(results, self.oracle.objective.name)
        except (KeyboardInterrupt, SystemExit, errors.FatalError):
            raise
        except Exception as error:  # a trial that fails is recorded as failed; the search goes on
            message = "".join(traceback.format_exception_only(error)).strip()
            if self.verbose:
                traceback.print_exc()
            failed = isinstance(error, errors.FailedTrialError)
            return {"error": message, "status": TrialStatus.FAILED if failed else TrialStatus.INVALID}
        return {"metrics": curves}

    def _reported_objective(self, trial: Trial) -> bool:
        return self.oracle.objective.name in self.oracle.trials[trial.trial_id].metrics

    def finish_trial(self, trial: Trial, outcome: dict) -> None:
        """Report ``outcome`` (of execute_trial) to the oracle and end the trial."""
        if "error" in outcome:
            trial.status, trial.message = outcome.get("status", TrialStatus.INVALID), outcome["error"]
        else:
            try:
                for epoch, metrics in sorted(outcome["metrics"].items()):
                    self.oracle.update_trial(trial.trial_id, metrics, step=epoch)
            except ValueError as error:  # the objective is not among the metrics: retried like an error
                trial.status, trial.message = TrialStatus.INVALID, str(error)
        self.oracle.end_trial(trial)

    def run_trial(self, trial: Trial, *fit_args, **fit_kwargs) -> list:
        """Build and train ``executions_per_trial`` models with the trial's values; save the best epoch's model to
        the trial's folder; return what each execution's ``hypermodel.fit`` returned (History, dict of metrics or
        the objective's value), which the tuner averages epoch by epoch.

        A subclass may override it to run anything: it returns the objective's value, a dict of metrics (the
        objective's among them), a History, or a list of those (averaged); or None when it reported the metrics
        itself (``self.on_epoch_end``, ``self.oracle.update_trial``)."""
        hp = trial.hyperparameters
        results = []
        best_score = None
        for execution in range(self.executions_per_trial):
            self._seed(trial, execution)
            model = self._build_model(hp)
            keeper = _KeepBest(self.oracle.objective.name, self.oracle.objective.better)
            kwargs = dict(fit_kwargs)
            callbacks = copy.deepcopy(list(fit_kwargs.get("callbacks") or []))
            self._configure_tensorboard_dir(callbacks, trial, execution)
            kwargs["callbacks"] = [*callbacks, keeper]
            results.append(self.hypermodel.fit(hp, model, *fit_args, **kwargs))
            if keeper.best_weights is not None and (best_score is None or
                                                    self.oracle.objective.better(keeper.best, best_score)):
                best_score = keeper.best
                model.set_weights(keeper.best_weights)
                self.save_model(trial.trial_id, model)
            elif best_score is None and execution == self.executions_per_trial - 1:
                self.save_model(trial.trial_id, model)  # no epoch reported the objective: keep the last
        return results

    def _configure_tensorboard_dir(self, callbacks: list, trial: Trial, execution: int) -> None:
        """Point each TensorBoard callback at ``<log_dir>/<trial_id>`` (``/execution<i>`` with several executions),
        as keras_tuner does, so that each trial's curves are a run of their own, and record the trial's values
        there for TensorBoard's HParams tab."""
        from chainrule.keras_tuner.hparams import HParamsCallback

        for callback in list(callbacks):
            if type(callback).__name__ == "TensorBoard":
                log_dir = Path(callback.log_dir) / str(trial.trial_id)
                if self.executions_per_trial > 1:
                    log_dir = log_dir / f"execution{execution}"
                callback.log_dir = str(log_dir)
                callbacks.append(HParamsCallback(log_dir, trial.hyperparameters.values, trial.trial_id))

    def _build_model(self, hp: HyperParameters):
        with self.distribution_strategy.scope() if self.distribution_strategy else contextlib.nullcontext():
            model = self._build_and_compile(hp)
        if self.max_model_size is not None and model.count_params() > self.max_model_size:
            raise ValueError(f"Oversized model: {model.count_params()} parameters, more than max_model_size="
                             f"{self.max_model_size}")
        return model

    def _build_and_compile(self, hp: HyperParameters):
        model = self.hypermodel.build(hp)
        if model is None or not hasattr(model, "fit"):
            raise TypeError(f"the hypermodel's build(hp) must return a model, got {type(model).__name__}")
        if self.loss is not None or self.optimizer is not None or self.metrics is not None:
            self._compile(model)
        elif getattr(model, "optimizer", None) is None and type(self.hypermodel).fit is HyperModel.fit:
            raise ValueError("the model built by the hypermodel is not compiled: compile it in build(hp), or pass "
                             "optimizer= and loss= to the tuner")
        return model

    def _compile(self, model) -> None:
        from chainrule.keras import optimizers

        optimizer = self.optimizer or getattr(model, "optimizer", None) or "adam"
        if not isinstance(optimizer, str):  # each model gets its own optimizer state
            optimizer = type(optimizer).from_config(optimizer.get_config())
        model.compile(optimizer=optimizers.get(optimizer), loss=self.loss or getattr(model, "loss", None),
                      metrics=self.metrics)

    def _seed(self, trial: Trial, execution: int) -> None:
        """Seed the weights' initialisation from the oracle's seed, the trial and the execution: a search with
        a seed gives the same models each time it runs."""
        from chainrule.keras.utils import set_random_seed

        text = f"{self.oracle.seed}/{trial.trial_id}/{execution}"
        set_random_seed(int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little"))

    # --- models and results -------------------------------------------------------------------------------------
    def save_model(self, trial_id: str, model) -> None:
        from chainrule.keras import saving

        saving.save_model(model, self.get_trial_dir(trial_id) / MODEL_FILE)

    def load_model(self, trial: Trial):
        """The model ``trial`` saved (its best epoch's weights)."""
        from chainrule.keras import saving

        path = self.get_trial_dir(trial.trial_id) / MODEL_FILE
        if not path.exists():
            raise FileNotFoundError(f"trial {trial.trial_id} saved no model ({path} is missing; its status is "
                                    f"{trial.status})")
        return saving.load_model(path)

    def get_best_models(self, num_models: int = 1) -> list:
        """The ``num_models`` best trials' models, best first, loaded from their folders."""
        return [self.load_model(trial) for trial in self.oracle.get_best_trials(num_models)]

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The hyperparameters of the ``num_trials`` best trials, best first."""
        return [trial.hyperparameters for trial in self.oracle.get_best_trials(num_trials)]

    def search_space_summary(self, extended: bool = False) -> None:
        """Print the search space: each parameter, its kind and its settings."""
        hp = self.oracle.get_space()
        print("Search space summary")
        print(f"Default search space size: {len(hp.space)}")
        for entry in hp.space:
            config = entry.get_config()
            config.pop("name")
            print(f"{entry.name} ({type(entry).__name__})")
            print(config)

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the ``num_trials`` best trials, best first: their values and scores."""
        print("Results summary")
        print(f"Results in {self.project_dir}")
        print(f"Showing {num_trials} best trials")
        print(self.oracle.objective)
        for trial in self.oracle.get_best_trials(num_trials):
            print()
            trial.summary()

    # --- hooks for a run_trial of one's own (keras_tuner's) -----------------------------------------------------
    def on_epoch_begin(self, trial: Trial, model, epoch: int, logs=None) -> None:
        """Called by a custom ``run_trial`` before each epoch; nothing by default."""

    def on_batch_begin(self, trial: Trial, model, batch: int, logs=None) -> None:
        """Called by a custom ``run_trial`` before each batch; nothing by default."""

    def on_batch_end(self, trial: Trial, model, batch: int, logs=None) -> None:
        """Called by a custom ``run_trial`` after each batch; nothing by default."""

    def on_epoch_end(self, trial: Trial, model, epoch: int, logs=None) -> None:
        """Called by a custom ``run_trial`` after each epoch: reports ``logs`` (the objective among them) to the
        oracle and saves ``model`` when the objective is the best the trial has reached."""
        logs = {name: float(value) for name, value in (logs or {}).items()}
        self.oracle.update_trial(trial.trial_id, logs, step=epoch)
        objective = self.oracle.objective
        seen = [value for _, value in self.oracle.trials[trial.trial_id].metrics[objective.name][:-1]]
        if all(objective.better(logs[objective.name], value) for value in seen):
            self.save_model(trial.trial_id, model)

    # --- hooks and display ------------------------------------------------------------------------------------------
    def on_trial_begin(self, trial: Trial) -> None:
        """Called before a trial trains (keras_tuner's hook): shows its values when ``verbose``."""
        if not self.verbose:
            return
        best = self.oracle.get_best_trials()
        best_values = best[0].hyperparameters.values if best and best[0].score is not None else {}
        print(f"\nSearch: Running Trial #{len(self.oracle.trials)}\n")
        print(f"{'Value':18}|{'Best Value So Far':18}|Hyperparameter")
        for name, value in trial.hyperparameters.values.items():
            print(f"{_shown(value):18}|{_shown(best_values.get(name, '?')):18}|{name}")
        print()

    def on_trial_end(self, trial: Trial) -> None:
        """Called once a trial has ended, with its score (keras_tuner's hook): shows it when ``verbose``."""
        if not self.verbose:
            return
        stored = trial
        name = self.oracle.objective.name
        print(f"Trial {trial.trial_id} {stored.status.capitalize()}" +
              (f": {stored.message}" if stored.message else ""))
        if stored.score is not None:
            print(f"{name}: {stored.score}")
        best = self.oracle.get_best_trials()
        print(f"Best {name} So Far: {best[0].score if best else None}")
        elapsed = time.gmtime(time.perf_counter() - self._search_started)
        print(f"Total elapsed time: {time.strftime('%Hh %Mm %Ss', elapsed)}")


class _KeepBest(Callback):
    """Keeps a copy of the weights at the epoch where ``monitor`` was best (the model a trial saves)."""

    def __init__(self, monitor: str, better):
        super().__init__()
        self.monitor, self.better = monitor, better
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return
        if self.best is None or self.better(float(value), self.best):
            self.best, self.best_weights = float(value), [np.array(w, copy=True) for w in self.model.get_weights()]


def metrics_by_step(results, objective: str) -> dict[int, dict[str, float]]:
    """What a trial returned as {epoch: {metric: value}}: a History (its epochs), a dict of final metrics or one
    number (the objective's value, at step 0), or a list of those (averaged epoch by epoch).

    >>> metrics_by_step([{"loss": 1.0}, 3.0], "loss")
    {0: {'loss': 2.0}}
    """
    if isinstance(results, (list, tuple)):
        if not results:
            raise errors.FatalValueError("run_trial returned an empty list: return the metrics of each execution")
        return _average([metrics_by_step(one, objective) for one in results])
    if isinstance(results, (int, float, np.integer, np.floating)) and not isinstance(results, bool):
        return {0: {objective: float(results)}}
    if np.ndim(results) == 0 and hasattr(results, "numpy"):  # a scalar tensor
        return {0: {objective: float(results.numpy())}}
    if results is None:
        raise errors.FatalTypeError("The return value of run_trial (or HyperModel.fit) is None. Did you forget to "
                                    "return the metrics?")
    history = getattr(results, "history", results)
    if not isinstance(history, dict):
        raise errors.FatalTypeError(f"Expected the return value of run_trial (or HyperModel.fit) to be one of "
                                    f"float, dict, keras.callbacks.History, or a list of one of these types. "
                                    f"Received return value: {results!r} of type {type(results).__name__}.")
    if all(np.ndim(v) == 0 for v in history.values()):  # final metrics only
        return {0: {name: float(v) for name, v in history.items()}}
    epochs = max(len(v) for v in history.values())
    steps = list(getattr(results, "epoch", None) or range(epochs))
    return {steps[i]: {name: float(values[i]) for name, values in history.items() if i < len(values)}
            for i in range(epochs)}


def _average(curves: list[dict[int, dict[str, float]]]) -> dict[int, dict[str, float]]:
    """The executions' metrics averaged epoch by epoch (over the executions that reached each epoch)."""
    averaged = {}
    for epoch in sorted({e for curve in curves for e in curve}):
        names = {name for curve in curves for name in curve.get(epoch, {})}
        averaged[epoch] = {name: float(np.mean([c[epoch][name] for c in curves if name in c.get(epoch, {})]))
                           for name in sorted(names)}
    return averaged


def _shown(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.5g}"
    text = str(value)
    return text if len(text) <= 18 else text[:15] + "..."
