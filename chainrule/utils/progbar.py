"""A Keras-style progress bar: one line rewritten in place on a terminal, one summary line elsewhere.

>>> import io
>>> out = io.StringIO()
>>> bar = Progbar(4, stream=out)
>>> for step in range(1, 5):
...     bar.update(step, values=[("loss", 1.0 / step)])
>>> out.getvalue().split(" - ")[0]
'4/4 [==============================]'
"""
from __future__ import annotations

import math
import time
from collections.abc import Container, Iterable
from typing import TextIO

from chainrule.utils.io_utils import default_stream


class Progbar:
    """Shows the progress of a loop of ``target`` steps, with running averages of the metrics it is given.

    verbose=1 rewrites one line with ``\\r`` when ``stream`` is a terminal and prints only the final line when it is
    not (a log file, a pipe); verbose=2 prints only the final line; verbose=0 prints nothing. Metrics named in
    ``stateful_metrics`` (any container: a list, a set, an object whose ``in`` is always true) are shown as given
    (they already are epoch averages); the others are averaged over steps.
    ``target=None`` means an unknown number of steps: the bar then shows a count and ends on ``update(...,
    finalize=True)``.
    """

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Container[str] | None = None, unit_name: str = "step",
                 stream: TextIO | None = None):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = stateful_metrics if stateful_metrics is not None else frozenset()
        self.unit_name = unit_name
        self.stream = stream if stream is not None else default_stream()  # (stdout, or the logger: io_utils)
        self._dynamic = verbose == 1 and _isatty(self.stream)
        self._sums: dict[str, list[float]] = {}  # name -> [sum over steps, steps]; stateful: [latest value, 1]
        self._seen = 0
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._drawn_width = 0

    def update(self, current: int, values: Iterable[tuple[str, float]] | None = None,
               finalize: bool | None = None) -> None:
        """Record that ``current`` steps are done and the metric values of the latest ones; redraw when due.

        >>> import io
        >>> bar = Progbar(2, verbose=2, stream=io.StringIO())
        >>> bar.update(2, values=[("accuracy", 0.5)])
        >>> "accuracy: 0.5000" in bar.stream.getvalue()
        True
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values or ())
        if self.verbose == 0 or not (finalize or self._dynamic):
            return
        now = time.monotonic()
        if not finalize and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        self._draw(current, now - self._start, finalize)

    def add(self, n: int, values: Iterable[tuple[str, float]] | None = None) -> None:
        """Advance by ``n`` steps: ``update(steps_so_far + n, values)``."""
        self.update(self._seen + n, values)

    def _record(self, current: int, values: Iterable[tuple[str, float]]) -> None:
        steps = max(current - self._seen, 1)
        for name, value in values:
            value = float(value)
            if name in self.stateful_metrics:
                self._sums[name] = [value, 1]
            else:
                total = self._sums.setdefault(name, [0.0, 0])
                total[0] += value * steps
                total[1] += steps
        self._seen = current

    def _draw(self, current: int, elapsed: float, finalize: bool) -> None:
        line = self._count(current)
        if self.verbose == 1 and self.target is not None:
            line += " " + self._bar(current)
        if finalize:
            line += f" - {elapsed:.0f}s {_format_rate(elapsed / max(current, 1), self.unit_name)}"
        elif self.target is not None and current:
            line += f" - ETA: {_format_eta(elapsed / current * (self.target - current))}"
        line += "".join(f" - {name}: {_format_value(self._average(name))}" for name in self._sums)
        if self._dynamic:
            padding = " " * max(self._drawn_width - len(line), 0)
            self._drawn_width = len(line)
            line = "\r" + line + padding
        self.stream.write(line + ("\n" if finalize else ""))
        self.stream.flush()

    def _count(self, current: int) -> str:
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(max(self.target, 1))) + 1
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current: int) -> str:
        done = int(self.width * min(current / max(self.target, 1), 1.0))
        arrow = ("=" * (done - 1) + (">" if current < self.target else "=")) if done else ""
        return "[" + arrow + "." * (self.width - done) + "]"

    def _average(self, name: str) -> float:
        total, steps = self._sums[name]
        return total / steps


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _format_value(value: float) -> str:
    return f"{value:.4f}" if abs(value) > 1e-3 or value == 0 else f"{value:.4e}"


def _format_eta(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def _format_rate(seconds_per_unit: float, unit_name: str) -> str:
    """Time per unit in Keras's style, e.g. '2ms/step'; fast units (bytes) read better as units per second."""
    if seconds_per_unit >= 1:
        return f"{seconds_per_unit:.0f}s/{unit_name}"
    if seconds_per_unit >= 1e-3:
        return f"{seconds_per_unit * 1e3:.0f}ms/{unit_name}"
    if seconds_per_unit >= 1e-6:
        return f"{seconds_per_unit * 1e6:.0f}us/{unit_name}"
    return f"{1 / max(seconds_per_unit, 1e-12) / 1e6:.0f}M{unit_name}/s"
