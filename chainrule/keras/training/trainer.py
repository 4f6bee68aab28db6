"""The training loop of every model: ``compile``, ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` calls.

One training step is :meth:`Trainer.train_step`, as Keras writes it::

    y_pred = model(x, training=True)                      # the forward pass records the graph
    loss = compute_loss(x, y, y_pred, sample_weight)      # the compiled loss + model.losses
    grads = backprop(loss) for the trainable variables    # chainrule.engine.autograd, one walk of the graph
    optimizer.apply(grads, trainable_variables)           # in-place updates (skipped for a non-finite loss)
    loss trackers and metrics .update_state(...)          # no graph, plain arrays

``fit``, ``evaluate`` and ``predict`` (and the ``*_on_batch`` calls) run ``train_step``, ``test_step`` and
``predict_step``, a subclass's own too, through the engine's tracer (chainrule/engine/tracer.py), as Keras runs them
in a ``tf.function``: traced on the first batches of each input signature, replayed afterwards, eager where a trace
is refused or under ``compile(run_eagerly=True)``. A loss that is NaN or infinite is never applied: the step is
skipped, training stops, and a RuntimeWarning names the epoch and the batch.
"""
from __future__ import annotations

import functools
import inspect
import math
import sys
import warnings

import numpy as np

from chainrule import backend, ops
from chainrule.engine.autograd import _backprop, no_grad
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor
from chainrule.engine.tracer import TracedFunction, as_inputs
from chainrule.keras.training.adapters import (ArrayAdapter, EpochIterator, _class_weight_table, cast_structure,
                                         check_one_weighting, class_weights_for, input_dtype, make_adapter,
                                         num_rows, target_dtype, to_numpy, unpack)
from chainrule.keras import distribution as _distribution
from chainrule.keras.training.array_checks import accepts_text_inputs
from chainrule.keras.layers.base import added_metrics
from chainrule.keras.metrics import Mean
from chainrule.keras.training.argument_checks import check_arguments, expected_inputs, input_count
from chainrule.keras.training.compile_utils import CompiledLoss, CompiledMetrics
from chainrule.utils import tree


def _resolve_verbose(verbose) -> int:
    """'auto': a live bar (1) on a terminal, one line per epoch (2) elsewhere (logs, pipes, notebooks' files)."""
    if verbose == "auto":
        isatty = getattr(sys.stdout, "isatty", None)
        return 1 if isatty is not None and isatty() else 2
    return int(verbose)


def _output_array(y_pred):
    """The model's output(s) as arrays: one array, or a list in output order (a dict's values)."""
    if isinstance(y_pred, Tensor):
        return y_pred.data
    if isinstance(y_pred, dict):
        y_pred = list(y_pred.values())
    return tree.map_structure(_array, y_pred)


def _array(value):
    """A Tensor's array; anything else as it is (None stays None)."""
    return value.data if isinstance(value, Tensor) else value


def _arrays(structure):
    """A Tensor (alone or in lists and dicts) as arrays."""
    return structure.data if type(structure) is Tensor else tree.map_structure(_array, structure)


