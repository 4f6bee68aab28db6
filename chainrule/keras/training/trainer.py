"""The training loop of every model: ``compile``, ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` calls.

One training step, as Keras does it::

    y_pred = model(x, training=True)                      # the forward pass records the graph
    loss = compiled_loss(y, y_pred, sample_weight) + sum(regularization penalties)
    grads = backprop(loss) for model.trainable_variables  # chainrule.engine.autograd, one walk of the graph
    optimizer.apply(grads, trainable_variables)           # in-place updates
    metrics.update_state(y, y_pred as NumPy)              # no graph, plain arrays

A loss that is NaN or infinite is never applied: the step is skipped, training stops, and a RuntimeWarning names
the epoch and the batch. Per step the loop builds no dicts and copies nothing beyond the batch itself; the logs
dict is built per batch only when a callback (or the live progress bar) reads it.
"""
from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from chainrule import backend
from chainrule.engine.autograd import _backprop, no_grad
from chainrule.engine.tensor import Tensor
from chainrule.keras.training.adapters import (ArrayAdapter, EpochIterator, _class_weight_table, cast_structure,
                                         check_one_weighting, class_weights_for, input_dtype, make_adapter,
                                         num_rows, target_dtype, to_numpy, unpack)
from chainrule.keras.metrics import Mean
from chainrule.keras.training.compile_utils import CompiledLoss, CompiledMetrics
from chainrule.engine.tracer import RecordedStep, Refused, record
from chainrule.keras.training.replayable import why_not_replayable
from chainrule.utils import tree


def _resolve_verbose(verbose) -> int:
    """'auto': a live bar (1) on a terminal, one line per epoch (2) elsewhere (logs, pipes, notebooks' files)."""
    if verbose == "auto":
        isatty = getattr(sys.stdout, "isatty", None)
        return 1 if isatty is not None and isatty() else 2
    return int(verbose)


def _as_model_input(x):
    """Arrays -> Tensors sharing memory (no copy); lists and dicts keep their structure."""
    return Tensor._wrap(x) if isinstance(x, np.ndarray) else tree.map_structure(_wrap_array, x)


def _wrap_array(a):
    return Tensor._wrap(a) if isinstance(a, np.ndarray) else a


def _output_array(y_pred):
    """The model's output(s) as arrays: one array, or a list in output order (a dict's values)."""
    if isinstance(y_pred, Tensor):
        return y_pred.data
    if isinstance(y_pred, dict):
        y_pred = list(y_pred.values())
    return tree.map_structure(lambda t: t.data if isinstance(t, Tensor) else np.asarray(t), y_pred)


