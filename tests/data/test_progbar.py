import io

import pytest

from chainrule.keras.utils import Progbar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run(stream, steps=4, **kwargs):
    bar = Progbar(steps, interval=0, stream=stream, **kwargs)
    for step in range(1, steps + 1):
        bar.update(step, values=[("loss", float(step)), ("accuracy", 0.5)])
    return stream.getvalue()


def test_a_log_gets_only_the_final_line_with_averages_and_time_per_step():
    out = run(io.StringIO())
    assert out.count("\n") == 1 and "\r" not in out
    assert out.startswith("4/4 [==============================] - ")
    assert "/step - loss: 2.5000 - accuracy: 0.5000\n" in out


def test_a_terminal_gets_one_line_rewritten_in_place():
    out = run(Terminal())
    assert out.count("\r") == 4 and out.endswith("\n") and out.count("\n") == 1
    assert "\r1/4 [======>.......................] - ETA: 0s - loss: 1.0000" in out
    assert "\r4/4 [==============================] - 0s " in out


def test_shorter_redraws_blank_out_the_previous_line():
    stream = Terminal()
    bar = Progbar(10, interval=0, stream=stream)
    bar.update(1, values=[("loss", 100000.0)])
    bar.update(2, values=[("loss", -100000.0)])  # the average drops to 0.0000: five characters shorter
    first, second = stream.getvalue().split("\r")[1:]
    assert "loss: 0.0000     " in second and len(second) == len(first)


def test_verbose_2_prints_the_final_line_without_a_bar_and_verbose_0_nothing():
    assert run(Terminal(), verbose=2).startswith("4/4 - 0s ")
    assert run(Terminal(), verbose=0) == ""


def test_averages_weight_each_value_by_its_steps_and_stateful_metrics_show_as_given():
    stream = io.StringIO()
    bar = Progbar(3, stream=stream, stateful_metrics=["accuracy"])
    bar.update(1, values=[("loss", 1.0), ("accuracy", 0.1)])
    bar.update(3, values=[("loss", 4.0), ("accuracy", 0.9)])
    assert "loss: 3.0000 - accuracy: 0.9000" in stream.getvalue()  # (1*1 + 4*2) / 3


def test_add_advances_by_n():
    stream = io.StringIO()
    bar = Progbar(6, stream=stream, unit_name="B")
    bar.add(2)
    bar.add(4)
    assert stream.getvalue().startswith("6/6 [") and "B" in stream.getvalue()


def test_unknown_target_counts_until_finalized():
    stream = Terminal()
    bar = Progbar(None, interval=0, stream=stream)
    bar.update(5)
    bar.update(9, finalize=True)
    assert "      5/Unknown" in stream.getvalue() and stream.getvalue().endswith("\n")


def test_interval_limits_redraws_on_a_terminal():
    stream = Terminal()
    bar = Progbar(100, interval=60, stream=stream)
    for step in range(1, 101):
        bar.update(step)
    assert stream.getvalue().count("\r") == 2  # the first draw, then the final one


@pytest.mark.parametrize("value, shown", [(0.31204, "0.3120"), (0.0001234, "1.2340e-04"), (0.0, "0.0000")])
def test_metric_formatting(value, shown):
    stream = io.StringIO()
    Progbar(1, stream=stream).update(1, values=[("loss", value)])
    assert f"loss: {shown}" in stream.getvalue()


def test_stateful_metrics_can_be_any_container():
    class Everything:
        def __contains__(self, name):
            return True

    stream = io.StringIO()
    bar = Progbar(2, stream=stream, stateful_metrics=Everything())
    bar.update(1, values=[("loss", 1.0)])
    bar.update(2, values=[("loss", 0.25)])
    assert "loss: 0.2500" in stream.getvalue()
