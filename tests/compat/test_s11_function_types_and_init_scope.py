"""tf.function's parts the guide "Better performance with tf.function" uses: ``__tf_tracing_type__`` with
``tf.types.experimental.TraceType``, a ConcreteFunction's ``function_type``, the InvalidArgumentError of a tensor of
another dtype, and ``tf.init_scope``."""

import inspect

import numpy as np
import pytest

import chainrule as tf


class _KindType(tf.types.experimental.TraceType):
    def __init__(self, kind):
        self.kind = kind

    def is_subtype_of(self, other):
        return self == other

    def most_specific_common_supertype(self, others):
        return self if all(self == other for other in others) else None

    def placeholder_value(self, placeholder_context=None):
        return None

    def __eq__(self, other):
        return type(other) is _KindType and other.kind == self.kind

    def __hash__(self):
        return hash(self.kind)


class _Fruit:
    def __init__(self, kind, flavor):
        self.kind, self.flavor = kind, tf.constant(flavor)

    def __tf_tracing_type__(self, context):
        return _KindType(self.kind)


def test_trace_type_keys_the_traces():
    flavor = tf.function(lambda a, b: a.flavor + b.flavor)
    assert flavor(_Fruit("apple", [1, 2]), _Fruit("mango", [3, 4])).numpy().tolist() == [4, 6]
    flavor(_Fruit("apple", [1, 2]), _Fruit("mango", [3, 4]))  # new objects, equal trace types: no new trace
    assert flavor.experimental_get_tracing_count() == 1
    flavor(_Fruit("mango", [3, 4]), _Fruit("mango", [3, 4]))
    assert flavor.experimental_get_tracing_count() == 2


def test_trace_type_is_abstract():
    with pytest.raises(TypeError):
        tf.types.experimental.TraceType()
    assert tf.types.experimental.GenericFunction is type(tf.function(lambda x: x))


def test_concrete_function_type_and_dtype_error():
    double = tf.function(lambda a: a + a)
    strings = double.get_concrete_function(tf.constant("a"))
    function_type = strings.function_type
    assert isinstance(function_type, inspect.Signature)
    assert function_type.parameters["a"].annotation == tf.TensorSpec(shape=(), dtype=tf.string)
    assert "a: TensorSpec(shape=(), dtype=tf.string" in repr(strings)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected to be a string tensor but is a int32"):
        strings(tf.constant(1))
    with pytest.raises(TypeError):  # and a TypeError, as the other binding errors
        strings(tf.constant(1))
    with pytest.raises(TypeError, match="Binding inputs"):
        strings(tf.constant(["a", "b"]))  # the dtype fits, the shape does not


def test_init_scope_runs_once_where_traced():
    v = tf.Variable(0)
    calls = []

    @tf.function
    def lifted():
        if not calls:
            with tf.init_scope():
                calls.append(1)
                v.assign_add(1)
        return v + 0

    assert [int(lifted()) for _ in range(3)] == [1, 1, 1]


def test_init_scope_pauses_gradient_tapes():
    x = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as tape:
        with tf.init_scope():
            hidden = x * x
        seen = x * x
    assert tape.gradient(hidden, x) is None
    np.testing.assert_allclose(tape.gradient(seen, x).numpy(), 6.0)