class Trainer:
    """Mixed into :class:`chainrule.keras.models.Model`: everything about training a model on data."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._compiled_loss: CompiledLoss | None = None
        self._compiled_metrics: CompiledMetrics | None = None
        self._loss_tracker = Mean(name="loss")
        self._output_losses: list[Mean] = []  # '<output>_loss' of a model with several losses
        self._train_vars: list | None = None
        self._penalized: list = []
        self._step_records: dict = {}  # batch shapes and dtypes -> RecordedStep, or why that step stays eager
        self._replay_refusal: str | None = None

    # --- compile ---------------------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=1, jit_compile=None, auto_scale_loss=True, **kwargs) -> None:
        """Choose the optimizer, the loss and the metrics (strings or objects, as Keras takes them).

        As in Keras, ``fit`` records a training step and replays it (chainrule/training/replay.py) unless
        ``run_eagerly=True``, which runs every step through the layers (for debugging a layer's ``call``).
        ``jit_compile`` and ``steps_per_execution`` are accepted for compatibility and change nothing.
        """
        from chainrule.keras import optimizers

        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments: {sorted(kwargs)}")
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        names = list(getattr(self, "output_names", None) or [])
        self._compiled_loss = None if loss is None else CompiledLoss(loss, loss_weights, names)
        self._output_losses = []
        self._compiled_metrics = CompiledMetrics(metrics, weighted_metrics, self._compiled_loss, names)
        self.run_eagerly = bool(run_eagerly)
        self.jit_compile = False
        self.steps_per_execution = steps_per_execution
        self.compiled = True
        self._train_vars = None

    def _assert_compiled(self, method: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before using the model (`{method}()` needs a loss and an "
                               f"optimizer).")

    @property
    def metrics(self) -> list:
        """The loss tracker, then the compiled metrics; before the first batch has built them, their container (as
        Keras 3's ``CompileMetrics``: ``update_state(y, y_pred)`` builds and updates them, ``result()`` a dict)."""
        compiled = self._compiled_metrics
        if compiled is None:
            return [self._loss_tracker]
        return [self._loss_tracker] + (compiled.metrics if compiled.built else [compiled])

    @property
    def compiled_metrics(self):
        """TF 2's ``model.compiled_metrics.update_state(y, y_pred)``, for a custom train_step."""
        return self._compiled_metrics

    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """TF 2's ``model.compiled_loss(y, y_pred)``: :meth:`compute_loss` (the regularization losses included),
        which it also adds to the 'loss' metric, as TF 2 did."""
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        self._loss_tracker.update_state(loss)
        return loss

    @property
    def metrics_names(self) -> list[str]:
        compiled = self._compiled_metrics.names if self._compiled_metrics is not None else []
        return ["loss"] + [t.name for t in self._output_losses] + compiled

    def reset_metrics(self) -> None:
        """Reset every metric in ``model.metrics``: a subclass's own trackers too (Keras does, at each epoch)."""
        self._loss_tracker.reset_state()
        for tracker in self._output_losses:
            tracker.reset_state()
        if self._compiled_metrics is not None:
            self._compiled_metrics.reset()
        for metric in self.metrics:
            reset = getattr(metric, "reset_state", None)
            if reset is not None:
                reset()

    def _logs(self) -> dict:
        logs = {"loss": float(self._loss_tracker.result())}
        logs.update((t.name, float(t.result())) for t in self._output_losses)
        if self._compiled_metrics is not None and self._compiled_metrics.built:
            logs.update(self._compiled_metrics.results())
        return logs

    # --- one batch ------------------------------------------------------------------------------------------------
    def _prepare_training(self) -> None:
        """What the step needs and does not recompute: the variables to update, the layers with penalties."""
        self._train_vars = list(self.trainable_variables)
        holders = [self] + self._flat_layers()
        self._penalized = [layer for layer in holders
                           if getattr(layer, "_regularized", None) or getattr(layer, "activity_regularizer", None)]
        self._step_records = {}
        self._replay_refusal = why_not_replayable(self)

    def _penalty(self):
        """The regularization losses of this forward pass (weight penalties and the latest activity penalties)."""
        total = None
        for layer in self._penalized:
            for var, reg in layer._regularized:
                term = reg(var)
                total = term if total is None else total + term
            for term in layer._activity_losses:
                total = term if total is None else total + term
        return total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The compiled loss of ``y_pred`` against ``y`` plus the model's regularization losses (a scalar Tensor)."""
        if self._compiled_loss is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        if self._train_vars is None:
            self._prepare_training()
        loss = self._compiled_loss(y, y_pred, sample_weight)
        if self._penalized:
            penalty = self._penalty()
            if penalty is not None:
                loss = loss + penalty
        return loss

    def _train_batch(self, x, y, sample_weight) -> float:
        """Forward, loss, backward, update, metrics; return the batch loss as a float (no update when not finite).
        A step with batches of an already recorded shape is replayed; the others run eagerly."""
        key = self._replay_key(x, y, sample_weight)
        recorded = self._step_records.get(key)
        if isinstance(recorded, RecordedStep):  # (a model with several losses has nested targets: never replayed)
            value, y_pred, grads = recorded.run(x, y, self._train_vars)
            y_pred = Tensor._wrap(y_pred)
        else:
            value, y_pred, grads = self._eager_step(x, y, sample_weight, key)
        if grads is not None:
            self.optimizer.apply(grads, self._train_vars)
        self._track_losses(value, x)
        self._update_metrics(y, y_pred, sample_weight)
        return value

    def _track_losses(self, value: float, x) -> None:
        """Add a batch's loss to the 'loss' tracker, and each output's to its own when the model has several."""
        rows = x.shape[0] if isinstance(x, np.ndarray) else num_rows(x)
        self._loss_tracker.update_state(value, sample_weight=rows)
        compiled = self._compiled_loss
        if compiled is None or not compiled.term_names:
            return
        if not self._output_losses:
            self._output_losses = [Mean(name=name) for name in compiled.term_names]
        for tracker, term in zip(self._output_losses, compiled.last_terms):
            tracker.update_state(float(term.data), sample_weight=rows)

    def _replay_key(self, x, y, sample_weight) -> tuple | None:
        """What a recorded step is kept under (batch shapes and dtypes); None where steps run eagerly: under
        ``run_eagerly``, on the first step (it may build the model), with sample weights or nested data."""
        if self.run_eagerly or self._train_vars is None or sample_weight is not None:
            return None
        if type(x) is not backend.xp.ndarray or type(y) is not backend.xp.ndarray:
            return None
        return x.shape, x.dtype.str, y.shape, y.dtype.str

    def _eager_step(self, x, y, sample_weight, key) -> tuple:
        """(loss value, model output, gradients or None); records the step first time its ``key`` comes."""
        def forward_and_loss():
            y_pred = self(_as_model_input(x), training=True)
            if self._train_vars is None:  # after the first call: a lazily built model has its weights only now
                self._prepare_training()
            return y_pred, self.compute_loss(x, y, y_pred, sample_weight)

        recording = key is not None and key not in self._step_records
        if recording and self._replay_refusal is None:
            (y_pred, loss), records = record(forward_and_loss)
        else:
            (y_pred, loss), records = forward_and_loss(), None
            if recording:
                self._step_records[key] = self._replay_refusal
        value = float(loss.data)
        grads = None
        if math.isfinite(value) and loss.requires_grad and self._train_vars:
            found = _backprop((loss,), (backend.xp.ones_like(loss.data),), False, None)
            grads = [found[id(v)][1] if id(v) in found else None for v in self._train_vars]
        if records is not None:
            self._step_records[key] = self._recorded_step(records, x, y, y_pred, loss)
        return value, y_pred, grads

    def _recorded_step(self, records: list, x, y, y_pred, loss) -> RecordedStep | str:
        if not loss.requires_grad:
            return "the loss does not depend on a trainable weight"
        try:
            return RecordedStep(records, x, y, y_pred, loss)
        except Refused as refusal:
            return str(refusal)

    def _update_metrics(self, y, y_pred, sample_weight) -> None:
        cm = self._compiled_metrics
        if cm is None:
            return
        preds = _output_array(y_pred)
        if not cm.built:
            cm.build(y, preds)
        cm.update(y, preds, sample_weight)

    def _test_batch(self, x, y, sample_weight) -> float:
        y_pred = self(_as_model_input(x), training=False)
        if self._train_vars is None:
            self._prepare_training()
        value = float(self.compute_loss(x, y, y_pred, sample_weight, training=False).data) \
            if self._compiled_loss is not None else 0.0
        self._track_losses(value, x)
        self._update_metrics(y, y_pred, sample_weight)
        return value

    def train_step(self, data) -> dict:
        """One training step on ``data = (x, y, sample_weight)``; override it to customize ``fit``, returning a dict
        of logs (as in Keras)."""
        x, y, sample_weight = unpack(data)
        self._train_batch(x, y, sample_weight)
        return self._logs()

    def test_step(self, data) -> dict:
        x, y, sample_weight = unpack(data)
        self._test_batch(x, y, sample_weight)
        return self._logs()

    def _custom(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(Trainer, name)

    # --- fit ------------------------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; return the :class:`~chainrule.keras.callbacks.History` (``.history`` holds
        'loss', the metrics, and 'val_...' when there is validation data)."""
        from chainrule.keras.callbacks import CallbackList

        self._assert_compiled("fit")
        adapter = make_adapter(x, y, sample_weight, batch_size=batch_size or 32, shuffle=shuffle,
                               class_weight=class_weight)
        if validation_data is None and validation_split:
            if not isinstance(adapter, ArrayAdapter):
                raise ValueError(f"`validation_split` is only supported for NumPy arrays and tensors, not for "
                                 f"{type(x).__name__}; pass validation_data instead")
            adapter, validation_data = adapter.split(validation_split)
        val_iterator = None
        if validation_data is not None:
            val_iterator = EpochIterator(self._validation_adapter(validation_data, validation_batch_size or
                                                                  batch_size or 32), validation_steps)
        train_iterator = EpochIterator(adapter, steps_per_epoch)
        verbose = _resolve_verbose(verbose)
        callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                 verbose=verbose, epochs=epochs, steps=train_iterator.steps)
        self.stop_training = False
        self._train_vars = None
        custom_step = self._custom("train_step")
        training_logs = None
        callbacks.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            if train_iterator.exhausted:
                warnings.warn(f"Your input ran out of data at epoch {epoch + 1}; interrupting training. Give "
                              f"steps_per_epoch, or data that can be iterated again (arrays, a Dataset).",
                              stacklevel=2)
                break
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            batch_hooks = callbacks._implements_train_batch_hooks
            steps = 0
            logs = None
            for step, data in enumerate(train_iterator.epoch()):
                if batch_hooks:
                    callbacks.on_train_batch_begin(step)
                if custom_step:
                    logs = _plain_logs(self.train_step(_pack(*data)))
                    value = logs.get("loss", 0.0)
                else:
                    value = self._train_batch(*data)
                steps += 1
                if not math.isfinite(value):
                    self.stop_training = True
                    warnings.warn(f"fit: the loss is {value} at epoch {epoch + 1}, batch {step + 1} (step {step}); "
                                  f"this batch's update was not applied and training stopped. Lower the learning "
                                  f"rate, check the data for NaN/inf, or clip gradients (clipnorm=).",
                                  RuntimeWarning, stacklevel=2)
                if batch_hooks:
                    callbacks.on_train_batch_end(step, logs if custom_step else self._logs())
                if self.stop_training:
                    break
            if callbacks.progbar is not None:
                callbacks.progbar.seen = steps
            epoch_logs = dict(logs) if custom_step and logs is not None else self._logs()
            if val_iterator is not None and _should_validate(epoch, validation_freq):
                val_logs = self._evaluate_iterator(val_iterator, callbacks)
                epoch_logs.update({"val_" + name: value for name, value in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        callbacks.on_train_end(training_logs)
        self._step_records = {}  # the records hold the last step's arrays
        return callbacks.history

    @staticmethod
    def _validation_adapter(validation_data, batch_size):
        if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and \
                not hasattr(validation_data, "as_numpy_iterator"):
            vx, vy, vsw = unpack(tuple(validation_data))
            return make_adapter(vx, vy, vsw, batch_size=batch_size, shuffle=False)
        return make_adapter(validation_data, batch_size=batch_size, shuffle=False)

    # --- evaluate ---------------------------------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict: bool = False, **kwargs):
        """The loss (and metrics) on the data: a float, ``[loss, metric...]``, or a dict with ``return_dict``."""
        from chainrule.keras.callbacks import CallbackList

        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments: {sorted(kwargs)}")
        self._assert_compiled("evaluate")
        iterator = EpochIterator(make_adapter(x, y, sample_weight, batch_size=batch_size or 32), steps)
        verbose = _resolve_verbose(verbose)
        callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                 steps=iterator.steps)
        logs = self._evaluate_iterator(iterator, callbacks)
        return logs if return_dict else self._flat_results(logs)

    def _evaluate_iterator(self, iterator: EpochIterator, callbacks) -> dict:
        self.reset_metrics()
        custom_step = self._custom("test_step")
        callbacks.on_test_begin()
        batch_hooks = callbacks._implements_test_batch_hooks
        logs = None
        with no_grad():
            for step, data in enumerate(iterator.epoch()):
                if batch_hooks:
                    callbacks.on_test_batch_begin(step)
                if custom_step:
                    logs = _plain_logs(self.test_step(_pack(*data)))
                else:
                    self._test_batch(*data)
                if batch_hooks:
                    callbacks.on_test_batch_end(step, logs if custom_step else self._logs())
                if callbacks.progbar is not None and not callbacks.progbar._in_fit:
                    callbacks.progbar.seen = step + 1
        logs = dict(logs) if custom_step and logs is not None else self._logs()
        callbacks.on_test_end(logs)
        return logs

    def _flat_results(self, logs: dict):
        values = [logs[name] for name in self.metrics_names if name in logs]
        values += [value for name, value in logs.items() if name not in self.metrics_names]
        return values[0] if len(values) == 1 else values

    # --- predict ------------------------------------------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` as a NumPy array (a list or dict of arrays for several outputs)."""
        from chainrule.keras.callbacks import CallbackList

        iterator = EpochIterator(make_adapter(x, batch_size=batch_size or 32), steps)
        verbose = _resolve_verbose(verbose)
        callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                 steps=iterator.steps)
        callbacks.on_predict_begin()
        batch_hooks = callbacks._implements_predict_batch_hooks
        chunks = []
        with no_grad():
            for step, (bx, _, _) in enumerate(iterator.epoch()):
                if batch_hooks:
                    callbacks.on_predict_batch_begin(step)
                out = self(_as_model_input(bx), training=False)
                chunks.append(_to_numpy_outputs(out))
                if batch_hooks:
                    callbacks.on_predict_batch_end(step, {"outputs": chunks[-1]})
                if callbacks.progbar is not None:
                    callbacks.progbar.seen = step + 1
        callbacks.on_predict_end()
        if not chunks:
            raise ValueError("predict() got no data: the input is empty")
        return _concat_outputs(chunks)

    # --- single batches ----------------------------------------------------------------------------------------------
    def _batch_arrays(self, x, y, sample_weight, class_weight):
        x = cast_structure(to_numpy(x, "x"), input_dtype)
        y = None if y is None else cast_structure(to_numpy(y, "y"), target_dtype)
        sw = None if sample_weight is None else np.asarray(to_numpy(sample_weight, "sample_weight"))
        check_one_weighting(sw, class_weight)
        table = _class_weight_table(class_weight)
        if table is not None and y is not None:
            sw = class_weights_for(y, table)
        return x, y, sw

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One update on one batch; returns this batch's loss (and metrics): as Keras 3, it resets the metrics
        first, so nothing carries over from earlier calls, ``fit`` or ``evaluate``."""
        self._assert_compiled("train_on_batch")
        self.reset_metrics()
        logs = self._one_batch("train", self._batch_arrays(x, y, sample_weight, class_weight))
        return logs if return_dict else self._flat_results(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss (and metrics) on one batch, without updating the weights (the metrics reset first, as Keras 3)."""
        self._assert_compiled("test_on_batch")
        self.reset_metrics()
        with no_grad():
            logs = self._one_batch("test", self._batch_arrays(x, y, sample_weight, None))
        return logs if return_dict else self._flat_results(logs)

    def _one_batch(self, kind: str, data) -> dict:
        """``train_step``/``test_step`` when the model overrides it, else the built-in batch; the logs after it."""
        if self._custom(f"{kind}_step"):
            return _plain_logs(getattr(self, f"{kind}_step")(_pack(*data)))
        (self._train_batch if kind == "train" else self._test_batch)(*data)
        return self._logs()

    def predict_on_batch(self, x):
        """The outputs for one batch, as NumPy."""
        x = cast_structure(to_numpy(x, "x"), input_dtype)
        with no_grad():
            return _to_numpy_outputs(self(_as_model_input(x), training=False))


def _pack(x, y, sample_weight):
    """A batch as Keras hands it to ``train_step``: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return (x,)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def _plain_logs(logs) -> dict:
    """A custom step's logs with Tensors and NumPy scalars as Python floats (as History keeps them); a dict value
    (``compile_metrics``' result) is spread into the logs, as Keras does."""
    plain = {}
    for key, value in dict(logs or {}).items():
        if isinstance(value, dict):
            plain.update(_plain_logs(value))
            continue
        value = value.data if isinstance(value, Tensor) else value
        value = np.asarray(value)
        plain[key] = float(value) if value.size == 1 else value.tolist()
    return plain


def _should_validate(epoch: int, freq) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _to_numpy_outputs(out):
    return out.numpy() if isinstance(out, Tensor) else tree.map_structure(np.asarray, out)


def _concat_outputs(chunks: list):
    first = chunks[0]
    if isinstance(first, dict):
        return {key: np.concatenate([c[key] for c in chunks]) for key in first}
    if isinstance(first, list):
        return [np.concatenate([c[i] for c in chunks]) for i in range(len(first))]
    return np.concatenate(chunks)