@functools.lru_cache(maxsize=None)
def _takes_training(compute_loss) -> bool:
    """Whether a ``compute_loss`` function has a ``training`` argument (or takes ``**kwargs``)."""
    parameters = inspect.signature(compute_loss).parameters.values()
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in parameters)


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
        self.run_eagerly = False
        self._step_functions: dict[str, TracedFunction] = {}  # 'train', 'test', 'predict' -> its traced step
        self._step_loss = 0.0  # the last training batch's loss
        self._distribution = None  # the distribution compile ran under (chainrule.keras.distribution)

    # --- compile ---------------------------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=1, jit_compile=None, auto_scale_loss=True, **kwargs) -> None:
        """Choose the optimizer, the loss and the metrics (strings or objects, as Keras takes them).

        As in Keras, ``fit`` traces a training step and replays it (chainrule/engine/tracer.py) unless
        ``run_eagerly=True``, which runs every step through the layers (for debugging a layer's ``call``).
        ``jit_compile`` and ``steps_per_execution`` are accepted for compatibility and change nothing.
        """
        from chainrule.keras import optimizers

        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments: {sorted(kwargs)}")
        self.optimizer = optimizers.get(optimizer)
        self._distribution = _distribution.distribution()
        if self._distribution is not None:  # (a strategy's scope: the optimizer combines the ranks' gradients)
            self.optimizer = self._distribution.distribute_optimizer(self.optimizer)
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16" and \
                not isinstance(self.optimizer, optimizers.LossScaleOptimizer):  # Keras 3: float16 needs loss scaling
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
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
        self._step_functions = {}

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
        for metric in self.metrics + added_metrics(self):
            reset = getattr(metric, "reset_state", None)
            if reset is not None:
                reset()

    @replayed
    def _logs(self) -> dict:
        if self._distribution is not None:  # the metrics' state summed over the ranks while the logs are read
            with self._distribution.summed_metrics(self.metrics + self._output_losses):
                return self._local_logs()
        return self._local_logs()

    def _local_logs(self) -> dict:
        logs = {"loss": float(self._loss_tracker.result())}
        if self._output_losses:
            logs.update((t.name, float(t.result())) for t in self._output_losses)
        if self._compiled_metrics is not None and self._compiled_metrics.built:
            logs.update(self._compiled_metrics.results())
        logs.update((tracker.name, float(tracker.result())) for tracker in added_metrics(self))
        return logs

    # --- one batch ------------------------------------------------------------------------------------------------
    def _prepare_training(self) -> None:
        """What the step needs and does not recompute: the variables to update."""
        self._train_vars = list(self.trainable_variables)

    def _penalty(self):
        """The sum of ``self.losses``: the losses the forward pass added (``add_loss``, activity penalties, in nested
        layers too) and the weight penalties, each summed to a scalar as Keras 3 does; None when there are none."""
        total = None
        for term in self.losses:
            if term.dtype.kind != "f":
                term = ops.cast(term, backend.floatx())
            term = ops.sum(term) if term.ndim else term
            total = term if total is None else total + term
        return total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The compiled loss of ``y_pred`` against ``y`` plus the model's losses (``self.losses``: ``add_loss``,
        regularization), a scalar Tensor; either may be missing, not both (Keras 3)."""
        if self._train_vars is None:
            self._prepare_training()
        loss = None if self._compiled_loss is None else self._compiled_loss(y, y_pred, sample_weight)
        penalty = self._penalty()
        if penalty is not None:
            loss = penalty if loss is None else loss + penalty
        if loss is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return loss

    def _compute_loss(self, x, y, y_pred, sample_weight, training: bool):
        """``compute_loss``, with ``training`` only when it takes that argument (an override, such as keras-io's
        Distiller's, may not), as Keras 3 calls it."""
        if _takes_training(type(self).compute_loss):
            return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)

    def train_step(self, data) -> dict:
        """One training step on ``data = (x, y, sample_weight)``: forward, loss, gradients, the update, the metrics;
        returns the logs. Override it to customize ``fit`` (return a dict of logs, as in Keras); it is traced and
        replayed like the built-in one unless it works outside the ops."""
        self._train_batch(data)
        return self._logs()

    def test_step(self, data) -> dict:
        """The loss and the metrics of one batch, without updating the weights; returns the logs."""
        self._test_batch(data)
        return self._logs()

    def predict_step(self, data):
        """The model's outputs for one batch (``data`` is ``(x,)`` or ``x``)."""
        x, _, _ = unpack(data)
        return self(x, training=False)

    # the built-in steps without their logs: what fit and evaluate trace when the steps are not overridden, the logs
    # being read only when a callback asks for them
    def _train_batch(self, data) -> None:
        x, y, sample_weight = unpack(data)
        y_pred = self(x, training=True)
        if self._train_vars is None:  # (here too: a subclass's compute_loss need not call the built-in one)
            self._prepare_training()
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        grads = None
        if loss.requires_grad and self._train_vars:
            scaled = self.optimizer.scale_loss(loss) if hasattr(self.optimizer, "scale_loss") else loss  # Keras 3
            found = _backprop((scaled,), (backend.xp.ones_like(scaled.data),), False,
                              {id(v) for v in self._train_vars})
            grads = [found[id(v)][1] if id(v) in found else None for v in self._train_vars]
        self._apply_step(loss, grads, self._loss_terms(), num_rows(x))
        if self._has_metrics():
            self._update_metrics(y, y_pred, sample_weight)

    def _test_batch(self, data) -> None:
        x, y, sample_weight = unpack(data)
        y_pred = self(x, training=False)
        if self._train_vars is None:
            self._prepare_training()
        has_loss = self._compiled_loss is not None or self._custom("compute_loss") or self.losses
        loss = self._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False) \
            if has_loss else None
        self._track_losses(loss, self._loss_terms(), num_rows(x))
        if self._has_metrics():
            self._update_metrics(y, y_pred, sample_weight)

    def _loss_terms(self) -> list:
        """Each output's loss of the step just computed, for a model with several losses."""
        compiled = self._compiled_loss
        return list(compiled.last_terms) if compiled is not None and compiled.term_names else []

    @replayed
    def _apply_step(self, loss, grads, terms: list, rows: int) -> None:
        """The update of a training step and its loss trackers; nothing is applied when the loss is not finite.
        On a device the loss is not read here (that would wait for the step to finish): the update tests it on the
        device, and ``_step_loss`` is the loss still on the device, which ``fit`` reads a step later."""
        data = loss.data
        if backend.is_device_array(data) and self._distribution is None:
            if grads is not None and _skips_non_finite(self.optimizer):
                self.optimizer.apply(grads, self._train_vars, only_if_finite=data)
            elif grads is not None and math.isfinite(backend.to_host(data).reshape(-1)[0]):  # (an optimizer of
                self.optimizer.apply(grads, self._train_vars)  # its own: the loss is read here, as on the CPU)
            object.__setattr__(self, "_step_loss", data)
            self._add_losses(loss, terms, rows)
            return
        value = float(data)
        if self._distribution is not None:  # the update, and the global batch's loss (every rank skips alike)
            value = self._distribution.apply_step(self.optimizer, grads, self._train_vars, value, rows)
        elif grads is not None and math.isfinite(value):
            self.optimizer.apply(grads, self._train_vars)
        object.__setattr__(self, "_step_loss", value)  # (a float: no layer tracking to run)
        self._add_losses(loss, terms, rows)

    def _add_losses(self, loss, terms: list, rows: int) -> None:
        """Add a batch's loss to the 'loss' tracker, and each output's to its own when the model has several (a
        loss on a device is added there: read only when the logs are)."""
        self._loss_tracker.update_state(0.0 if loss is None else _scalar(loss.data), sample_weight=rows)
        compiled = self._compiled_loss
        if not terms:
            return
        if not self._output_losses:
            self._output_losses = [Mean(name=name) for name in compiled.term_names]
        for tracker, term in zip(self._output_losses, terms):
            tracker.update_state(_scalar(term.data), sample_weight=rows)

    _track_losses = replayed(_add_losses)  # (test_step's: its own replayed call)

    def _has_metrics(self) -> bool:
        cm = self._compiled_metrics
        return cm is not None and bool(cm.spec or cm.weighted_spec)

    @replayed
    def _update_metrics(self, y, y_pred, sample_weight) -> None:
        cm = self._compiled_metrics
        preds = _output_array(y_pred)
        y, sample_weight = _arrays(y), _arrays(sample_weight)
        if not cm.built:
            cm.build(y, preds)
        cm.update(y, preds, sample_weight)

    def _step_function(self, kind: str):
        """``train_step``, ``test_step`` or ``predict_step`` as ``fit`` and the others run it: traced (one
        :class:`~chainrule.engine.tracer.TracedFunction` per kind, kept until ``compile`` or the end of ``fit``),
        or eager under ``run_eagerly``; either way it gets the batch as Tensors. A built-in train or test step runs
        without its logs (None), which the caller reads with ``_logs()`` when it needs them."""
        step = getattr(self, f"{kind}_step" if kind == "predict" or self._custom(f"{kind}_step") else f"_{kind}_batch")
        if getattr(self, "run_eagerly", False):
            traced = lambda data: step(*as_inputs((data,), {})[0])  # noqa: E731
        else:
            traced = self._step_functions.get(kind)
            if traced is None or traced.python_function != step:
                traced = self._step_functions[kind] = TracedFunction(step, name=f"{type(self).__name__}.{kind}_step")
        if self._distribution is not None and kind != "predict":  # each rank runs its share of the global batch
            return lambda data: self._distribution.run_step(traced, data, self)
        return traced

    def _custom(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(Trainer, name)

    # --- fit ------------------------------------------------------------------------------------------------------
    @accepts_text_inputs  # a model with a string input takes text as x
    def fit(self, x=None, y=None, batch_size=None, epochs: int = 1, verbose="auto", callbacks=None,
            validation_split: float = 0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch: int = 0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; return the :class:`~chainrule.keras.callbacks.History` (``.history`` holds
        'loss', the metrics, and 'val_...' when there is validation data)."""
        from chainrule.keras.callbacks import CallbackList

        self._assert_compiled("fit")
        from chainrule.keras.global_settings import max_epochs

        if max_epochs() and max_epochs() < epochs:  # keras.config.set_max_epochs, for quick debugging runs
            warnings.warn(f"Limiting epochs to {max_epochs()}", stacklevel=2)
            epochs = max_epochs()
        check_arguments(batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch,
                        steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                        validation_batch_size=validation_batch_size, validation_split=validation_split,
                        validation_freq=validation_freq)
        input_count(x, expected_inputs(self), self.name)
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
        if self._distribution is not None:  # callbacks, progress bar and their files on rank 0 only
            callbacks, verbose = self._distribution.rank_callbacks(callbacks, verbose)
        callbacks = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                 verbose=verbose, epochs=epochs, steps=train_iterator.steps)
        self.stop_training = False
        self._train_vars = None
        self._step_functions = {}
        train_function = self._step_function("train")
        custom_step = self._custom("train_step")
        training_logs = None
        callbacks.on_train_begin()
        if self._distribution is not None:  # every rank from rank 0's weights, optimizer state and generator
            self._distribution.begin_training(self)
        resume = self.__dict__.pop("_resume_point", None)  # BackupAndRestore's: where an interrupted fit stopped
        if resume is not None:
            initial_epoch = resume.epoch
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
            batches, first = train_iterator.epoch(), 0
            if resume is not None and epoch == resume.epoch:  # the batches done before the interruption skipped
                batches, first = resume.continue_epoch(batches), resume.batch
            pending = None  # (step, reader) of a loss still on the device, read after the next step's launch
            for step, data in enumerate(batches, first):
                if batch_hooks:
                    object.__setattr__(self, "_train_batch_data", data)  # the batch, for callbacks (GradientHealth)
                    callbacks.on_train_batch_begin(step)
                logs = train_function(_pack(*data))
                checked = step
                if custom_step:
                    logs = _plain_logs(logs)
                    value = logs.get("loss", 0.0)
                else:
                    value = self._step_loss
                    if type(value) is not float:  # on a device: this step's loss read later, the last one's now
                        later = (step, backend.extras_for(value).read_later(value))
                        value, checked = (0.0, step) if pending is None else (pending[1](), pending[0])
                        pending = later
                    if batch_hooks:
                        logs = self._logs()
                steps += 1
                if not math.isfinite(value):
                    _stop_on_loss(self, value, epoch, checked)
                if batch_hooks:
                    callbacks.on_train_batch_end(step, logs)
                if self._distribution is not None:  # what rank 0's callbacks changed
                    self._distribution.sync_training_state(self, batch=True)
                if self.stop_training:
                    break
            if pending is not None and not self.stop_training and not math.isfinite(value := pending[1]()):
                _stop_on_loss(self, value, epoch, pending[0])
            if steps == 0 and first == 0 and epoch == initial_epoch:
                raise ValueError(f"Expected input data to be non-empty: x ({type(x).__name__}) gave no batch")
            if callbacks.progbar is not None:
                callbacks.progbar.seen = steps
            epoch_logs = dict(logs) if custom_step and logs is not None else self._logs()
            if val_iterator is not None and _should_validate(epoch, validation_freq):
                val_logs = self._evaluate_iterator(val_iterator, callbacks)
                epoch_logs.update({"val_" + name: value for name, value in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self._distribution is not None:
                self._distribution.sync_training_state(self)
            training_logs = epoch_logs
            if self.stop_training:
                break
        if epochs > 0 and hasattr(self.optimizer, "finalize_variable_values"):  # use_ema: the averages now
            self.optimizer.finalize_variable_values(self.trainable_weights)
        callbacks.on_train_end(training_logs)
        self._step_functions = {}  # the traces hold a step's arrays
        return callbacks.history

    @staticmethod
    def _validation_adapter(validation_data, batch_size):
        if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and \
                not hasattr(validation_data, "as_numpy_iterator"):
            vx, vy, vsw = unpack(tuple(validation_data))
            return make_adapter(vx, vy, vsw, batch_size=batch_size, shuffle=False)
        return make_adapter(validation_data, batch_size=batch_size, shuffle=False)

    # --- evaluate ---------------------------------------------------------------------------------------------------
    @accepts_text_inputs
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict: bool = False, **kwargs):
        """The loss (and metrics) on the data: a float, ``[loss, metric...]``, or a dict with ``return_dict``."""
        from chainrule.keras.callbacks import CallbackList

        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments: {sorted(kwargs)}")
        self._assert_compiled("evaluate")
        check_arguments(batch_size=batch_size, steps=steps)
        input_count(x, expected_inputs(self), self.name)
        iterator = EpochIterator(make_adapter(x, y, sample_weight, batch_size=batch_size or 32), steps)
        verbose = _resolve_verbose(verbose)
        if self._distribution is not None:
            callbacks, verbose = self._distribution.rank_callbacks(callbacks, verbose)
        callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                 steps=iterator.steps)
        logs = self._evaluate_iterator(iterator, callbacks)
        return logs if return_dict else self._flat_results(logs)

    def _evaluate_iterator(self, iterator: EpochIterator, callbacks) -> dict:
        self.reset_metrics()
        custom_step = self._custom("test_step")
        test_function = self._step_function("test")
        callbacks.on_test_begin()
        batch_hooks = callbacks._implements_test_batch_hooks
        logs = None
        step = -1
        with no_grad():
            for step, data in enumerate(iterator.epoch()):
                if batch_hooks:
                    callbacks.on_test_batch_begin(step)
                logs = test_function(_pack(*data))
                if custom_step:
                    logs = _plain_logs(logs)
                elif batch_hooks:
                    logs = self._logs()
                if batch_hooks:
                    callbacks.on_test_batch_end(step, logs)
                if callbacks.progbar is not None and not callbacks.progbar._in_fit:
                    callbacks.progbar.seen = step + 1
        if step < 0:
            raise ValueError("Expected input data to be non-empty: the evaluation data gave no batch")
        logs = dict(logs) if custom_step and logs is not None else self._logs()
        callbacks.on_test_end(logs)
        return logs

    def _flat_results(self, logs: dict):
        values = [logs[name] for name in self.metrics_names if name in logs]
        values += [value for name, value in logs.items() if name not in self.metrics_names]
        return values[0] if len(values) == 1 else values

    # --- predict ------------------------------------------------------------------------------------------------------
    @accepts_text_inputs
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` as a NumPy array (a list or dict of arrays for several outputs)."""
        from chainrule.keras.callbacks import CallbackList

        check_arguments(batch_size=batch_size, steps=steps)
        input_count(x, expected_inputs(self), self.name)
        iterator = EpochIterator(make_adapter(x, batch_size=batch_size or 32), steps)
        verbose = _resolve_verbose(verbose)
        callbacks = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                 steps=iterator.steps)
        callbacks.on_predict_begin()
        batch_hooks = callbacks._implements_predict_batch_hooks
        chunks = []
        predict_function = self._step_function("predict")
        with no_grad():
            for step, (bx, _, _) in enumerate(iterator.epoch()):
                if batch_hooks:
                    callbacks.on_predict_batch_begin(step)
                chunks.append(_to_numpy_outputs(predict_function((bx,))))
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

    @accepts_text_inputs
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One update on one batch; returns this batch's loss (and metrics): as Keras 3, it resets the metrics
        first, so nothing carries over from earlier calls, ``fit`` or ``evaluate``."""
        self._assert_compiled("train_on_batch")
        self.reset_metrics()
        logs = self._one_batch("train", self._batch_arrays(x, y, sample_weight, class_weight))
        return logs if return_dict else self._flat_results(logs)

    @accepts_text_inputs
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """The loss (and metrics) on one batch, without updating the weights (the metrics reset first, as Keras 3)."""
        self._assert_compiled("test_on_batch")
        self.reset_metrics()
        with no_grad():
            logs = self._one_batch("test", self._batch_arrays(x, y, sample_weight, None))
        return logs if return_dict else self._flat_results(logs)

    def _one_batch(self, kind: str, data) -> dict:
        """``train_step`` or ``test_step`` (traced, as in ``fit``) on one batch; its logs."""
        logs = self._step_function(kind)(_pack(*data))
        return _plain_logs(logs) if self._custom(f"{kind}_step") else self._logs()

    @accepts_text_inputs
    def predict_on_batch(self, x):
        """The outputs for one batch, as NumPy."""
        x = cast_structure(to_numpy(x, "x"), input_dtype)
        with no_grad():
            return _to_numpy_outputs(self._step_function("predict")((x,)))


def _pack(x, y, sample_weight):
    """A batch as Keras hands it to ``train_step``: ``x`` (``(x,)`` when x is a tuple or list), ``(x, y)`` or
    ``(x, y, sample_weight)``; as Keras's ``pack_x_y_sample_weight``, so a VAE's step gets its images as they are."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def _stop_on_loss(model, value: float, epoch: int, step: int) -> None:
    """End ``fit`` after a non-finite loss (whose update was not applied), with a warning that says where."""
    model.stop_training = True
    warnings.warn(f"fit: the loss is {value} at epoch {epoch + 1}, batch {step + 1} (step {step}); this batch's "
                  f"update was not applied and training stopped. Lower the learning rate, check the data for "
                  f"NaN/inf, or clip gradients (clipnorm=).", RuntimeWarning, stacklevel=3)


def _scalar(data):
    """A loss's value for its tracker: a float from a NumPy array, the array itself from a device (read later)."""
    return data if backend.is_device_array(data) else float(data)


@functools.lru_cache(maxsize=None)
def _takes_only_if_finite(apply) -> bool:
    return "only_if_finite" in inspect.signature(apply).parameters


def _skips_non_finite(optimizer) -> bool:
    """Whether ``optimizer.apply`` takes ``only_if_finite`` (chainrule's optimizers; not a user's own class)."""
    apply = getattr(type(optimizer), "apply", None)
    return apply is not None and _takes_only_if_finite(getattr(apply, "replays", apply))




def _plain_logs(logs) -> dict:
    """A custom step's logs with Tensors and NumPy scalars as Python floats (as History keeps them); a dict value
    (``compile_metrics``' result) is spread into the logs, as Keras does."""
    plain = {}
    for key, value in dict(logs or {}).items():
        if isinstance(value, dict):
            plain.update(_plain_logs(value))
            continue
        value = value.data if isinstance(value, Tensor) else value
        value = backend.to_host(value) if backend.is_array(value) else np.asarray(value)  # (a device's: read here)
        plain[key] = float(value) if value.size == 1 else value.tolist()
    return plain


def _should_validate(epoch: int, freq) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _to_numpy_outputs(out):
    return out.numpy() if isinstance(out, Tensor) else tree.map_structure(np.asarray, out)


def _concat_outputs(chunks: list):
    # each output's batches joined, in the outputs' own nesting (lists, tuples, dicts, nested or not)
    return tree.map_structure(lambda *batches: np.concatenate(batches), *chunks)
