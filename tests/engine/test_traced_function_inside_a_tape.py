"""A traced function (tf.function) called while a GradientTape records passes the gradients through, on every call:
before, its third call replayed the recorded program and the tape got None for the variables it used, and its first
two (the traces, which run on copies of the inputs) cut the gradient to a watched input."""

import chainrule as tf


def test_gradients_reach_variables_and_inputs_on_every_call():
    w = tf.Variable(2.0)

    @tf.function
    def f(x):
        return w * x * x

    x = tf.constant(3.0)
    for _ in range(5):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        dw, dx = tape.gradient(y, [w, x])
        assert float(dw) == 9.0 and float(dx) == 12.0


def test_a_module_method_trains_as_the_basics_guide():
    class Model(tf.Module):
        def __init__(self):
            self.w = tf.Variable(0.0)
            self.b = tf.Variable(0.0)

        @tf.function
        def __call__(self, x):
            return self.w * x + self.b

    model = Model()
    x = tf.linspace(-1.0, 1.0, 20)
    y = 3.0 * x + 1.0
    model(x)  # called outside a tape first: traced, then replayed
    model(x)
    for _ in range(200):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        grads = tape.gradient(loss, model.variables)
        assert all(g is not None for g in grads)
        for g, v in zip(grads, model.variables):
            v.assign_sub(0.1 * g)
    assert abs(float(model.w) - 3.0) < 0.05 and abs(float(model.b) - 1.0) < 0.05


def test_outside_a_tape_it_still_replays():
    @tf.function
    def g(x):
        return x * 2.0

    for _ in range(3):
        g(tf.constant([1.0, 2.0]))
    assert any(type(state).__name__ == "Program" for state in g._traced._states.values())
