"""Callbacks: code that ``Model.fit``/``evaluate``/``predict`` call at fixed points, with Keras's hooks and names.

>>> import numpy as np
>>> from chainrule.keras.callbacks import Callback
>>> class CountEpochs(Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         self.seen = epoch + 1
>>> cb = CountEpochs()
>>> cb.on_epoch_end(0, {"loss": 1.0}); cb.seen
1

Every hook gets a ``logs`` dict, as Keras passes it: ``{}`` where the loop has nothing to report (the ``*_begin``
hooks), else the running results (``{"loss": ..., "accuracy": ...}``; predict's batch end: ``{"outputs": ...}``). Each
hook call gets its own copy, shared by the callbacks in order (a callback may add a key for the next one), with
Tensors and NumPy scalars as Python floats. The training loop builds the per-batch ``logs`` dict only when some
callback overrides a batch hook (as Keras checks), so plain ``fit`` pays nothing per step for callbacks it does not
use.
"""
from __future__ import annotations

import csv
import math
import os
import sys
import warnings
from typing import Any, Callable, Iterable

import numpy as np

from chainrule.utils import tree
from chainrule.utils.io_utils import default_stream  # stdout, or the logger when interactive logging is off

_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end")
_TEST_BATCH_HOOKS = ("on_test_batch_begin", "on_test_batch_end")
_PREDICT_BATCH_HOOKS = ("on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override the hooks you need. ``self.model`` is the model being trained; ``self.params`` holds
    ``verbose``, ``epochs`` and ``steps`` (steps per epoch, None when unknown)."""

    def __init__(self):
        self.params: dict[str, Any] = {}
        self.model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self.model = model

    # --- which batch hooks this callback uses (the loop skips building batch logs otherwise) ----------------------
    def _overrides(self, names: Iterable[str]) -> bool:
        return any(getattr(type(self), n) is not getattr(Callback, n) for n in names)

    @property
    def _implements_train_batch_hooks(self) -> bool:
        return self._overrides(_BATCH_HOOKS)

    @property
    def _implements_test_batch_hooks(self) -> bool:
        return self._overrides(_TEST_BATCH_HOOKS)

    @property
    def _implements_predict_batch_hooks(self) -> bool:
        return self._overrides(_PREDICT_BATCH_HOOKS)

    # --- hooks --------------------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # Keras's older names keep working

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class CallbackList(Callback):
    """Calls each hook on every callback in order; adds History and the progress bar when ``fit`` asks."""

    def __init__(self, callbacks: Iterable[Callback] | None = None, add_history: bool = False,
                 add_progbar: bool = False, model=None, **params):
        super().__init__()
        # one callback or a nested structure of them, flattened as Keras 3's tree.flatten does
        self.callbacks = [callbacks] if isinstance(callbacks, Callback) else list(tree.flatten(callbacks or []))
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be keras-style Callback instances, got {type(cb).__name__}")
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        self.callbacks.sort(key=lambda cb: getattr(cb, "runs_last", False))  # (BackupAndRestore: the others' state)
        for cb in self.callbacks:
            if hasattr(cb, "_set_callback_list"):
                cb._set_callback_list(self)
        self.history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self.progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)), None)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def set_params(self, params: dict) -> None:
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model) -> None:
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    @property
    def _implements_train_batch_hooks(self) -> bool:
        return any(cb._implements_train_batch_hooks for cb in self.callbacks)

    @property
    def _implements_test_batch_hooks(self) -> bool:
        return any(cb._implements_test_batch_hooks for cb in self.callbacks)

    @property
    def _implements_predict_batch_hooks(self) -> bool:
        return any(cb._implements_predict_batch_hooks for cb in self.callbacks)

    def _call(self, hook: str, *args, logs=None) -> None:
        logs = python_logs(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)  # positional, as Keras calls them: lambdas may name it anything

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs=logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs=logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs=logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs=logs)
    def on_train_batch_begin(self, batch, logs=None): self._call("on_train_batch_begin", batch, logs=logs)
    def on_train_batch_end(self, batch, logs=None): self._call("on_train_batch_end", batch, logs=logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs=logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs=logs)
    def on_test_batch_begin(self, batch, logs=None): self._call("on_test_batch_begin", batch, logs=logs)
    def on_test_batch_end(self, batch, logs=None): self._call("on_test_batch_end", batch, logs=logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs=logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs=logs)
    def on_predict_batch_begin(self, batch, logs=None): self._call("on_predict_batch_begin", batch, logs=logs)
    def on_predict_batch_end(self, batch, logs=None): self._call("on_predict_batch_end", batch, logs=logs)


def python_logs(logs: dict | None) -> dict:
    """Keras's ``pythonify_logs``: a new dict (``{}`` for None), nested dicts spread into it, and every scalar
    (a 0-d Tensor, a NumPy number) a Python float; arrays, lists and strings stay as they are.

    >>> import numpy as np
    >>> python_logs({"loss": np.float32(0.5), "metrics": {"acc": 1}, "outputs": np.zeros(2)})
    {'loss': 0.5, 'acc': 1.0, 'outputs': array([0., 0.])}
    """
    result: dict = {}
    for key, value in (logs or {}).items():
        if isinstance(value, dict):
            result.update(python_logs(value))
            continue
        if type(value) is not float and not isinstance(value, str) and np.ndim(value) == 0:
            try:
                value = float(value)
            except (TypeError, ValueError):
                pass  # a value that is no number (Keras keeps it as it is)
        result[key] = value
    return result


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]`` is a list with one float per epoch.

    ``fit`` returns this object and also leaves it on ``model.history``.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and a :class:`~chainrule.utils.progbar.Progbar` per epoch (added by ``fit``).

    Per-batch updates happen only where the bar is redrawn in place (verbose=1 on a terminal); elsewhere one line is
    printed per epoch, so the loop need not build batch logs.
    """

    def __init__(self):
        super().__init__()
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.seen = 0
        self.progbar = None
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    @property
    def _dynamic(self) -> bool:
        stream = default_stream()
        return self.verbose == 1 and bool(getattr(stream, "isatty", None) and stream.isatty())

    @property
    def _implements_train_batch_hooks(self) -> bool:
        return self._dynamic

    _implements_test_batch_hooks = _implements_train_batch_hooks
    _implements_predict_batch_hooks = _implements_train_batch_hooks

    def _new_bar(self, target):
        from chainrule.utils.progbar import Progbar

        self.seen = 0
        self.progbar = Progbar(target, verbose=self.verbose, stream=default_stream(), stateful_metrics=_EVERY_NAME)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            default_stream().write(f"Epoch {epoch + 1}/{self.epochs}\n")
            sys.stdout.flush()
        self._new_bar(self.target)

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)
        if self.target is None:  # now the length of an epoch is known
            self.target = self.seen

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar(self.params.get("steps"))

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch + 1, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._new_bar(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch + 1, None)

    def on_predict_end(self, logs=None):
        self._finish(None)

    def _update(self, step: int, logs) -> None:
        self.seen = step
        if self.progbar is not None:
            self.progbar.update(step, self._values(logs), finalize=False)

    def _finish(self, logs) -> None:
        if self.progbar is not None:
            self.progbar.update(self.seen, self._values(logs), finalize=True)
            self.progbar = None

    @staticmethod
    def _values(logs) -> list:
        return list((logs or {}).items())


