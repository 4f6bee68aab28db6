"""``chainrule.keras_tuner``: hyperparameter search with the API of the ``keras_tuner`` package.

    import chainrule.keras_tuner as kt          # or: from chainrule import keras_tuner as kt

    def build(hp):
        model = keras.Sequential([keras.Input((784,)),
                                  keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-1, sampling="log")),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = kt.RandomSearch(build, objective="val_accuracy", max_trials=12, directory="runs", project_name="mlp")
    tuner.search(x, y, epochs=3, validation_split=0.1)
    tuner.results_summary()
    best_model = tuner.get_best_models(1)[0]

=======================  =====================================================================================
``hyperparameters.py``   HyperParameters and the kinds Float, Int, Choice, Boolean, Fixed; conditional_scope
``objective.py``         Objective, and the direction of a metric inferred from its name
``trial.py``             Trial, TrialStatus: one trial's values, metrics, score, and its JSON file
``oracle.py``            Oracle: the trials, the best ones, the search's state file (resuming)
``random_search.py``     RandomSearchOracle, RandomSearch
``grid_search.py``       GridSearchOracle, GridSearch
``hyperband.py``         HyperbandOracle, Hyperband
``bayesian.py``          BayesianOptimizationOracle, BayesianOptimization (a Gaussian process, NumPy only)
``oracles.py``           the oracles under ``keras_tuner.oracles`` (``tuners.py``: the tuners, ``keras_tuner.tuners``)
``tuner.py``             Tuner: builds, trains and saves each trial's model; summaries; best models
``hypermodel.py``        HyperModel
``errors.py``            FailedTrialError (fail without retry), FatalError and kin (stop the search)
``parallel.py``          trials in worker processes (``workers=N``), one BLAS thread each
``mpi_search.py``        trials over the ranks of ``mpiexec`` (``workers="mpi"``), rank 0 keeping the oracle
``applications.py``      HyperResNet, HyperXception: KerasTuner's ready-made image-classification hypermodels
``hparams.py``           the trial's values for TensorBoard's HParams tab, beside a TensorBoard callback's run
``chief_oracle.py``      KerasTuner's distributed mode: KERASTUNER_TUNER_ID/ORACLE_IP/ORACLE_PORT, a chief and workers
=======================  =====================================================================================

>>> import chainrule.keras_tuner as kt
>>> kt.HyperParameters().Float("lr", 1e-4, 1e-1, sampling="log")
0.0001
"""
from chainrule.keras_tuner import errors
from chainrule.keras_tuner.bayesian import BayesianOptimization, BayesianOptimizationOracle
from chainrule.keras_tuner.grid_search import GridSearch, GridSearchOracle
from chainrule.keras_tuner.hyperband import Hyperband, HyperbandOracle
from chainrule.keras_tuner.hypermodel import HyperModel
from chainrule.keras_tuner.hyperparameters import HyperParameters
from chainrule.keras_tuner.objective import Objective
from chainrule.keras_tuner.oracle import Oracle
from chainrule.keras_tuner.random_search import RandomSearch, RandomSearchOracle
from chainrule.keras_tuner.trial import Trial, TrialStatus
from chainrule.keras_tuner.tuner import Tuner
from chainrule.keras_tuner import applications, oracles, tuners

__all__ = ["BayesianOptimization", "BayesianOptimizationOracle", "GridSearch", "GridSearchOracle", "HyperModel",
           "HyperParameters", "Hyperband", "HyperbandOracle", "Objective", "Oracle", "RandomSearch",
           "RandomSearchOracle", "Trial", "TrialStatus", "Tuner", "applications", "errors", "oracles", "tuners"]
