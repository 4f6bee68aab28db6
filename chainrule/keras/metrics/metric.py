"""The ``Metric`` base class: a stateful summary updated batch by batch, its state held in Variables.

As in Keras, a subclass makes its state in ``__init__`` with ``self.add_variable(...)`` (or the older
``self.add_weight(name=..., ...)``), changes it in ``update_state`` with ``assign``/``assign_add``, and computes
``result()`` from it; ``reset_state()`` sets every variable back to zeros unless the subclass says otherwise.

>>> import chainrule as tf
>>> class Positives(Metric):
...     def __init__(self, name="positives", **kwargs):
...         super().__init__(name=name, **kwargs)
...         self.count = self.add_variable(shape=(), initializer="zeros", name="count")
...     def update_state(self, y_true, y_pred, sample_weight=None):
...         self.count.assign_add(tf.reduce_sum(tf.cast(tf.equal(tf.cast(y_pred, tf.bool), True), self.dtype)))
...     def result(self):
...         return self.count
>>> m = Positives()
>>> float(m([1, 0, 1], [1.0, 0.0, 1.0])), [v.name for v in m.variables]
(2.0, ['positives/count'])
>>> m.reset_state(); float(m.result())
0.0
"""
from __future__ import annotations

import functools
import weakref

import numpy as np

from chainrule import backend
from chainrule.engine.function import replayed
from chainrule.engine.tensor import Tensor, Variable
from chainrule.keras import configurable as _config
from chainrule.utils.naming import to_snake_case

AGGREGATIONS = ("none", "sum", "mean", "only_first_replica")  # how replicas combine a variable (Keras's names)

# The Tensor each metric call returned, by id, with its metric: TF 2's ``result._metric_obj``, which lets
# ``layer.add_metric(metric(y, y_pred))`` report the metric itself (Tensor has slots, so not an attribute).
_call_results: dict[int, tuple] = {}


def metric_of_result(value) -> Metric | None:
    """The metric whose call returned ``value`` (TF 2's ``value._metric_obj``), else None.

    >>> from chainrule.keras.metrics import Mean
    >>> m = Mean(name="avg")
    >>> metric_of_result(m([1.0, 3.0])) is m, metric_of_result(m.result())
    (True, None)
    """
    entry = _call_results.get(id(value))
    return entry[1] if entry is not None and entry[0]() is value else None


class Metric(_config.Configurable):
    """Base class: subclasses define ``update_state`` and ``result``, and keep their state in variables made by
    :meth:`add_variable` (or assigned to attributes), which :attr:`variables` lists and :meth:`reset_state` zeroes."""

    def __init_subclass__(cls, **kwargs):
        # a metric's work is its own Python: in a traced step (tf.function, fit) each replay calls it again
        super().__init_subclass__(**kwargs)
        for name in ("update_state", "result", "reset_state"):
            method = cls.__dict__.get(name)
            if method is not None and not hasattr(method, "replays"):
                setattr(cls, name, replayed(method))

    def __init__(self, name: str | None = None, dtype=None):
        self._variables: list[Variable] = []
        self._metrics: list[Metric] = []
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = np.dtype(backend.floatx() if dtype is None else dtype)

    def __setattr__(self, name: str, value) -> None:
        # Keras tracks the Variables and Metrics a metric holds in its attributes, so `variables` finds them
        if isinstance(value, (Variable, Metric)) and "_variables" in self.__dict__:
            store = self._variables if isinstance(value, Variable) else self._metrics
            if not any(item is value for item in store):
                store.append(value)
        object.__setattr__(self, name, value)

    def _check_super_called(self) -> None:
        if "_variables" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: you forgot to call `super().__init__()` in the `__init__()` "
                               f"method. Go add it!")

    @property
    def dtype(self) -> str:
        """The dtype of the results, by name ('float32' unless given), as Keras reports it."""
        return self._dtype.name

    # --- state --------------------------------------------------------------------------------------------------
    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation: str = "sum",
                     name: str | None = None) -> Variable:
        """A non-trainable Variable of ``shape`` filled by ``initializer`` (a name or an initializer object), part
        of this metric's state. ``aggregation`` is how replicas would combine it, one of :data:`AGGREGATIONS`."""
        from chainrule.keras import initializers

        self._check_super_called()
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"{type(self).__name__}.add_variable: aggregation must be one of {AGGREGATIONS}, got "
                             f"{aggregation!r}")
        shape = () if shape is None else (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)
        make = initializers.get("zeros" if initializer is None else initializer)
        value = make(shape, dtype=np.dtype(dtype or self._dtype))
        variable = Variable(value, trainable=False, name=f"{self.name}/{name or 'variable'}")
        self._variables.append(variable)
        return variable

    def add_weight(self, name: str | None = None, shape=(), aggregation: str = "sum", synchronization=None,
                   initializer=None, dtype=None) -> Variable:
        """The TF 2.x spelling, ``add_weight(name, shape=(), aggregation=..., initializer=None, dtype=None)``; a
        shape given first (Keras 3's order) is taken as the shape."""
        if name is not None and not isinstance(name, str):
            name, shape = None, name
        return self.add_variable(shape, initializer, dtype=dtype, aggregation=aggregation, name=name)

    @property
    def variables(self) -> list[Variable]:
        """Every state variable: this metric's, then those of the metrics it holds."""
        found = list(self._variables)
        for metric in self._metrics:
            found.extend(metric.variables)
        return found

    weights = variables  # the TF 2.x name

    def reset_state(self) -> None:
        """Set every state variable to zeros (Keras's default; override it for another starting state)."""
        for variable in self.variables:
            variable.data[...] = 0

    def reset_states(self) -> None:
        """The TF 2.x name of :meth:`reset_state`."""
        self.reset_state()

    def merge_state(self, metrics) -> None:
        """Add the state of other metrics of the same kind into this one (TF 2's ``merge_state``), as when each
        replica or data shard had its own copy."""
        mine = self.variables
        for metric in metrics:
            theirs = metric.variables
            if len(theirs) != len(mine) or any(a.shape != b.shape for a, b in zip(mine, theirs)):
                raise ValueError(f"Metric {metric!r} is not compatible with {self!r}: their variables have shapes "
                                 f"{[v.shape for v in theirs]}, these {[v.shape for v in mine]}")
            for variable, other in zip(mine, theirs):
                variable.data += other.data

    # --- the subclass's part ------------------------------------------------------------------------------------
    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define update_state")

    def result(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must define result")

    def _value(self, x) -> Tensor:
        """A result as a Tensor of the metric's dtype (a device's array stays on its device)."""
        if backend.is_array(x) and type(x) is not np.ndarray:
            return Tensor._wrap(backend.array_namespace(x).astype(x, self._dtype))
        return Tensor._wrap(backend.xp.asarray(np.asarray(x, dtype=self._dtype)))

    def __call__(self, *args, **kwargs) -> Tensor:
        self._check_super_called()
        self.update_state(*args, **kwargs)
        result = self.result()
        if isinstance(result, Tensor):
            key = id(result)
            forget = functools.partial(_call_results.pop, key, None)  # bound now: module globals go at exit
            _call_results[key] = (weakref.ref(result, lambda _: forget()), self)
        return result

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"
