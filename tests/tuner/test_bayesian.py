"""BayesianOptimization (chainrule/keras_tuner/bayesian.py): the Gaussian process, the search it drives, its
hyperparameter coordinates (value_to_prob) and its place in a tuner."""
import math

import numpy as np
import pytest

from chainrule import keras
from chainrule import keras_tuner as kt
from chainrule.keras_tuner.bayesian import GaussianProcess, matern52
from chainrule.keras_tuner.hyperparameters import Boolean, Choice, Fixed, Float, Int


def _log_likelihood(x, y, length_scale, alpha):
    """The standardised targets' log marginal likelihood, written out with an inverse and a determinant."""
    y = (y - y.mean()) / y.std()
    k = matern52(x, x, length_scale) + alpha * np.eye(len(x))
    return -0.5 * y @ np.linalg.inv(k) @ y - 0.5 * np.linalg.slogdet(k)[1] - 0.5 * len(x) * math.log(2 * math.pi)


def test_matern_kernel_matches_its_formula():
    a, b = np.random.rand(4, 3), np.random.rand(5, 3)
    r = np.linalg.norm(a[:, None] - b[None], axis=-1) / 0.7
    expected = (1 + math.sqrt(5) * r + 5 * r ** 2 / 3) * np.exp(-math.sqrt(5) * r)
    np.testing.assert_allclose(matern52(a, b, 0.7), expected, rtol=1e-12, atol=1e-12)


def test_gaussian_process_fits_the_likeliest_length_scale_and_interpolates():
    rng = np.random.default_rng(0)
    x = rng.random((12, 2))
    y = np.sin(4 * x[:, 0]) + x[:, 1] ** 2
    gp = GaussianProcess(alpha=1e-6).fit(x, y)
    grid = np.exp(np.linspace(math.log(1e-3), math.log(1e3), 2001))
    best = grid[np.argmax([_log_likelihood(x, y, s, 1e-6) for s in grid])]
    assert abs(math.log(gp.length_scale) - math.log(best)) < 0.01
    mean, std = gp.predict(x)
    np.testing.assert_allclose(mean, y, atol=1e-3)  # nearly no noise: it passes through the points
    assert np.all(std < 1e-2)
    far_mean, far_std = gp.predict(np.array([[5.0, 5.0]]))
    assert far_std[0] > 0.9 * y.std() and abs(far_mean[0] - y.mean()) < 0.2 * y.std()  # back to the prior


def test_gaussian_process_before_fit_and_with_a_constant_target():
    mean, std = GaussianProcess().predict(np.zeros((2, 3)))
    assert mean.tolist() == [0, 0] and std.tolist() == [1, 1]
    mean, _ = GaussianProcess().fit(np.random.rand(4, 1), np.full(4, 2.5)).predict(np.array([[0.3]]))
    assert abs(mean[0] - 2.5) < 1e-9


@pytest.mark.parametrize("hp", [Int("a", 1, 10), Int("b", 32, 512, step=32), Int("c", 1, 1000, sampling="log"),
                                Float("d", 1e-4, 1e-1, sampling="log"), Float("e", 0.0, 1.0, step=0.1),
                                Float("f", 1.0, 100.0, sampling="reverse_log"), Choice("g", ["x", "y", "z"]),
                                Boolean("h"), Fixed("i", 3)])
def test_value_to_prob_inverts_prob_to_value(hp):
    for prob in np.random.default_rng(1).random(200):
        value = hp.prob_to_value(float(prob))
        back = hp.value_to_prob(value)
        assert 0.0 <= back <= 1.0 and hp.prob_to_value(back) == pytest.approx(value)
    assert Choice("g", ["x", "y", "z"]).value_to_prob("y") == 0.5  # the centre of its slice, as KerasTuner
    assert Boolean("h").value_to_prob(True) == 0.75


def _run(oracle, score):
    while True:
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            return
        oracle.update_trial(trial.trial_id, {oracle.objective.name: score(trial.hyperparameters.values)})
        oracle.end_trial(trial)


