"""RandomSearch, GridSearch and Hyperband on small synthetic tasks: what they try, what they find, their folder."""
import json

import numpy as np
import pytest

import chainrule.keras_tuner as kt
from chainrule import keras


def blobs(n=256, classes=4, dims=8, seed=0):
    """Gaussian clusters, one per class, well apart: a learning rate that learns reaches high accuracy."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(classes, dims))
    y = rng.integers(0, classes, size=n)
    x = (centres[y] + rng.normal(0, 1, size=(n, dims))).astype("float32")
    return x, y


def mlp(hp, learning_rate=None):
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(4, activation="softmax")])
    lr = learning_rate or hp.Float("learning_rate", 1e-5, 1.0, sampling="log")
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Counting:
    """A build function that counts its calls (the tuner builds once up front to learn the space)."""

    def __init__(self, build=mlp, fail_on=None):
        self.calls, self.build, self.fail_on = 0, build, fail_on

    def __call__(self, hp):
        self.calls += 1
        if self.fail_on is not None and self.calls == self.fail_on:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C during this trial
        return self.build(hp)


def test_random_search_finds_a_learning_rate_that_beats_the_worst_trial(tmp_path):
    x, y = blobs()
    tuner = kt.RandomSearch(mlp, objective="val_accuracy", max_trials=6, seed=1, directory=tmp_path,
                            project_name="lr", verbose=0)
    tuner.search(x, y, epochs=3, batch_size=32, validation_split=0.25, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 6 and all(t.status == "COMPLETED" for t in trials)
    scores = {t.hyperparameters["learning_rate"]: t.score for t in trials}
    best_lr = tuner.get_best_hyperparameters()[0]["learning_rate"]
    assert scores[best_lr] == max(scores.values())
    assert scores[best_lr] - min(scores.values()) > 0.3, scores
    assert best_lr > min(scores)  # the smallest rates barely move the weights in 3 epochs
    # the best model is saved, with its best epoch's weights: it scores what the trial reported
    best = tuner.get_best_models(1)[0]
    held_out = slice(192, None)
    accuracy = np.mean(np.argmax(np.asarray(best.predict(x[held_out], verbose=0)), axis=1) == y[held_out])
    assert accuracy == pytest.approx(scores[best_lr], abs=1e-6)
    trial_file = json.loads((tmp_path / "lr" / f"trial_{tuner.oracle.get_best_trials()[0].trial_id}" /
                             "trial.json").read_text())
    assert trial_file["status"] == "COMPLETED" and trial_file["score"] == scores[best_lr]


def test_an_interrupted_search_resumes_instead_of_restarting(tmp_path):
    x, y = blobs(64)
    build = Counting(fail_on=4)  # build 1 learns the space; trials 00 and 01 finish; trial 02 is interrupted
    tuner = kt.RandomSearch(build, objective="val_loss", max_trials=4, seed=3, directory=tmp_path,
                            project_name="p", verbose=0)
    with pytest.raises(KeyboardInterrupt):
        tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    statuses = {t: tr.status for t, tr in tuner.oracle.trials.items()}
    assert statuses == {"0": "COMPLETED", "1": "COMPLETED", "2": "RUNNING"}
    interrupted = tuner.oracle.trials["2"].hyperparameters.values
    done = {t: (tr.hyperparameters.values, tr.score) for t, tr in tuner.oracle.trials.items() if t != "2"}

    again = Counting()
    resumed = kt.RandomSearch(again, objective="val_loss", max_trials=4, seed=3, directory=tmp_path,
                              project_name="p", verbose=0)
    resumed.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert again.calls == 2  # trial 2 again, then trial 3: the finished trials were not run again
    trials = resumed.oracle.trials
    assert sorted(trials) == ["0", "1", "2", "3"] and all(t.status == "COMPLETED" for t in trials.values())
    assert {t: (trials[t].hyperparameters.values, trials[t].score) for t in done} == done
    assert trials["2"].hyperparameters.values == interrupted
    assert len({json.dumps(t.hyperparameters.values) for t in trials.values()}) == 4

    finished = Counting()
    kt.RandomSearch(finished, objective="val_loss", max_trials=4, seed=3, directory=tmp_path, project_name="p",
                    verbose=0).search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert finished.calls == 0  # nothing left to do
    fresh = Counting()
    kt.RandomSearch(fresh, objective="val_loss", max_trials=1, seed=3, directory=tmp_path, project_name="p",
                    overwrite=True, verbose=0).search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert fresh.calls == 2 and not (tmp_path / "p" / "trial_2").exists()


def test_resuming_with_another_objective_is_refused(tmp_path):
    kt.RandomSearch(mlp, objective="val_loss", max_trials=1, directory=tmp_path, project_name="p", verbose=0)
    with pytest.raises(ValueError, match="ranks trials by"):
        kt.RandomSearch(mlp, objective="val_accuracy", directory=tmp_path, project_name="p", verbose=0)


def test_grid_search_enumerates_every_combination_once(tmp_path):
    x, y = blobs(64)

    def build(hp):
        units = hp.Choice("units", [4, 8, 16])
        lr = hp.Float("lr", 0.01, 0.1, step=0.045)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(units, activation="relu"),
                                  keras.layers.Dense(4, activation="softmax")])
        model.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy")
        return model

    tuner = kt.GridSearch(build, objective="val_loss", directory=tmp_path, verbose=0)
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    tried = [(t.hyperparameters["units"], round(t.hyperparameters["lr"], 6)) for t in tuner.oracle.trials.values()]
    assert tried == [(u, lr) for u in (4, 8, 16) for lr in (0.01, 0.055, 0.1)]
    assert [t.status for t in tuner.oracle.trials.values()] == ["COMPLETED"] * 9


def test_grid_search_skips_inactive_parameters():
    hp = kt.HyperParameters()
    hp.Choice("kind", ["a", "b"])
    with hp.conditional_scope("kind", "b"):
        hp.Choice("width", [1, 2, 3])
    oracle = kt.GridSearchOracle("loss", hyperparameters=hp)
    tried = []
    while (trial := oracle.create_trial("t")).status == "RUNNING":
        tried.append(trial.hyperparameters.values)
        oracle.update_trial(trial.trial_id, {"loss": 1.0})
        oracle.end_trial(trial)
    assert tried == [{"kind": "a"}, {"kind": "b", "width": 1}, {"kind": "b", "width": 2}, {"kind": "b", "width": 3}]


def hyperband_plan(oracle):
    """Drive a Hyperband oracle with made-up scores: (bracket, round, epochs, initial epoch, continues) per trial."""
    plan = []
    while (trial := oracle.create_trial("t")).status == "RUNNING":
        v = trial.hyperparameters.values
        plan.append((v["tuner/bracket"], v["tuner/round"], v["tuner/epochs"], v["tuner/initial_epoch"],
                     "tuner/trial_id" in v))
        oracle.update_trial(trial.trial_id, {"val_loss": (len(plan) * 37 % 11) / 11}, step=v["tuner/epochs"])
        oracle.end_trial(trial)
    return plan


def test_hyperband_runs_keras_tuners_brackets():
    # max_epochs=9, factor=3 (keras_tuner 1.4.8 gives the same 23 trials): bracket 2 starts 9 trials for 1 epoch,
    # keeps 3 to 3 epochs and 1 to 9; bracket 1 starts 5 for 3 epochs and keeps 2 to 9; bracket 0 trains 3 for 9
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    plan = hyperband_plan(kt.HyperbandOracle("val_loss", max_epochs=9, factor=3, hyperparameters=hp, seed=0))
    assert plan == ([(2, 0, 1, 0, False)] * 9 + [(2, 1, 3, 1, True)] * 3 + [(2, 2, 9, 3, True)] +
                    [(1, 0, 3, 0, False)] * 5 + [(1, 1, 9, 3, True)] * 2 + [(0, 0, 9, 0, False)] * 3)
    twice = hyperband_plan(kt.HyperbandOracle("val_loss", max_epochs=3, factor=3, hyperband_iterations=2,
                                              hyperparameters=hp, seed=0))
    assert twice == ([(1, 0, 1, 0, False)] * 3 + [(1, 1, 3, 1, True)] + [(0, 0, 3, 0, False)] * 2) * 2


def test_hyperband_promotes_the_best_of_each_round_and_continues_its_model(tmp_path):
    x, y = blobs(96)
    epochs_seen = []

    class Recorder(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            epochs_seen.append(epoch)

    tuner = kt.Hyperband(mlp, objective="val_accuracy", max_epochs=3, factor=3, seed=2, directory=tmp_path,
                         verbose=0)
    tuner.search(x, y, epochs=100, validation_split=0.25, callbacks=[Recorder()], verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 6 and epochs_seen == [0, 0, 0, 1, 2, 0, 1, 2, 0, 1, 2]
    first_round = trials[:3]
    promoted = trials[3].hyperparameters.values
    assert promoted["tuner/trial_id"] == max(first_round, key=lambda t: t.score).trial_id
    parent = tuner.oracle.trials[promoted["tuner/trial_id"]]
    assert promoted["learning_rate"] == parent.hyperparameters["learning_rate"]
    assert [step for step, _ in trials[3].metrics["val_accuracy"]] == [1, 2]


def test_executions_are_averaged_and_fit_arguments_pass_through(tmp_path):
    x, y = blobs(64)
    vx, vy = blobs(32, seed=1)
    tuner = kt.RandomSearch(mlp, objective=kt.Objective("val_accuracy", "max"), max_trials=1, seed=0,
                            executions_per_trial=2, directory=tmp_path, verbose=0)
    tuner.search(x, y, epochs=2, validation_data=(vx, vy), verbose=0)
    trial = tuner.oracle.get_best_trials()[0]
    assert [step for step, _ in trial.metrics["val_accuracy"]] == [0, 1]
    assert set(trial.metrics) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_a_missing_objective_fails_the_trials_and_stops_the_search(tmp_path):
    x, y = blobs(32)
    tuner = kt.RandomSearch(mlp, objective="val_accuracy", max_trials=5, directory=tmp_path, verbose=0)
    with pytest.raises(RuntimeError, match="consecutive failures"):
        tuner.search(x, y, epochs=1, verbose=0)  # no validation data: no val_accuracy
    assert all(t.status == "FAILED" and "val_accuracy" in t.message for t in tuner.oracle.trials.values())


def test_objectives_and_summaries(tmp_path, capsys):
    assert kt.RandomSearch(mlp, objective="val_loss", directory=tmp_path, project_name="a",
                           verbose=0).oracle.objective == kt.Objective("val_loss", "min")
    with pytest.raises(ValueError, match="Could not infer optimization direction"):
        kt.RandomSearch(mlp, objective="val_banana", directory=tmp_path, project_name="b", verbose=0)
    x, y = blobs(32)
    tuner = kt.RandomSearch(mlp, objective="val_accuracy", max_trials=2, seed=5, directory=tmp_path,
                            project_name="c", verbose=0)
    tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    capsys.readouterr()
    tuner.search_space_summary()
    tuner.results_summary(1)
    out = capsys.readouterr().out
    assert "Default search space size: 1" in out and "learning_rate (Float)" in out and "'sampling': 'log'" in out
    best = tuner.oracle.get_best_trials()[0]
    assert "Showing 1 best trials" in out and 'Objective(name="val_accuracy", direction="max")' in out
    assert f"Trial {best.trial_id} summary" in out and f"Score: {best.score}" in out


def test_bad_tuner_arguments():
    with pytest.raises(ValueError, match="factor needs to be a int larger than 1"):
        kt.HyperbandOracle(factor=1)
    with pytest.raises(ValueError, match="executions_per_trial"):
        kt.RandomSearch(mlp, executions_per_trial=0)
    with pytest.raises(ValueError, match="`hypermodel` argument"):
        kt.RandomSearch(42)


def test_workers_run_trials_in_processes_with_one_blas_thread_and_find_what_one_process_finds(tmp_path):
    import os

    from chainrule.keras_tuner.parallel import blas_threads

    x, y = blobs(128)
    seen = tmp_path / "seen.txt"

    def build(hp):
        with open(seen, "a") as f:
            f.write(f"{os.getpid()} {blas_threads()}\n")
        return mlp(hp)

    kwargs = dict(objective="val_loss", max_trials=4, seed=7, verbose=0)
    alone = kt.RandomSearch(build, directory=tmp_path, project_name="alone", **kwargs)
    alone.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    seen.write_text("")
    shared = kt.RandomSearch(build, directory=tmp_path, project_name="shared", workers=2, **kwargs)
    shared.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    builds = [line.split() for line in seen.read_text().splitlines()]
    assert builds[0][0] == str(os.getpid())  # this process builds once, to learn the space
    workers = dict(builds[1:])
    assert len(builds) == 5 and str(os.getpid()) not in workers and 1 <= len(workers) <= 2
    assert set(workers.values()) <= {"1", "None"}  # one BLAS thread each
    one, two = alone.oracle.trials, shared.oracle.trials
    assert sorted(two) == sorted(one) and all(t.status == "COMPLETED" for t in two.values())
    for trial_id in one:
        assert two[trial_id].hyperparameters.values == one[trial_id].hyperparameters.values
        assert two[trial_id].score == pytest.approx(one[trial_id].score, rel=1e-4)
    assert (tmp_path / "shared" / f"trial_{shared.oracle.get_best_trials()[0].trial_id}" / "model.keras").exists()
    assert len(shared.get_best_models(2)) == 2


def test_both_import_spellings_give_the_package():
    import chainrule
    from chainrule import keras_tuner

    assert keras_tuner is kt and chainrule.keras_tuner is kt
    assert {"HyperParameters", "RandomSearch", "GridSearch", "Hyperband", "Objective", "HyperModel"} <= set(dir(kt))
