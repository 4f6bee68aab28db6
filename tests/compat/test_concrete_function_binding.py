"""A concrete function (tf.function.get_concrete_function) binds its call as TensorFlow does: a parameter may be
given by keyword, and the Python values it was made with are fixed (left out of the call; giving one again is a
TypeError), as in TensorFlow's tf.function guide."""

import pytest

import chainrule as tf


def test_keyword_arguments_bind_to_their_position():
    @tf.function
    def double(a):
        return a + a

    double_strings = double.get_concrete_function(tf.constant("a"))
    assert double_strings(tf.constant("a")).numpy() == b"aa"
    assert double_strings(a=tf.constant("b")).numpy() == b"bb"
    with pytest.raises(TypeError, match="do not fit the concrete function's signature"):
        double_strings(tf.constant(1))


def test_python_values_are_fixed():
    @tf.function
    def pow(a, b):
        return a ** b

    square = pow.get_concrete_function(a=tf.TensorSpec(None, tf.float32), b=2)
    assert float(square(tf.constant(10.0))) == 100.0
    assert float(square(a=tf.constant(3.0))) == 9.0
    with pytest.raises(TypeError, match="argument 'b' was fixed to 2"):
        square(tf.constant(10.0), b=3)
    assert float(pow(tf.constant(2.0), 3)) == 8.0  # the tf.function itself still takes any b


def test_nested_tensor_arguments_are_not_fixed():
    @tf.function
    def add_pair(pair):
        return pair[0] + pair[1]

    concrete = add_pair.get_concrete_function((tf.TensorSpec([2], tf.float32), tf.TensorSpec([2], tf.float32)))
    assert concrete((tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0]))).numpy().tolist() == [4.0, 6.0]


def test_the_call_fills_the_parameters_left_free_as_the_guide():
    class SimpleModel(tf.Module):  # (no super().__init__(), as the guide's)
        def __init__(self):
            self.bias = tf.Variable(0.0)
            self.weight = tf.Variable(2.0)

    def evaluate(model, x):
        return model.weight * x + model.bias

    model, x = SimpleModel(), tf.constant([10.0])
    evaluate_no_bias = tf.function(evaluate).get_concrete_function(model, x)
    assert evaluate_no_bias(x).numpy().tolist() == [20.0]
    assert evaluate_no_bias(x=x).numpy().tolist() == [20.0]
    with pytest.raises(TypeError, match="takes 1 arguments"):
        evaluate_no_bias(model, x)
    assert model.name == "simple_model" and "simple_model" in repr(model)
