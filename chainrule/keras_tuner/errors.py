"""``keras_tuner.errors``: the exceptions a hypermodel or ``run_trial`` raises to steer the search.

Any other exception makes the trial INVALID: it runs again while ``max_retries_per_trial`` allows, then counts as
FAILED. ``FailedTrialError`` marks the trial FAILED at once (no retry); a ``FatalError`` (or one of its subclasses)
is not caught: it ends ``search``.

>>> issubclass(FatalValueError, ValueError) and issubclass(FatalValueError, FatalError)
True
"""


class FailedTrialError(Exception):
    """Raise it to mark a trial FAILED without retrying it (a model too large, a combination that cannot work)."""


class FatalError(Exception):
    """Raise it to stop the search: the tuner does not catch it."""


class FatalValueError(FatalError, ValueError):
    """A FatalError that is also a ValueError."""


class FatalTypeError(FatalError, TypeError):
    """A FatalError that is also a TypeError."""


class FatalRuntimeError(FatalError, RuntimeError):
    """A FatalError that is also a RuntimeError."""
