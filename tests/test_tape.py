"""GradientTape with TensorFlow's semantics, and Variable's assign methods."""
import numpy as np
import pytest

import chainrule as tf


def test_watch_makes_a_constant_a_source():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(x * x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2.0, 4.0])
    assert tape.watched_variables() == (x,)


def test_trainable_variables_are_watched_and_non_trainable_ones_are_not():
    w, frozen = tf.Variable([1.0, 2.0]), tf.Variable([3.0, 4.0], trainable=False)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(w * frozen)
    dw, dfrozen = tape.gradient(y, [w, frozen])
    np.testing.assert_array_equal(dw.numpy(), [3.0, 4.0])
    assert dfrozen is None
    assert dw.dtype == np.float32


def test_an_unwatched_constant_gets_none():
    x, c = tf.Variable(2.0), tf.constant(5.0)
    with tf.GradientTape() as tape:
        y = x * c
    assert tape.gradient(y, [x, c])[1] is None


def test_non_persistent_tape_allows_one_gradient_call():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to compute one set"):
        tape.gradient(y, x)


def test_persistent_tape_allows_several_gradient_calls():
    x = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        z = y * y
    assert float(tape.gradient(y, x)) == 6.0
    assert float(tape.gradient(z, x)) == 108.0
    assert float(tape.gradient(z, y)) == 18.0  # with respect to an intermediate tensor


