"""``tf.types.experimental``: ``TraceType``, the base of what an object's ``__tf_tracing_type__(context)`` returns
so that ``tf.function`` keys its traces on it (two calls whose arguments' trace types are equal share a trace, as
in TensorFlow's guide "Better performance with tf.function"), and the function types ``GenericFunction`` (what
``tf.function`` returns) and ``ConcreteFunction``.

>>> import chainrule as tf
>>> class Kind(tf.types.experimental.TraceType):
...     def __init__(self, kind): self.kind = kind
...     def is_subtype_of(self, other): return self == other
...     def most_specific_common_supertype(self, others): return self if all(self == o for o in others) else None
...     def placeholder_value(self, placeholder_context=None): return None
...     def __eq__(self, other): return type(other) is Kind and other.kind == self.kind
...     def __hash__(self): return hash(self.kind)
>>> class Box:
...     def __init__(self, kind): self.kind = kind
...     def __tf_tracing_type__(self, context): return Kind(self.kind)
>>> f = tf.function(lambda box: 1)
>>> _ = f(Box("a")), f(Box("a")), f(Box("b"))
>>> f.experimental_get_tracing_count()
2
"""
from __future__ import annotations

import abc
from typing import Any, Sequence

from chainrule.compat.tf.function import ConcreteFunction, Function


class TracingContext:
    """What ``__tf_tracing_type__`` is given: the context of the call being traced (TensorFlow's
    ``TracingContext``; chainrule keeps nothing in it)."""


class TraceType(abc.ABC):
    """The trace type of a value: equal trace types share a trace. Subclasses define the methods below and
    ``__eq__`` / ``__hash__``, as TensorFlow's ``tf.types.experimental.TraceType`` asks."""

    @abc.abstractmethod
    def is_subtype_of(self, other: "TraceType") -> bool:
        """Whether a value of this type may be passed where ``other`` was traced."""

    @abc.abstractmethod
    def most_specific_common_supertype(self, others: Sequence["TraceType"]) -> "TraceType | None":
        """The most specific type that this and all ``others`` are subtypes of, or None."""

    def placeholder_value(self, placeholder_context: Any = None) -> Any:
        """The value the function is traced with for this type."""
        raise NotImplementedError(f"{type(self).__name__} does not define placeholder_value")

    @abc.abstractmethod
    def __eq__(self, other: object) -> bool:
        ...

    @abc.abstractmethod
    def __hash__(self) -> int:
        ...


GenericFunction = Function  # what tf.function returns (TensorFlow 2.15 calls it PolymorphicFunction too)
PolymorphicFunction = Function

__all__ = ["ConcreteFunction", "GenericFunction", "PolymorphicFunction", "TraceType", "TracingContext"]