def test_bayesian_search_beats_random_search_on_a_smooth_function():
    def score(v):
        return (v["x"] - 0.37) ** 2 + (v["y"] + 0.52) ** 2

    found = {"bayes": [], "random": []}
    for seed in range(4):
        for kind, make in (("bayes", kt.BayesianOptimizationOracle), ("random", kt.RandomSearchOracle)):
            hp = kt.HyperParameters()
            hp.Float("x", -1.0, 1.0)
            hp.Float("y", -1.0, 1.0)
            oracle = make(kt.Objective("score", "min"), max_trials=20, hyperparameters=hp, seed=seed)
            _run(oracle, score)
            assert len(oracle.trials) == 20
            found[kind].append(oracle.get_best_trials()[0].score)
    assert max(found["bayes"]) < 1e-3 and np.median(found["bayes"]) < np.median(found["random"]) / 10


def test_initial_points_then_the_model_and_maximised_objectives():
    hp = kt.HyperParameters()
    hp.Int("units", 8, 256, step=8)
    hp.Choice("act", ["relu", "tanh"])
    hp.Fixed("lr", 0.01)
    oracle = kt.BayesianOptimizationOracle(kt.Objective("acc", "max"), max_trials=12, hyperparameters=hp, seed=3)
    assert (oracle.alpha, oracle.beta, oracle.num_initial_points) == (1e-4, 2.6, None)  # KerasTuner's defaults
    _run(oracle, lambda v: -abs(v["units"] - 200) / 100 + (v["act"] == "tanh"))
    best = oracle.get_best_trials()[0].hyperparameters.values
    assert best["act"] == "tanh" and abs(best["units"] - 200) <= 24 and best["lr"] == 0.01
    assert oracle.gpr.x.shape == (11, 2)  # the last proposal modelled the 11 trials before it, Fixed left out


def test_conditional_values_leave_out_inactive_parameters():
    hp = kt.HyperParameters()
    kind = hp.Choice("kind", ["mlp", "cnn"])
    with hp.conditional_scope("kind", ["cnn"]):
        hp.Int("filters", 8, 64, step=8)
    with hp.conditional_scope("kind", ["mlp"]):
        hp.Int("units", 8, 64, step=8)
    assert kind == "mlp"
    oracle = kt.BayesianOptimizationOracle(kt.Objective("score", "min"), max_trials=12, hyperparameters=hp,
                                           num_initial_points=4, seed=0)
    _run(oracle, lambda v: v.get("filters", 100) / 10 + v.get("units", 100) / 100)
    for trial in oracle.trials.values():
        values = trial.hyperparameters.values
        assert ("filters" in values) == (values["kind"] == "cnn") and ("units" in values) == (values["kind"] == "mlp")
    assert oracle.get_best_trials()[0].hyperparameters.values == {"kind": "cnn", "filters": 8}


def test_tuner_end_to_end_and_resume(tmp_path):
    x = np.random.rand(64, 4).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], "float32"))[:, None]

    def build(hp):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(hp.Int("units", 2, 16, step=2),
                                                                        activation="relu"), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")), loss="mse")
        return model

    tuner = kt.BayesianOptimization(build, objective="val_loss", max_trials=4, num_initial_points=2, beta=1.5,
                                    seed=1, directory=tmp_path, project_name="p", verbose=0)
    tuner.search(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert len(tuner.oracle.trials) == 4 and all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())
    assert tuner.get_best_models()[0].count_params() > 0
    again = kt.BayesianOptimization(build, objective="val_loss", max_trials=5, num_initial_points=2, beta=1.5,
                                    seed=1, directory=tmp_path, project_name="p", verbose=0)
    assert (again.oracle.num_initial_points, again.oracle.beta, len(again.oracle.trials)) == (2, 1.5, 4)
    again.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert len(again.oracle.trials) == 5


def test_keras_tuner_names():
    assert kt.oracles.BayesianOptimization is kt.BayesianOptimizationOracle
    assert kt.tuners.BayesianOptimization is kt.BayesianOptimization
    with pytest.raises(ValueError, match="num_initial_points"):
        kt.BayesianOptimizationOracle(num_initial_points=0)
