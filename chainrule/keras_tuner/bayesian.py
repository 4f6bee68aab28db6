"""Bayesian optimization: KerasTuner's ``BayesianOptimization``, in NumPy.

After ``num_initial_points`` random trials (3 per hyperparameter, at least 3), each trial's values are mapped to
[0, 1]^d (``value_to_prob``) and a Gaussian process is fitted to the scores: Matérn kernel (nu=2.5), noise
``alpha`` on the diagonal, the scores standardised, the kernel's length scale chosen by the marginal likelihood, as
scikit-learn's ``GaussianProcessRegressor(kernel=Matern(nu=2.5), normalize_y=True)`` that KerasTuner uses. The next
trial is the point that minimises the lower confidence bound ``mean - beta * std`` of the (minimised) score, from
50 random starts; running trials count as scored at their predicted ``mean + std`` so that parallel workers spread
out. KerasTuner's optimisers are SciPy's L-BFGS-B; here the length scale is found on a log grid refined by golden
section, and each start is refined by a pattern search with halving steps (derivative-free, inside the box).

>>> from chainrule.keras_tuner import HyperParameters, Objective
>>> hp = HyperParameters(); _ = hp.Float("x", -1.0, 1.0)
>>> oracle = BayesianOptimizationOracle(Objective("score", "min"), max_trials=8, hyperparameters=hp, seed=0)
>>> for _ in range(8):
...     trial = oracle.create_trial("tuner0")
...     oracle.update_trial(trial.trial_id, {"score": (trial.hyperparameters.get("x") - 0.3) ** 2})
...     oracle.end_trial(trial)
>>> abs(oracle.get_best_trials()[0].hyperparameters.get("x") - 0.3) < 0.05
True
"""
from __future__ import annotations

import math

import numpy as np

from chainrule.keras_tuner.hyperparameters import Fixed, HyperParameters
from chainrule.keras_tuner.oracle import Oracle
from chainrule.keras_tuner.trial import TrialStatus
from chainrule.keras_tuner.tuner import Tuner

_LENGTH_SCALE_BOUNDS = (1e-5, 1e5)  # scikit-learn's default bounds for the Matérn kernel's length scale
_NUM_RESTARTS = 50  # KerasTuner's starts for the acquisition's minimisation


def matern52(a: np.ndarray, b: np.ndarray, length_scale: float) -> np.ndarray:
    """The Matérn kernel with nu=2.5 between the rows of ``a`` and ``b``: (1 + √5 r + 5 r²/3) exp(-√5 r), r the
    distance over ``length_scale``.

    >>> float(matern52(np.zeros((1, 2)), np.zeros((1, 2)), 1.0)[0, 0])
    1.0
    """
    sq = np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2.0 * a @ b.T
    r = math.sqrt(5.0) * np.sqrt(np.maximum(sq, 0.0)) / length_scale
    return (1.0 + r + r * r / 3.0) * np.exp(-r)


