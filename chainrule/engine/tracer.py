"""Recorded training steps: what ``fit`` replays once a batch shape has been seen, as Keras's ``fit`` runs a traced
``tf.function`` unless the model is compiled with ``run_eagerly=True``.

A training step is ops all the way down, so the ops it ran say everything about it. The second step of each batch
shape runs eagerly while ``Function.apply`` records every op it runs: the op object, where each input came from
(the batch ``x`` or ``y``, a weight, an earlier op's output, or a plain number) and its settings. Later steps with
batches of that shape replay the record: each op's ``forward`` on the new arrays, in the recorded order, then the
``backward`` of the ops between the loss and the weights, newest first and with the gradients summed in the order
the engine's own walk (``autograd._backprop``) uses. No Tensor, layer call or loss wrapper is made, so a step costs
its array work plus about a microsecond per op; the results are the eager step's, bit for bit.

>>> import numpy as np, chainrule as cr
>>> model = cr.keras.Sequential([cr.keras.layers.Dense(3, activation="relu", input_shape=(4,)),
...                              cr.keras.layers.Dense(2, activation="softmax")])
>>> model.compile(optimizer="sgd", loss="categorical_crossentropy")
>>> x, y = np.ones((4, 4), "float32"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
>>> for _ in range(3):  # the first step builds, the second is recorded, the third replayed
...     _ = model.train_on_batch(x, y)
>>> [type(fn).__name__ for fn in model._step_records[(x.shape, "<f4", y.shape, "<f4")].ops]
['LinearRelu', 'Linear', 'Softmax', 'SoftmaxCrossEntropy', 'Sum']

A step is recorded only where replaying it is sure to repeat it; otherwise every step stays eager:
- every layer, activation, loss and regularizer is one of chainrule's own, whose work is all in ops (Dropout draws
  its mask inside its op, BatchNormalization updates its moving averages with one; a Lambda, a subclassed model or
  a user's loss may draw random numbers, keep state or compute outside the ops, which a replay would not repeat);
- one array ``x``, one array ``y``, no sample weights;
- each op input is the batch, a weight, an earlier op's output or a plain number (an array made outside the ops,
  such as labels converted with NumPy, refuses the record), and no op setting is an array.
"""
from __future__ import annotations

import numpy as np

from chainrule import backend
from chainrule.engine import function
from chainrule.engine.tensor import Tensor, Variable

# where an op input comes from, as (kind, payload)
OUTPUT, WEIGHT, BATCH_X, BATCH_Y, NUMBER = range(5)  # payload: op index, Variable, -, -, the value


class Refused(Exception):
    """The recorded step cannot be replayed (the message says why)."""


class RecordedStep:
    """The ops of one training step and where their inputs come from; :meth:`run` replays it on a new batch."""

    def __init__(self, records: list, x: np.ndarray, y: np.ndarray, y_pred: Tensor, loss: Tensor):
        by_tensor = {id(result): k for k, (_, _, _, result) in enumerate(records)}
        by_array = {id(result.data): k for k, (_, _, _, result) in enumerate(records)}
        self.ops = [fn for fn, _, _, _ in records]
        self.params = [params for _, _, params, _ in records]
        self.sources = [[_source(value, x, y, by_tensor, by_array) for value in inputs]
                        for _, inputs, _, _ in records]
        for fn, params in zip(self.ops, self.params):
            if _holds_array(params):
                raise Refused(f"op {type(fn).__name__} takes an array among its settings")
        self.pred_index = _output_index(y_pred, by_tensor, "the model's output")
        self.loss_index = _output_index(loss, by_tensor, "the loss")
        # the graph's nodes (ops that recorded a gradient path), newest first: the order backward runs them
        self.backward_order = [k for k in reversed(range(len(records))) if records[k][3].node is self.ops[k]]

    def run(self, x: np.ndarray, y: np.ndarray, variables: list) -> tuple[float, np.ndarray, list | None]:
        """Forward and backward on a new batch: (the loss, the model's output, one gradient per variable, or None
        for all when the loss is not finite)."""
        outputs = self._forward(x, y)
        loss = outputs[self.loss_index]
        value = float(loss)
        grads = None
        if np.isfinite(value) and variables:
            found = self._backward(outputs, backend.xp.ones_like(loss))
            grads = [found.get(id(v)) for v in variables]
        return value, outputs[self.pred_index], grads

    def _forward(self, x, y) -> list:
        outputs = []
        for fn, sources, params in zip(self.ops, self.sources, self.params):
            fn.arrays = arrays = [_value(kind, payload, outputs, x, y) for kind, payload in sources]
            out = fn.forward(*arrays, **params)
            fn.out = out
            outputs.append(out)
        return outputs

    def _backward(self, outputs: list, seed) -> dict:
        """{id(weight): gradient}, from the loss's gradient ``seed``."""
        pending: list = [None] * len(outputs)
        pending[self.loss_index] = seed
        found: dict = {}
        for k in self.backward_order:
            g = pending[k]
            if g is None:
                continue
            pending[k] = None
            fn = self.ops[k]
            grads = fn.backward(g)
            if type(grads) is not tuple:
                grads = (grads,)
            for (kind, payload), gx, needed in zip(self.sources[k], grads, fn.needs_input_grad):
                if not needed or gx is None:
                    continue
                if kind == OUTPUT:
                    pending[payload] = gx if pending[payload] is None else pending[payload] + gx
                else:  # a weight
                    key = id(payload)
                    found[key] = gx if key not in found else found[key] + gx
        return found


def _value(kind: int, payload, outputs: list, x, y):
    if kind == OUTPUT:
        return outputs[payload]
    if kind == WEIGHT:
        return payload.data
    if kind == BATCH_X:
        return x
    return y if kind == BATCH_Y else payload


def _source(value, x, y, by_tensor: dict, by_array: dict) -> tuple:
    """Where an op input comes from; Refused when it is an array made outside the recorded ops."""
    if isinstance(value, Tensor):
        if id(value) in by_tensor:
            return OUTPUT, by_tensor[id(value)]
        if isinstance(value, Variable):
            return WEIGHT, value
        value = value.data
    if value is x:
        return BATCH_X, None
    if value is y:
        return BATCH_Y, None
    if id(value) in by_array:
        return OUTPUT, by_array[id(value)]
    if isinstance(value, backend.xp.ndarray):
        raise Refused(f"an op input of shape {value.shape} was computed outside the ops")
    return NUMBER, value


def _holds_array(value) -> bool:
    if isinstance(value, dict):
        return any(_holds_array(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_array(v) for v in value)
    return isinstance(value, backend.xp.ndarray)


def _output_index(t, by_tensor: dict, what: str) -> int:
    if not isinstance(t, Tensor) or id(t) not in by_tensor:
        raise Refused(f"{what} is not the output of an op")
    return by_tensor[id(t)]


def record(step):
    """Run ``step()`` (a training step's forward pass and loss) with every op recorded; return (its result, the
    records)."""
    records: list = []
    function.recorded = records
    try:
        return step(), records
    finally:
        function.recorded = None
