"""What ``compile`` sets up: the loss over the model's output(s) and the metrics, with Keras's naming.

- :class:`CompiledLoss`: one loss for a single output, or one per output (a list in output order, or a dict keyed by
  output name) weighted by ``loss_weights``; called as ``loss(y_true, y_pred, sample_weight) -> scalar Tensor``.
- :class:`CompiledMetrics`: the metrics, resolved on the first batch (``'accuracy'`` needs the loss and the output
  shape to pick binary, categorical or sparse accuracy), updated with Tensors (as Keras hands them to a metric's
  ``update_state``), and named as Keras names them in ``logs`` and ``History`` (``accuracy``, ``val_accuracy``; per
  output ``<output>_<metric>`` for several outputs).

The running mean of the loss is a ``keras.metrics.Mean`` named 'loss', updated with the batch size as its weight,
as Keras's loss tracker.

>>> import numpy as np
>>> loss = CompiledLoss("mse")
>>> float(loss(np.zeros((2, 1)), np.ones((2, 1), "float32"), None))
1.0
"""
from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, as_tensor


class CompiledLoss:
    """The total loss of a model's outputs: ``sum_i loss_weights[i] * loss_i(y_true[i], y_pred[i], sample_weight)``."""

    def __init__(self, loss, loss_weights=None, output_names: list[str] | None = None):
        from chainrule.keras import losses
        from chainrule.keras.configurable import is_serialized

        self.spec = loss
        self.output_names = list(output_names or [])
        if isinstance(loss, dict) and not is_serialized(loss):  # a loss per output name
            unknown = [k for k in loss if self.output_names and k not in self.output_names]
            if unknown:
                raise ValueError(f"compile(loss=...) names outputs {unknown} that the model does not have; its "
                                 f"outputs are {self.output_names}")
            names = self.output_names or list(loss)
            self.losses = [losses.get(loss.get(name)) for name in names]
        elif isinstance(loss, (list, tuple)):
            self.losses = [losses.get(item) for item in loss]
        else:
            self.losses = [losses.get(loss)]
        self.single = is_serialized(loss) or not isinstance(loss, (dict, list, tuple))
        n = len(self.losses)
        if loss_weights is None:
            self.weights = [1.0] * n
        elif isinstance(loss_weights, dict):
            names = self.output_names or (list(loss) if isinstance(loss, dict) else [])
            self.weights = [float(loss_weights.get(name, 1.0)) for name in names]
        elif isinstance(loss_weights, (list, tuple)):
            if len(loss_weights) != n:
                raise ValueError(f"loss_weights has {len(loss_weights)} entries for {n} losses")
            self.weights = [float(w) for w in loss_weights]
        else:
            self.weights = [float(loss_weights)] * n
        self.fn = self.losses[0] if self.single else None
        self.scale = self.weights[0] if self.single else None
        # several outputs with a loss: each output's unweighted loss of the last call, for the '<output>_loss' logs
        self.term_names: list[str] = []
        self.last_terms: list[Tensor] = []

    def __call__(self, y_true, y_pred, sample_weight) -> Tensor:
        if self.single and not isinstance(y_pred, (list, tuple, dict)):
            if not _user_function(self.fn):
                check_target_shape(y_true, y_pred)
            value = self.fn(y_true, y_pred, sample_weight)
            return value if self.scale == 1.0 else value * self.scale
        preds = _as_list(y_pred, self.output_names)
        trues = _as_list(y_true, self.output_names) if isinstance(y_true, (list, tuple, dict)) else [y_true]
        fns = self.losses if len(self.losses) == len(preds) else self.losses * len(preds)
        if len(trues) == 1 < len(preds) and sum(fn is not None for fn in fns) == 1:
            trues = [y_true if fn is not None else None for fn in fns]  # one target, for the one output with a loss
        if len(trues) != len(preds):
            raise ValueError(f"The model has {len(preds)} outputs but {len(trues)} targets were given")
        total, terms, names = None, [], []
        for i, (fn, w, t, p) in enumerate(zip(fns, self.weights * (len(preds) // len(self.weights) or 1), trues,
                                              preds)):
            if fn is None:
                continue
            if not _user_function(fn):
                check_target_shape(t, p)
            term = fn(t, p, sample_weight)
            terms.append(term)
            names.append(f"{self.output_names[i] if i < len(self.output_names) else f'output_{i}'}_loss")
            term = term if w == 1.0 else term * w
            total = term if total is None else total + term
        if total is None:
            raise ValueError("No loss to compute: every output's loss is None")
        if len(terms) > 1:  # Keras logs each output's loss beside the total when there are several
            self.term_names, self.last_terms = names, terms
        return total


def _as_list(structure, names: list[str]) -> list:
    if isinstance(structure, dict):
        if names:
            missing = [n for n in names if n not in structure]
            if missing:
                raise ValueError(f"Missing data for outputs {missing}; expected keys {names}")
            return [structure[n] for n in names]
        return list(structure.values())
    if isinstance(structure, (list, tuple)):
        return list(structure)
    return [structure]


def _user_function(loss) -> bool:
    """Whether ``loss`` wraps a user's own function, whose targets may have any shape (CTC labels, as Keras lets)."""
    from chainrule.keras import losses

    return isinstance(loss, losses.LossFunctionWrapper) and getattr(loss.fn, "__module__", None) != losses.__name__


def check_target_shape(y_true, y_pred) -> None:
    """A clear error when the targets cannot match the model's output, naming both shapes."""
    if y_true is None:
        raise ValueError("The model was compiled with a loss, but no target (y) was given")
    t_shape = getattr(y_true, "shape", None)
    p_shape = getattr(y_pred, "shape", None)
    if t_shape is None or p_shape is None:
        return
    if len(t_shape) and len(p_shape) and t_shape[0] != p_shape[0]:
        raise ValueError(f"Target and output batch sizes differ: y has shape {tuple(t_shape)} but the model output "
                         f"has shape {tuple(p_shape)}")
    t_rest, p_rest = tuple(t_shape[1:]), tuple(p_shape[1:])
    if t_rest == p_rest:
        return
    # class ids against class scores: (N,) or (N, 1) vs (N, k); (N,) vs (N, 1)
    if len(t_rest) <= 1 and (t_rest in ((), (1,)) or p_rest == ()) and len(p_rest) <= 1:
        return
    if len(t_rest) == len(p_rest) - 1 and t_rest == p_rest[:-1]:
        return  # sparse labels of a sequence / image output
    if len(t_rest) == len(p_rest) and t_rest[:-1] == p_rest[:-1] and t_rest[-1:] == (1,):
        return
    raise ValueError(f"Target y has shape {tuple(t_shape)}, which is incompatible with the model output of shape "
                     f"{tuple(p_shape)}. (One-hot targets need the output's last size; integer class ids need a "
                     f"sparse loss such as 'sparse_categorical_crossentropy'.)")


class CompiledMetrics:
    """The compiled metrics of each output, created on the first batch and fed NumPy arrays."""

    def __init__(self, metrics, weighted_metrics=None, loss=None, output_names: list[str] | None = None):
        self.spec = metrics
        self.weighted_spec = weighted_metrics
        self.loss = loss
        self.output_names = list(output_names or [])
        self.built = False
        self.entries: list[tuple[int, Any, bool]] = []  # (output index, metric, weighted)
        self.names: list[str] = []

    @property
    def metrics(self) -> list:
        return [m for _, m, _ in self.entries]

    def build(self, y_true, y_pred) -> None:
        from chainrule.keras import metrics as metrics_module

        preds = list(y_pred) if isinstance(y_pred, (list, tuple)) else [y_pred]  # a tuple of outputs too
        trues = _as_list(y_true, self.output_names) if len(preds) > 1 else [y_true]
        losses = self.loss.losses if isinstance(self.loss, CompiledLoss) else [self.loss]
        self.entries, self.names = [], []
        multi = len(preds) > 1
        for weighted, spec in ((False, self.spec), (True, self.weighted_spec)):
            for i, ids in enumerate(_per_output(spec, len(preds), self.output_names)):
                for identifier in ids:
                    loss = losses[i] if i < len(losses) else losses[0]
                    label = trues[i] if i < len(trues) else None
                    metric = metrics_module.get(identifier, loss=loss, output_shape=tuple(preds[i].shape),
                                                label_shape=None if label is None else tuple(np.shape(label)))
                    name = metric.name
                    if multi and self.output_names:
                        name = f"{self.output_names[i]}_{name}"
                    if weighted and name in self.names:
                        name = f"weighted_{name}"
                    self.entries.append((i, metric, weighted))
                    self.names.append(name)
        self.built = True

    def update(self, y_true, y_pred, sample_weight) -> None:
        """Update with the model output (an array or Tensor, or a list of them) and the targets; each metric gets
        Tensors, as in Keras (wrapping an array copies nothing)."""
        if not self.entries:
            return
        preds = list(y_pred) if isinstance(y_pred, (list, tuple)) else None
        trues = _as_list(y_true, self.output_names) if preds is not None else None
        weight = _tensor(sample_weight)
        for i, metric, weighted in self.entries:
            t = _tensor(y_true if preds is None else trues[i])
            p = _tensor(y_pred if preds is None else preds[i])
            if weighted and weight is not None:
                metric.update_state(t, p, sample_weight=weight)
            else:
                metric.update_state(t, p)

    def results(self) -> list[tuple[str, float]]:
        """(name, value) of each metric; a metric whose result is a dict gives its entries (as Keras's logs)."""
        found = []
        for name, (_, metric, _) in zip(self.names, self.entries):
            result = metric.result()
            if isinstance(result, dict):
                found.extend((key, _to_float(value)) for key, value in result.items())
            else:
                found.append((name, _to_float(result)))
        return found

    def reset(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    # Keras 3's CompileMetrics, as ``model.metrics`` holds it before the first batch: a custom train_step's
    # ``metric.update_state(y, y_pred)`` builds the metrics and updates them; ``result()`` is a dict of them all
    name = "compile_metrics"

    @replayed
    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _arrays(y_true), _arrays(y_pred)
        if not self.built:
            self.build(y_true, y_pred)
        self.update(y_true, y_pred, sample_weight)

    @replayed
    def result(self) -> dict:
        return dict(self.results())

    @replayed
    def reset_state(self) -> None:
        self.reset()


def _arrays(value):
    """Tensors (alone, or in a list or dict) as NumPy arrays."""
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_arrays(v) for v in value]
    return value.numpy() if isinstance(value, Tensor) else value


def _per_output(spec, n_outputs: int, output_names: list[str]) -> list[list]:
    """The metric identifiers of each output, from a list (all outputs, or one list per output) or a dict."""
    if spec is None:
        return [[] for _ in range(n_outputs)]
    if isinstance(spec, dict):
        names = output_names or list(spec)
        return [_as_ids(spec.get(name)) for name in names]
    if isinstance(spec, (list, tuple)):
        if n_outputs > 1 and len(spec) == n_outputs and all(isinstance(s, (list, tuple)) or s is None for s in spec):
            return [_as_ids(s) for s in spec]
        return [list(spec)] + [list(spec) for _ in range(n_outputs - 1)] if n_outputs > 1 else [list(spec)]
    return [[spec] for _ in range(n_outputs)]


def _as_ids(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _tensor(value):
    """An array (or number, or list) as a Tensor; a Tensor and None as they are."""
    if value is None or isinstance(value, Tensor):
        return value
    # a NumPy batch moves to the backend's device once here (no copy on the NumPy backend)
    return Tensor._wrap(backend.to_device(value)) if isinstance(value, np.ndarray) else as_tensor(value)


def _to_float(value) -> float:
    if isinstance(value, Tensor):
        value = value.data
    value = backend.to_host(value) if backend.is_array(value) else np.asarray(value)
    return float(value) if value.size == 1 else value.tolist()