class _EveryName:
    """The bar's ``stateful_metrics``: every name, since fit's logs already are running epoch averages."""

    def __contains__(self, name) -> bool:
        return True


_EVERY_NAME = _EveryName()


# --- callbacks that watch a logged quantity ------------------------------------------------------------------------
_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "iou", "top_k")
_MIN_HINTS = ("loss", "error", "crossentropy", "hinge", "divergence", "mse", "mae", "mape", "msle")


def _direction(monitor: str, mode: str, model=None) -> str:
    """'min' or 'max' for ``monitor``; in 'auto' mode from the metric object or the name, as Keras infers it."""
    if mode in ("min", "max"):
        return mode
    if mode != "auto":
        warnings.warn(f"mode {mode!r} is unknown, falling back to 'auto'", stacklevel=3)
    name = monitor.removeprefix("val_")
    if name == "loss":
        return "min"
    for metric in getattr(model, "metrics", None) or []:
        if getattr(metric, "name", None) == name and getattr(metric, "_direction", None) in ("up", "down"):
            return "max" if metric._direction == "up" else "min"
    if any(h in name for h in _MAX_HINTS):
        return "max"
    if any(h in name for h in _MIN_HINTS):
        return "min"
    raise ValueError(f"cannot tell whether monitor={monitor!r} should be maximized or minimized; pass mode='max' or "
                     f"mode='min'")


def _monitor_value(callback: Callback, monitor: str, logs) -> float | None:
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(f"{type(callback).__name__} is conditioned on metric `{monitor}` which is not available. "
                      f"Available metrics are: {','.join(logs)}", stacklevel=3)
        return None
    return float(value)


