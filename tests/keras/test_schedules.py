"""Learning-rate schedules: Keras's formulas, step by step, and their configs."""
import math

import pytest

from chainrule.keras import schedules
from chainrule.keras.schedules import (CosineDecay, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                 PolynomialDecay)


def test_exponential_decay():
    s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    for step in (0, 1, 5, 10, 25):
        assert s(step) == pytest.approx(0.1 * 0.5 ** (step / 10))
    stair = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [stair(k) for k in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    with pytest.raises(ValueError, match="decay_steps"):
        ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5)


def test_inverse_time_decay():
    s = InverseTimeDecay(1.0, decay_steps=2, decay_rate=0.5)
    assert [s(k) for k in (0, 2, 4)] == pytest.approx([1.0, 1 / 1.5, 1 / 2.0])
    stair = InverseTimeDecay(1.0, decay_steps=2, decay_rate=0.5, staircase=True)
    assert stair(3) == pytest.approx(1 / 1.5)


def test_piecewise_constant_boundaries_belong_to_the_left_interval():
    s = PiecewiseConstantDecay(boundaries=[100, 200], values=[1.0, 0.5, 0.1])
    assert [s(k) for k in (0, 100, 101, 200, 201, 10_000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError, match="plus 1"):
        PiecewiseConstantDecay([1, 2], [1.0, 0.5])


def test_polynomial_decay():
    s = PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.1, power=2.0)
    assert s(0) == pytest.approx(1.0)
    assert s(5) == pytest.approx(0.9 * 0.5 ** 2 + 0.1)
    assert s(10) == s(50) == pytest.approx(0.1)
    cyc = PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0, cycle=True)
    assert cyc(15) == pytest.approx(1 - 15 / 20)


def test_cosine_decay_and_warmup():
    s = CosineDecay(0.1, decay_steps=100, alpha=0.1)
    for step in (0, 30, 100, 150):
        done = min(step, 100) / 100
        assert s(step) == pytest.approx(0.1 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * done)) + 0.1))
    w = CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert [w(k) for k in (0, 2, 4)] == pytest.approx([0.0, 0.5, 1.0])
    assert w(9) == pytest.approx(0.5 * (1 + math.cos(math.pi * 5 / 10)))
    assert w(14) == w(100) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("schedule", [
    ExponentialDecay(0.1, 10, 0.9, staircase=True), InverseTimeDecay(0.1, 5, 0.5),
    PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]), PolynomialDecay(0.1, 50, power=0.5, cycle=True),
    CosineDecay(0.1, 100, alpha=0.2, warmup_target=0.5, warmup_steps=10)])
def test_config_round_trip(schedule):
    again = schedules.deserialize(schedules.serialize(schedule))
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(k) for k in range(0, 120, 7)] == [schedule(k) for k in range(0, 120, 7)]
    assert type(schedule).from_config(schedule.get_config()).get_config() == schedule.get_config()


def test_unknown_schedule_and_custom_objects():
    class Halve(schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1.0 / 2 ** step

        def get_config(self):
            return {}

    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        schedules.deserialize({"class_name": "Halve", "config": {}})
    assert schedules.deserialize({"class_name": "Halve", "config": {}}, {"Halve": Halve})(3) == 0.125


def test_schedules_are_keras_optimizers_schedules_under_both_paths():
    import chainrule.keras as keras
    from chainrule.keras.optimizers.schedules import ExponentialDecay as FromOptimizers

    assert keras.optimizers.schedules is schedules
    assert FromOptimizers is ExponentialDecay
    assert isinstance(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(0.1, 10))._learning_rate,
                      keras.optimizers.schedules.LearningRateSchedule)
