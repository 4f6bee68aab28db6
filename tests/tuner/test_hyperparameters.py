"""keras_tuner's HyperParameters: kinds, sampling scales, grids of values, conditions, configs."""
import math
import random

import pytest

from chainrule.keras_tuner import HyperParameters
from chainrule.keras_tuner.hyperparameters import Boolean, Choice, Fixed, Float, Int


def test_first_call_registers_and_returns_the_default_then_the_trial_value():
    hp = HyperParameters()
    assert hp.Float("lr", 1e-4, 1e-1, sampling="log") == 1e-4
    assert hp.Int("units", 8, 64, step=8, default=32) == 32
    assert hp.Choice("act", ["relu", "tanh"]) == "relu"
    assert hp.Boolean("dropout") is False
    assert hp.Fixed("batch", 32) == 32
    assert hp.values == {"lr": 1e-4, "units": 32, "act": "relu", "dropout": False, "batch": 32}
    hp.values["lr"] = 0.01
    assert hp.Float("lr", 1e-4, 1e-1, sampling="log") == 0.01  # declared again: the value, not a new entry
    assert len(hp.space) == 5
    assert hp.get("lr") == hp["lr"] == 0.01 and "lr" in hp and "nope" not in hp
    with pytest.raises(KeyError, match="nope does not exist"):
        hp.get("nope")


def test_log_sampling_spreads_the_exponent_uniformly():
    lr = Float("lr", 1e-5, 1e-1, sampling="log")
    draws = [lr.random_sample(seed) for seed in range(2000)]
    assert all(1e-5 <= d <= 1e-1 for d in draws)
    decades = [sum(10 ** (k - 5) <= d < 10 ** (k - 4) for d in draws) for k in range(4)]
    assert all(400 < n < 600 for n in decades), decades  # 500 per decade expected
    linear = [Float("x", 1e-5, 1e-1).random_sample(seed) for seed in range(2000)]
    assert sum(d < 1e-3 for d in linear) < 60  # linear sampling almost never reaches the lowest decades


def test_reverse_log_is_dense_near_the_maximum():
    keep = Float("keep", 0.001, 1.0, sampling="reverse_log")  # the mirror image of log sampling
    draws = [keep.random_sample(seed) for seed in range(1000)]
    assert all(0.001 <= d <= 1.0 for d in draws)
    assert 300 < sum(d > 0.99 for d in draws) < 400  # 35% expected (1% for linear sampling)


def test_grid_values_as_keras_tuner_lists_them():
    assert Int("n", 1, 10, step=3).values == (1, 4, 7, 10)
    assert Int("n", 1, 16, step=2, sampling="log").values == (1, 2, 4, 8, 16)
    assert Float("x", 0.0, 1.0, step=0.25).values == (0.0, 0.25, 0.5, 0.75, 1.0)
    ten = Float("lr", 1e-4, 1e0, sampling="log").values  # no step: the centres of 10 equal slices of the scale
    assert len(ten) == 10
    assert [round(math.log10(v), 6) for v in ten] == [round(-4 + 0.4 * (i + 0.5), 6) for i in range(10)]
    assert Choice("c", [3, 1, 2]).values == [3, 1, 2]
    assert Boolean("b").values == (True, False) and Fixed("f", "x").values == ("x",)


def test_sampled_values_stay_on_the_step_grid_and_in_range():
    rng = random.Random(0)
    units = Int("units", 16, 128, step=16)
    assert {units.prob_to_value(rng.random()) for _ in range(500)} == set(range(16, 129, 16))
    layers = Int("layers", 1, 4, sampling="log")
    assert {layers.prob_to_value(rng.random()) for _ in range(500)} == {1, 2, 3, 4}


@pytest.mark.parametrize("make, message", [
    (lambda: Float("x", 1.0, 0.0), "min_value 1.0 is greater than the max_value 0.0"),
    (lambda: Float("x", 0.0, 1.0, sampling="log"), "does not support negative values"),
    (lambda: Float("x", 0.1, 1.0, sampling="cubic"), "sampling must be one of"),
    (lambda: Int("n", 1, 8, step=1, sampling="log"), "expected step > 1"),
    (lambda: Int("n", 1.5, 8), "min_value must be an int"),
    (lambda: Choice("c", []), "`values` must be provided"),
    (lambda: Choice("c", [1, 2], default=3), "The default value should be one of the choices"),
    (lambda: Boolean("b", default=1.5), "must be a Python boolean"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_choice_of_mixed_types_is_refused():
    with pytest.raises(TypeError, match="only one type"):
        Choice("c", [1, "a"])


def test_conditional_scope_activates_children_by_the_parent_value():
    hp = HyperParameters()
    model = hp.Choice("model", ["mlp", "cnn"])
    with hp.conditional_scope("model", "cnn"):
        filters = hp.Int("filters", 8, 32, step=8)
    with hp.conditional_scope("model", ["mlp"]):
        units = hp.Int("units", 16, 64, step=16)
    assert model == "mlp" and filters is None and units == 16
    assert "filters" not in hp.values and hp.values["units"] == 16
    with pytest.raises(ValueError, match="filters is currently inactive"):
        hp.get("filters")
    hp.values["model"] = "cnn"
    hp.ensure_active_values()
    assert hp.values == {"model": "cnn", "filters": 8}
    with pytest.raises(ValueError, match="not defined"), hp.conditional_scope("missing", 1):
        pass


def test_name_scope_prefixes_names():
    hp = HyperParameters()
    with hp.name_scope("block1"):
        hp.Int("units", 1, 4)
    assert hp.values == {"block1/units": 1}


def test_config_round_trip_and_copy_are_independent():
    hp = HyperParameters()
    hp.Float("lr", 1e-4, 1e-1, sampling="log", default=1e-3)
    hp.Choice("act", ["relu", "tanh"])
    with hp.conditional_scope("act", "tanh"):
        hp.Boolean("scale")
    again = HyperParameters.from_config(hp.get_config())
    assert again.get_config() == hp.get_config()
    assert [type(h).__name__ for h in again.space] == ["Float", "Choice", "Boolean"]
    copy = hp.copy()
    copy.values["lr"] = 0.05
    assert hp.values["lr"] == 1e-3