class MonitorCallback(Callback):
    """A callback that watches ``monitor`` in the epoch logs: whether it should go down or up (``mode``, 'auto'
    inferred on the first epoch) and whether a value beats a reference by more than ``min_delta``."""

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0):
        super().__init__()
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(min_delta)
        self.direction: str | None = None

    def _worst(self) -> float:
        return math.inf if self.direction == "min" else -math.inf

    def _set_direction(self) -> None:
        if self.direction is None:
            self.direction = _direction(self.monitor, self.mode, self.model)

    def _improved(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self.direction == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights=True`` the weights of the best epoch are put back when training ends, whether or not
    it stopped early (Keras 3 behaviour). ``baseline``: improvement must also beat this value to reset the wait.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__(monitor, mode, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self.best = self._worst()

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.direction is None:
            self._set_direction()
            self.best = self._worst()
        current = _monitor_value(self, self.monitor, logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(MonitorCallback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) after each epoch or every
    ``save_freq`` batches. ``filepath`` may name logged values: ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``."""

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold: float | None = None):
        super().__init__(monitor, mode)
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}; expected 'epoch' or an integer")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self._epoch = 0
        self._batches_since_save = 0

    @property
    def _implements_train_batch_hooks(self) -> bool:
        return self.save_freq != "epoch"

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _filepath(self, epoch: int, batch: int | None, logs) -> str:
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields.setdefault("batch", batch + 1)
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from None

    def _should_save(self, epoch: int, logs, path: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        current = float(current)
        self._set_direction()
        best_str = "None" if self.best is None else f"{self.best:.5f}"
        if self._improved(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_str} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_str}")
        return False

    def _save(self, epoch: int, batch: int | None, logs) -> None:
        path = self._filepath(epoch, batch, logs)
        if not self._should_save(epoch, logs, path):
            return
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        method = "save_weights" if self.save_weights_only else "save"
        save = getattr(self.model, method, None)
        if save is None:
            raise NotImplementedError(f"ModelCheckpoint needs model.{method}(), which this model does not have")
        save(path)


class LearningRateScheduler(Callback):
    """Set the optimizer's learning rate at the start of each epoch to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``); the rate is logged as ``learning_rate``."""

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(_learning_rate(optimizer))
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # a schedule of the epoch alone
            lr = self.schedule(epoch)
        lr = float(lr)
        if not math.isfinite(lr):
            raise ValueError(f'The output of the "schedule" function should be a finite float, got {lr}')
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(_learning_rate(self.model.optimizer))


def _learning_rate(optimizer) -> float:
    lr = optimizer.learning_rate
    return float(np.asarray(getattr(lr, "data", lr)))


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without an improvement of ``min_delta``
    in ``monitor``; wait ``cooldown`` epochs after a reduction; never go below ``min_lr``."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        if "epsilon" in kwargs:  # the old Keras name of min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword arguments: {sorted(kwargs)}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self) -> None:
        # as Keras: 'auto' maximizes names containing "acc" and minimizes the rest
        self.maximize = self.mode == "max" or (self.mode != "min" and "acc" in self.monitor)
        self.best = -math.inf if self.maximize else math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _improved(self, value: float) -> bool:
        return value > self.best + self.min_delta if self.maximize else value < self.best - self.min_delta

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _learning_rate(self.model.optimizer)
        current = _monitor_value(self, self.monitor, logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _learning_rate(self.model.optimizer)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite: gracefully (``model.stop_training``, the epoch
    and training end as usual), or with ``raise_error=True`` by raising RuntimeError at once (Keras 3's option:
    no other callback's ``on_train_end`` runs then)."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. Terminating "
                                   f"training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` then the logged values in sorted key order."""

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list[str] | None = None
        self.file = None
        self.writer = None
        self.write_header = True

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                self.write_header = not f.readline()
        else:
            self.write_header = True
        if self.file is not None and not self.file.closed:
            self.file.close()
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys, self.writer = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.writer(self.file, delimiter=self.sep)
            if self.write_header:
                self.writer.writerow(["epoch", *self.keys])
        self.writer.writerow([epoch, *(_csv_value(logs.get(k, "NA")) for k in self.keys)])
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None and not self.file.closed:
            self.file.close()
        self.writer = None


def _csv_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim > 0):
        return f"[{', '.join(map(str, value))}]"
    return value


class LambdaCallback(Callback):
    """A callback made of functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    on_epoch_begin/on_epoch_end take (epoch, logs); on_batch_*/on_train_batch_* take (batch, logs);
    on_train_begin/on_train_end take (logs).
    """

    _NAMES = ("on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end", "on_train_begin", "on_train_end",
              "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin",
              "on_test_batch_end", "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
              "on_predict_batch_end")

    def __init__(self, **hooks: Callable):
        super().__init__()
        unknown = set(hooks) - set(self._NAMES)
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hooks: {sorted(unknown)}")
        self._hooks = {name: fn for name, fn in hooks.items() if fn is not None}
        for name, fn in self._hooks.items():
            setattr(self, name, fn)

    def _overrides(self, names):
        return any(n in self._hooks for n in names) or (
            "on_train_batch_begin" in names and ({"on_batch_begin", "on_batch_end"} & set(self._hooks)) != set())

    def on_train_batch_begin(self, batch, logs=None):
        if "on_batch_begin" in self._hooks:
            self._hooks["on_batch_begin"](batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if "on_batch_end" in self._hooks:
            self._hooks["on_batch_end"](batch, logs)


from chainrule.keras.callbacks.backup_and_restore import BackupAndRestore  # noqa: E402  (its own module)
from chainrule.keras.callbacks.gradient_health import GradientHealth  # noqa: E402  (its own module)
from chainrule.keras.callbacks.remote_monitor import RemoteMonitor  # noqa: E402  (its own module)
from chainrule.keras.callbacks.swap_ema_weights import SwapEMAWeights  # noqa: E402  (its own module)
from chainrule.keras.callbacks.tensorboard import TensorBoard  # noqa: E402  (its own module)

__all__ = ["BackupAndRestore", "RemoteMonitor", "SwapEMAWeights", "Callback", "CallbackList", "CSVLogger",
           "EarlyStopping", "GradientHealth", "History", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
           "MonitorCallback", "ProgbarLogger", "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN"]
