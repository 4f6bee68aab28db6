"""Interactive logging (``keras.config`` / ``keras.utils``'s ``enable_interactive_logging``,
``disable_interactive_logging``, ``is_interactive_logging_enabled``): progress bars and messages on stdout (the
default), or, once disabled, as lines of the Python logger ``"chainrule"`` at INFO level (for jobs on servers, as
Keras sends them to absl's logging).

>>> disable_interactive_logging(); is_interactive_logging_enabled()
False
>>> enable_interactive_logging(); is_interactive_logging_enabled()
True
"""
from __future__ import annotations

import logging
import sys
from typing import TextIO

_state = {"interactive": True}
logger = logging.getLogger("chainrule")


def enable_interactive_logging() -> None:
    """Progress bars and messages go to stdout."""
    _state["interactive"] = True


def disable_interactive_logging() -> None:
    """Progress bars and messages go to the ``"chainrule"`` logger, one complete line per record."""
    _state["interactive"] = False


def is_interactive_logging_enabled() -> bool:
    return _state["interactive"]


class LoggerStream:
    """A text stream that logs each complete line it is given (a terminal's ``\\r`` rewrites keep the last)."""

    def __init__(self, log: logging.Logger = logger):
        self._log, self._pending = log, ""

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            self._log.info(line.rsplit("\r", 1)[-1])
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def default_stream() -> TextIO:
    """Where progress goes when no stream is given: stdout, or the logger when interactive logging is off."""
    return sys.stdout if _state["interactive"] else LoggerStream()