def test_gradient_returns_the_structure_of_sources():
    a, b, c = tf.Variable(1.0), tf.Variable([1.0, 2.0]), tf.Variable([[1.0]])
    with tf.GradientTape(persistent=True) as tape:
        y = 2.0 * a + 3.0 * tf.reduce_sum(b) + 4.0 * tf.reduce_sum(c)
    single = tape.gradient(y, a)
    as_list, as_tuple = tape.gradient(y, [a, b]), tape.gradient(y, (a, c))
    as_dict = tape.gradient(y, {"a": a, "rest": [b, {"c": c}]})
    assert isinstance(single, tf.Tensor) and float(single) == 2.0
    assert isinstance(as_list, list) and isinstance(as_tuple, tuple) and len(as_tuple) == 2
    assert float(as_tuple[0]) == 2.0 and as_tuple[1].shape == (1, 1)
    assert set(as_dict) == {"a", "rest"} and isinstance(as_dict["rest"], list)
    np.testing.assert_array_equal(as_dict["rest"][0].numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(as_dict["rest"][1]["c"].numpy(), [[4.0]])


def test_unconnected_gradients_none_or_zero():
    x, unused = tf.Variable([1.0, 2.0]), tf.Variable([[5.0, 6.0, 7.0]])
    with tf.GradientTape(persistent=True) as tape:
        y = tf.reduce_sum(x * x)
        constant = tf.constant(1.0) * 2.0
    assert tape.gradient(y, [x, unused])[1] is None
    zero = tape.gradient(y, [x, unused], unconnected_gradients="zero")[1]
    assert zero.shape == (1, 3) and zero.dtype == np.float32 and not zero.numpy().any()
    assert tape.gradient(constant, x) is None  # a target that depends on no source at all


def test_non_scalar_and_several_targets_are_summed():
    x = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        z = 3.0 * x
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(tape.gradient([y, z], x).numpy(), [5.0, 7.0, 9.0])


def test_output_gradients_weight_the_target():
    x = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        y = x * x
    grad = tape.gradient(y, x, output_gradients=tf.constant([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(grad.numpy(), [2.0, 0.0, -6.0])


def test_nested_tapes_give_second_derivatives():
    x = tf.constant([0.3, -1.2])
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.tanh(x)
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(dy.numpy(), 1 - t * t, rtol=1e-6)
    np.testing.assert_allclose(d2y.numpy(), -2 * t * (1 - t * t), rtol=1e-5)


def test_nested_tapes_for_a_gradient_penalty_on_variables():
    w = tf.Variable([[0.5], [-1.0]])
    x = tf.constant([[1.0, 2.0], [0.5, -0.5]])
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            score = tf.matmul(x, w) ** 2  # d score / d x = 2 (x w) wᵀ
        dx = inner.gradient(score, x)
        penalty = tf.reduce_sum(dx * dx)  # = 4 Σ (x w)² |w|²
    dw = outer.gradient(penalty, w)
    xv, wv = x.numpy(), w.numpy()
    xw = xv @ wv
    expected = 8 * (xv.T @ xw) * (wv ** 2).sum() + 8 * (xw ** 2).sum() * wv
    np.testing.assert_allclose(dw.numpy(), expected, rtol=1e-5)


def test_stop_recording_and_no_gradient_for_integers():
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = x * 2.0
        with tape.stop_recording():
            z = x * 3.0
    assert not z.requires_grad and y.requires_grad
    with pytest.raises(TypeError, match="integer tensor"):
        tape.watch(tf.constant([1, 2]))
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(x * x)
    with pytest.raises(TypeError, match=r"integer tensor \(source 1 has dtype int32\)"):
        tape.gradient(y, [x, tf.constant([1, 2])])


def test_tape_records_inside_no_grad():
    x = tf.Variable(2.0)
    with tf.no_grad(), tf.GradientTape() as tape:
        y = x * x
    assert float(tape.gradient(y, x)) == 4.0


# --- Variable ---------------------------------------------------------------------------------------------------------
def test_variable_assign_methods_update_in_place_and_keep_dtype():
    v = tf.Variable([1.0, 2.0], name="v")
    data = v.data
    assert v.assign([5.0, 6.0]) is v and v.numpy().tolist() == [5.0, 6.0]
    assert v.assign_add(np.array([1.0, 1.0])) is v and v.numpy().tolist() == [6.0, 7.0]
    assert v.assign_sub(tf.constant([0.5, 0.5])) is v and v.numpy().tolist() == [5.5, 6.5]
    assert v.data is data and v.dtype == np.float32 and v.requires_grad and v.is_leaf
    with pytest.raises(ValueError, match=r"cannot assign a value of shape \(3,\) to variable v of shape \(2,\)"):
        v.assign([1.0, 2.0, 3.0])


def test_variable_copies_its_initial_value_and_gradient_descent_works():
    init = np.array([3.0, -2.0], np.float32)
    v = tf.Variable(init)
    for _ in range(50):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(v * v)
        v.assign_sub(0.1 * tape.gradient(loss, v).numpy())
    assert init.tolist() == [3.0, -2.0], "the Variable must not alias its initial value"
    np.testing.assert_allclose(v.numpy(), init * 0.8 ** 50, rtol=1e-4)


def test_watched_constant_is_a_constant_again_after_the_tape():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0
    assert not x.requires_grad
    with tf.GradientTape() as later:
        z = x * x
    assert later.gradient(z, x) is None


def test_watch_accessed_variables_false_differentiates_only_watched():
    v, w = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = v * w
    dv, dw = tape.gradient(y, [v, w])
    assert float(dv) == 3.0 and dw is None


def test_a_value_computed_before_the_tape_is_a_constant():
    # TensorFlow records only the ops run inside the tape: a DQN-style target made beforehand gets no gradient
    w = tf.Variable([[0.5, -1.0], [2.0, 0.25]])
    s, s2 = tf.constant([[1.0, 2.0]]), tf.constant([[3.0, -1.0]])
    target = 1.0 + 0.9 * tf.reduce_max(tf.matmul(s2, w), axis=1)
    with tf.GradientTape() as tape:
        q = tf.reduce_max(tf.matmul(s, w), axis=1)
        loss = tf.reduce_mean(tf.square(target - q))
    frozen = tf.constant(target.numpy())
    with tf.GradientTape() as tape2:
        loss2 = tf.reduce_mean(tf.square(frozen - tf.reduce_max(tf.matmul(s, w), axis=1)))
    np.testing.assert_allclose(tape.gradient(loss, w).numpy(), tape2.gradient(loss2, w).numpy())


def test_a_variable_reached_only_through_ops_before_the_tape_gets_none():
    w = tf.Variable([1.0, 2.0])
    y0 = w * 3
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(y0 * 2)
    assert tape.gradient(y, w) is None


def test_a_watched_tensor_computed_before_the_tape_is_a_source():
    w = tf.Variable([1.0, 2.0])
    x = w * 2
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(x * x)
    dx, dw = tape.gradient(y, [x, w])
    np.testing.assert_array_equal(dx.numpy(), [4.0, 8.0])
    assert dw is None


def test_ops_under_stop_recording_are_constants():
    w = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        a = w * 2
        with tape.stop_recording():
            b = a * 5
        c = tf.reduce_sum(b * w)
    np.testing.assert_array_equal(tape.gradient(c, w).numpy(), [10.0, 20.0])  # b is a constant: dc/dw = b


def test_variable_numpy_and_constant_are_snapshots():
    v = tf.Variable([1.0, 2.0])
    before, as_array, const = v.numpy(), np.array(v), tf.constant(v)
    v.assign_sub([1.0, 1.0])
    np.testing.assert_array_equal(before, [1.0, 2.0])
    np.testing.assert_array_equal(as_array, [1.0, 2.0])
    np.testing.assert_array_equal(const.numpy(), [1.0, 2.0])
    source = np.array([3.0, 4.0], np.float32)
    c = tf.constant(source)
    source[0] = 0.0
    assert float(c[0]) == 3.0


def test_in_place_operator_on_a_variable_raises_like_tensorflow():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"`variable -= value` with Variables is not supported: use "
                                           r"variable.assign_sub\(value\)"):
        v -= 0.5
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_in_place_operator_on_a_parameter_updates_it_under_no_grad_as_pytorch():
    w = tf.Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    same = w
    with tf.no_grad():
        w -= 0.5 * w.grad
    assert w is same and w.requires_grad
    np.testing.assert_array_equal(w.numpy(), [0.0, 0.0])
    with pytest.raises(RuntimeError, match="leaf Tensor that requires grad .* in-place operation"):
        w += 1.0


def test_in_place_operator_on_a_graph_tensor_rebinds_and_keeps_the_gradient():
    w = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(w * w)
        loss += tf.reduce_sum(3.0 * w)  # TensorFlow: a new tensor, still on the tape
    np.testing.assert_array_equal(tape.gradient(loss, w).numpy(), [5.0, 7.0])