class GaussianProcess:
    """Gaussian-process regression with a Matérn (nu=2.5) kernel, ``alpha`` added to the kernel's diagonal,
    standardised targets, and the length scale that maximises the log marginal likelihood.

    >>> gp = GaussianProcess(alpha=1e-6).fit(np.array([[0.0], [0.5], [1.0]]), np.array([1.0, 0.0, 1.0]))
    >>> mean, std = gp.predict(np.array([[0.5]]))
    >>> round(float(mean[0]), 3), bool(std[0] < 0.01)
    (0.0, True)
    """

    def __init__(self, alpha: float = 1e-4):
        self.alpha = alpha
        self.x = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> GaussianProcess:
        self.x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        self.y_mean, self.y_std = float(y.mean()), float(y.std())
        if self.y_std == 0.0:  # scikit-learn's rule for a constant target
            self.y_std = 1.0
        self._y = (y - self.y_mean) / self.y_std
        self.length_scale = self._best_length_scale()
        self._factor, self._weights, _ = self._solve(self.length_scale)
        return self

    def _solve(self, length_scale: float):
        """Cholesky factor of K + alpha I, K⁻¹y, and the log marginal likelihood (−inf where K is not positive)."""
        k = matern52(self.x, self.x, length_scale) + self.alpha * np.eye(len(self.x))
        try:
            factor = np.linalg.cholesky(k)
        except np.linalg.LinAlgError:
            return None, None, -math.inf
        weights = np.linalg.solve(factor.T, np.linalg.solve(factor, self._y))
        likelihood = (-0.5 * float(self._y @ weights) - float(np.sum(np.log(np.diag(factor))))
                      - 0.5 * len(self.x) * math.log(2 * math.pi))
        return factor, weights, likelihood

    def _best_length_scale(self) -> float:
        """The log marginal likelihood's maximum over the length scale: a grid in log space, then golden section
        between the best point's neighbours."""
        low, high = (math.log(b) for b in _LENGTH_SCALE_BOUNDS)
        grid = np.linspace(low, high, 101)
        scores = [self._solve(math.exp(t))[2] for t in grid]
        best = int(np.argmax(scores))
        a, b = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
        ratio = (math.sqrt(5.0) - 1) / 2
        for _ in range(30):
            c, d = b - ratio * (b - a), a + ratio * (b - a)
            if self._solve(math.exp(c))[2] >= self._solve(math.exp(d))[2]:
                b = d
            else:
                a = c
        refined = (a + b) / 2
        return math.exp(refined if self._solve(math.exp(refined))[2] >= scores[best] else grid[best])

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The posterior mean and standard deviation at the rows of ``x`` (the prior's, 0 and 1, before fit)."""
        x = np.asarray(x, np.float64)
        if self.x is None:
            return np.zeros(len(x)), np.ones(len(x))
        cross = matern52(x, self.x, self.length_scale)
        mean = cross @ self._weights
        v = np.linalg.solve(self._factor, cross.T)
        variance = np.maximum(1.0 - np.sum(v * v, 0), 0.0)
        return mean * self.y_std + self.y_mean, np.sqrt(variance) * self.y_std


class BayesianOptimizationOracle(Oracle):
    """Proposes values with a Gaussian process over the trials so far; see the module's docstring. KerasTuner's
    arguments and defaults: ``num_initial_points`` (None: 3 per hyperparameter, at least 3), ``alpha=1e-4`` (the
    scores' expected noise), ``beta=2.6`` (the larger, the more it explores)."""

    def __init__(self, objective=None, max_trials: int | None = 10, num_initial_points: int | None = None,
                 alpha: float = 1e-4, beta: float = 2.6, seed: int | None = None, hyperparameters=None,
                 allow_new_entries: bool = True, tune_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3):
        super().__init__(objective, max_trials, hyperparameters, allow_new_entries, tune_new_entries, seed,
                         max_retries_per_trial, max_consecutive_failed_trials)
        if num_initial_points is not None and (not isinstance(num_initial_points, int) or num_initial_points < 1):
            raise ValueError(f"num_initial_points must be a whole number of at least 1 (or None), got "
                             f"{num_initial_points!r}")
        self.num_initial_points, self.alpha, self.beta = num_initial_points, alpha, beta
        self._random_state = np.random.RandomState(self.seed)
        self.gpr = GaussianProcess(alpha)

    def populate_space(self, trial_id: str) -> dict:
        completed = [t for t in self.trials.values() if t.status == TrialStatus.COMPLETED]
        num_initial_points = self.num_initial_points or max(3 * len(self.hyperparameters.space), 3)
        if len(completed) < num_initial_points or not self._nonfixed_space():
            values = self._random_values()
            return {"status": TrialStatus.RUNNING if values is not None else TrialStatus.STOPPED, "values": values}
        x, y = self._vectorize_trials()
        self.gpr.fit(np.nan_to_num(x, posinf=0, neginf=0), np.nan_to_num(y, posinf=0, neginf=0))
        return {"status": TrialStatus.RUNNING, "values": self._vector_to_values(self._minimise_acquisition())}

    def _acquisition(self, x: np.ndarray) -> np.ndarray:
        mean, std = self.gpr.predict(x)
        return mean - self.beta * std

    def _minimise_acquisition(self) -> np.ndarray:
        """The lowest point of the lower confidence bound found from 50 random starts in [0, 1]^d, each moved by
        a pattern search (a step along each axis, both ways, while one improves; then the step halves)."""
        dims = len(self._nonfixed_space())
        points = self._random_state.uniform(0.0, 1.0, size=(_NUM_RESTARTS, dims))
        values = self._acquisition(points)
        moves = np.concatenate([np.eye(dims), -np.eye(dims)])
        step = 0.25
        while step > 1e-4:
            for _ in range(20):
                candidates = np.clip(points[:, None, :] + step * moves[None], 0.0, 1.0)
                scores = self._acquisition(candidates.reshape(-1, dims)).reshape(len(points), len(moves))
                best = np.argmin(scores, 1)
                found = scores[np.arange(len(points)), best]
                better = found < values
                if not better.any():
                    break
                points[better] = candidates[better, best[better]]
                values[better] = found[better]
            step /= 2
        return points[int(np.argmin(values))]

    def _nonfixed_space(self) -> list:
        return [hp for hp in self.hyperparameters.space if not isinstance(hp, Fixed)]

    def _vectorize_trials(self) -> tuple[np.ndarray, np.ndarray]:
        """Each trial's values in [0, 1]^d (a parameter it did not use at its default) and its score, turned so
        that lower is better; running trials at their predicted mean + std; failed ones left out."""
        running = {t.trial_id for t in self.ongoing_trials.values()}
        space = self._nonfixed_space()
        x, y = [], []
        for trial in self.trials.values():
            hps = trial.hyperparameters
            vector = [hp.value_to_prob(hps.values[hp.name] if hps.is_active(hp) and hp.name in hps.values
                                       else hp.default) for hp in space]
            if trial.trial_id in running:
                mean, std = self.gpr.predict(np.array([vector]))
                score = float(mean[0] + std[0])
            elif trial.status == TrialStatus.COMPLETED:
                score = trial.score if self.objective.direction == "min" else -trial.score
            else:
                continue
            x.append(vector)
            y.append(score)
        return np.array(x, np.float64).reshape(len(x), len(space)), np.array(y, np.float64)

    def _vector_to_values(self, vector: np.ndarray) -> dict:
        """The values at ``vector`` (Fixed ones at their value), leaving out parameters whose condition fails."""
        hps = HyperParameters()
        coordinates = iter(vector)
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            value = hp.value if isinstance(hp, Fixed) else hp.prob_to_value(float(next(coordinates)))
            if hps.is_active(hp):
                hps.values[hp.name] = value
        return hps.values

    def get_state(self) -> dict:
        return {**super().get_state(), "num_initial_points": self.num_initial_points, "alpha": self.alpha,
                "beta": self.beta}

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self.num_initial_points, self.alpha, self.beta = state["num_initial_points"], state["alpha"], state["beta"]
        self.gpr = GaussianProcess(self.alpha)


class BayesianOptimization(Tuner):
    """``BayesianOptimization(hypermodel, objective, max_trials=10, num_initial_points=None, alpha=1e-4, beta=2.6,
    seed=None, ..., directory=, project_name=, overwrite=, executions_per_trial=, workers=)``: see
    :class:`BayesianOptimizationOracle` and :class:`~chainrule.keras_tuner.tuner.Tuner`."""

    def __init__(self, hypermodel=None, objective=None, max_trials: int | None = 10,
                 num_initial_points: int | None = None, alpha: float = 1e-4, beta: float = 2.6,
                 seed: int | None = None, hyperparameters=None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, max_retries_per_trial: int = 0,
                 max_consecutive_failed_trials: int = 3, **kwargs):
        self.seed = seed
        oracle = BayesianOptimizationOracle(objective, max_trials, num_initial_points, alpha, beta, seed,
                                            hyperparameters, allow_new_entries, tune_new_entries,
                                            max_retries_per_trial, max_consecutive_failed_trials)
        super().__init__(oracle, hypermodel, **kwargs)
