"""The HParams dashboard's records of a trial: KerasTuner adds this callback next to each ``TensorBoard`` callback
given to ``search``, so that TensorBoard's HParams tab lists every trial (a run ``<log_dir>/<trial_id>``) with its
hyperparameter values beside the curves the TensorBoard callback writes there.

It writes the session's start (the values) when training begins and its end (its status) when training ends, in
an event file of the trial's folder, as ``tensorboard.plugins.hparams``' Keras callback does; the summaries are
tensorboardX's.

>>> import tempfile
>>> callback = HParamsCallback(tempfile.mkdtemp(), {"units": 32, "lr": 0.01}, "0")
>>> callback.on_train_begin(); callback.on_train_end()
"""
from __future__ import annotations

import os

from chainrule.keras.callbacks import Callback


def hparam_values(values: dict) -> dict:
    """The trial's values the dashboard can show (numbers, text, booleans), without the tuner's bookkeeping."""
    return {name: value for name, value in values.items()
            if not name.startswith("tuner/") and isinstance(value, (bool, int, float, str))}


class HParamsCallback(Callback):
    """Writes a trial's hyperparameter values (the HParams plugin's session start) in ``log_dir`` when training
    begins, and its end when training ends."""

    def __init__(self, log_dir: str | os.PathLike, values: dict, trial_id: str):
        super().__init__()
        self.log_dir, self.values, self.trial_id = str(log_dir), hparam_values(values), str(trial_id)
        self._writer = None

    def on_train_begin(self, logs=None):
        from tensorboardX.summary import hparams

        from chainrule.keras.callbacks.tensorboard import EventWriter

        _, start, self._end = hparams(self.values, {})
        self._writer = EventWriter(self.log_dir)
        self._writer.summary(start)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.summary(self._end)
            self._writer.close()
            self._writer = None
