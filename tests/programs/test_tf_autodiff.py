"""TensorFlow guide "Introduction to gradients and automatic differentiation", run on chainrule.

Source: https://www.tensorflow.org/guide/autodiff
(tensorflow/docs, site/en/guide/autodiff.ipynb).

The guide's code is kept as written, one test per section, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- matplotlib draws with the non-interactive Agg backend;
- two places where chainrule answers differently on purpose are checked as chainrule answers:
  watching an integer tensor raises a TypeError (TensorFlow logs a warning and returns None),
  and `np.mean` on a Tensor runs chainrule's mean (NumPy's dispatch), so that gradient is
  not None;
- the notebook's bare expressions (`dy_dx.numpy()`, `grad['b']`, ...) are checked, and
  lines marked `# test:` check what the program produces (the guide's printed values).
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import matplotlib.pyplot as plt
import pytest

import chainrule as tf


def test_gradient_tapes():
    x = tf.Variable(3.0)

    with tf.GradientTape() as tape:
      y = x**2

    # dy = 2x * dx
    dy_dx = tape.gradient(y, x)
    dy_dx.numpy()
    assert dy_dx.numpy() == 6.0  # test

    w = tf.Variable(tf.random.normal((3, 2)), name='w')
    b = tf.Variable(tf.zeros(2, dtype=tf.float32), name='b')
    x = [[1., 2., 3.]]

    with tf.GradientTape(persistent=True) as tape:
      y = x @ w + b
      loss = tf.reduce_mean(y**2)

    [dl_dw, dl_db] = tape.gradient(loss, [w, b])

    print(w.shape)
    print(dl_dw.shape)

    my_vars = {
        'w': w,
        'b': b
    }

    grad = tape.gradient(loss, my_vars)
    grad['b']

    # test: d/db mean(y^2) = y, d/dw = x^T y (over the 2 outputs: divided by 2)
    yv = np.array(x) @ w.numpy() + b.numpy()
    np.testing.assert_allclose(grad['b'].numpy(), yv[0], rtol=1e-5)
    np.testing.assert_allclose(dl_dw.numpy(), np.array(x).T @ yv, rtol=1e-5)
    assert dl_dw.shape == w.shape


def test_gradients_with_respect_to_a_model(capsys):
    layer = tf.keras.layers.Dense(2, activation='relu')
    x = tf.constant([[1., 2., 3.]])

    with tf.GradientTape() as tape:
      # Forward pass
      y = layer(x)
      loss = tf.reduce_mean(y**2)

    # Calculate gradients with respect to every trainable variable
    grad = tape.gradient(loss, layer.trainable_variables)

    for var, g in zip(layer.trainable_variables, grad):
      print(f'{var.name}, shape: {g.shape}')

    # test: TensorFlow prints "dense/kernel:0, shape: (3, 2)" and "dense/bias:0, shape: (2,)"
    lines = capsys.readouterr().out.splitlines()
    assert [l.split(", shape: ")[1] for l in lines] == ["(3, 2)", "(2,)"]
    assert "kernel" in lines[0] and "bias" in lines[1]


def test_controlling_what_the_tape_watches(capsys):
    # A trainable variable
    x0 = tf.Variable(3.0, name='x0')
    # Not trainable
    x1 = tf.Variable(3.0, name='x1', trainable=False)
    # Not a Variable: A variable + tensor returns a tensor.
    x2 = tf.Variable(2.0, name='x2') + 1.0
    # Not a variable
    x3 = tf.constant(3.0, name='x3')

    with tf.GradientTape() as tape:
      y = (x0**2) + (x1**2) + (x2**2)

    grad = tape.gradient(y, [x0, x1, x2, x3])

    for g in grad:
      print(g)

    # test: only the trainable variable gets a gradient
    assert grad[0].numpy() == 6.0
    assert grad[1:] == [None, None, None]

    [var.name for var in tape.watched_variables()]

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
      tape.watch(x)
      y = x**2

    # dy = 2x * dx
    dy_dx = tape.gradient(y, x)
    print(dy_dx.numpy())
    assert dy_dx.numpy() == 6.0  # test

    x0 = tf.Variable(0.0)
    x1 = tf.Variable(10.0)

    with tf.GradientTape(watch_accessed_variables=False) as tape:
      tape.watch(x1)
      y0 = tf.math.sin(x0)
      y1 = tf.nn.softplus(x1)
      y = y0 + y1
      ys = tf.reduce_sum(y)

    # dys/dx1 = exp(x1) / (1 + exp(x1)) = sigmoid(x1)
    grad = tape.gradient(ys, {'x0': x0, 'x1': x1})

    print('dy/dx0:', grad['x0'])
    print('dy/dx1:', grad['x1'].numpy())

    # test: the guide's output
    assert grad['x0'] is None
    np.testing.assert_allclose(grad['x1'].numpy(), 1 / (1 + np.exp(-10.0)), rtol=1e-6)


def test_watched_variables_lists_the_variables_the_tape_saw():
    # test: the guide's `[var.name for var in tape.watched_variables()]`, checked
    x0 = tf.Variable(3.0, name='x0')
    x1 = tf.Variable(3.0, name='x1', trainable=False)
    with tf.GradientTape() as tape:
      y = (x0**2) + (x1**2)
    assert [var.name for var in tape.watched_variables()] == ['x0']


def test_intermediate_results(capsys):
    x = tf.constant(3.0)

    with tf.GradientTape() as tape:
      tape.watch(x)
      y = x * x
      z = y * y

    # Use the tape to compute the gradient of z with respect to the
    # intermediate value y.
    # dz_dy = 2 * y and y = x ** 2 = 9
    print(tape.gradient(z, y).numpy())

    x = tf.constant([1, 3.0])
    with tf.GradientTape(persistent=True) as tape:
      tape.watch(x)
      y = x * x
      z = y * y

    print(tape.gradient(z, x).numpy())  # [4.0, 108.0] (4 * x**3 at x = [1.0, 3.0])
    print(tape.gradient(y, x).numpy())  # [2.0, 6.0] (2 * x at x = [1.0, 3.0])

    del tape   # Drop the reference to the tape

    # test: the guide's output
    assert capsys.readouterr().out.splitlines() == ["18.0", "[  4. 108.]", "[2. 6.]"]


def test_gradients_of_non_scalar_targets(capsys):
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
      y0 = x**2
      y1 = 1 / x

    print(tape.gradient(y0, x).numpy())
    print(tape.gradient(y1, x).numpy())

    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
      y0 = x**2
      y1 = 1 / x

    print(tape.gradient({'y0': y0, 'y1': y1}, x).numpy())

    x = tf.Variable(2.)

    with tf.GradientTape() as tape:
      y = x * [3., 4.]

    print(tape.gradient(y, x).numpy())

    # test: the guide's output
    assert capsys.readouterr().out.splitlines() == ["4.0", "-0.25", "3.75", "7.0"]

    x = tf.linspace(-10.0, 10.0, 200+1)

    with tf.GradientTape() as tape:
      tape.watch(x)
      y = tf.nn.sigmoid(x)

    dy_dx = tape.gradient(y, x)

    plt.plot(x, y, label='y')
    plt.plot(x, dy_dx, label='dy/dx')
    plt.legend()
    _ = plt.xlabel('x')
    plt.close("all")

    # test: the elementwise derivative sigmoid(x) * (1 - sigmoid(x))
    s = 1 / (1 + np.exp(-x.numpy().astype(np.float64)))
    np.testing.assert_allclose(dy_dx.numpy(), s * (1 - s), rtol=1e-5, atol=1e-7)


def test_control_flow(capsys):
    x = tf.constant(1.0)

    v0 = tf.Variable(2.0)
    v1 = tf.Variable(2.0)

    with tf.GradientTape(persistent=True) as tape:
      tape.watch(x)
      if x > 0.0:
        result = v0
      else:
        result = v1**2

    dv0, dv1 = tape.gradient(result, [v0, v1])

    print(dv0)
    print(dv1)

    dx = tape.gradient(result, x)

    print(dx)

    # test: the guide's output: dv0 = 1, dv1 = None, dx = None
    assert dv0.numpy() == 1.0
    assert dv1 is None
    assert dx is None


def test_cases_where_gradient_returns_none(capsys):
    x = tf.Variable(2.)
    y = tf.Variable(3.)

    with tf.GradientTape() as tape:
      z = y * y
    print(tape.gradient(z, x))

    x = tf.Variable(2.0)

    for epoch in range(2):
      with tf.GradientTape() as tape:
        y = x+1

      print(type(x).__name__, ":", tape.gradient(y, x))
      x = x + 1   # This should be `x.assign_add(1)`

    x = tf.Variable([[1.0, 2.0],
                     [3.0, 4.0]], dtype=tf.float32)

    with tf.GradientTape() as tape:
      x2 = x**2

      # This step is calculated with NumPy
      y = np.mean(x2, axis=0)

      # Like most ops, reduce_mean will cast the NumPy array to a constant tensor
      # using `tf.convert_to_tensor`.
      y = tf.reduce_mean(y, axis=0)

    print(tape.gradient(y, x))

    x0 = tf.Variable(3.0)
    x1 = tf.Variable(0.0)

    with tf.GradientTape() as tape:
      # Update x1 = x1 + x0.
      x1.assign_add(x0)
      # The tape starts recording from x1.
      y = x1**2   # y = (x1 + x0)**2

    # This doesn't work.
    print(tape.gradient(y, x0))   #dy/dx0 = 2*(x1 + x0)

    # test: the guide's output: None in every case but the first epoch's Variable; except
    # the NumPy step: chainrule's Tensor takes part in NumPy's functions (np.mean runs
    # chainrule's mean), so the gradient is there, d/dx mean(mean(x**2, 0)) = x / 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "None"
    assert lines[1] == "Variable : tensor(1., dtype=float32)"
    assert lines[2] == "Tensor : None"
    assert lines[-1] == "None"
    x = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        y = tf.reduce_mean(np.mean(x ** 2, axis=0), axis=0)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), x.numpy() / 2)


def test_took_gradients_through_an_integer():
    x = tf.constant(10)

    # test: TensorFlow logs "The dtype of the watched tensor must be floating" and the
    # gradient is None; chainrule refuses the integer tensor with a TypeError
    with pytest.raises(TypeError, match="integer tensor"):
        with tf.GradientTape() as g:
          g.watch(x)
          y = x * x

        print(g.gradient(y, x))


def test_no_gradient_registered(capsys):
    image = tf.Variable([[[0.5, 0.0, 0.0]]])
    delta = tf.Variable(0.1)

    with tf.GradientTape() as tape:
      new_image = tf.image.adjust_contrast(image, delta)

    try:
      print(tape.gradient(new_image, [image, delta]))
      assert False   # This should not happen.
    except LookupError as e:
      print(f'{type(e).__name__}: {e}')


def test_zeros_instead_of_none():
    x = tf.Variable([2., 2.])
    y = tf.Variable(3.)

    with tf.GradientTape() as tape:
      z = y**2
    print(tape.gradient(z, x, unconnected_gradients=tf.UnconnectedGradients.ZERO))

    # test: (the tape is spent: check with a new one)
    with tf.GradientTape() as tape:
      z = y**2
    g = tape.gradient(z, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


def test_tape_sources_follow_tensorflows_watch_rule():
    # test: what chainrule was changed for (the guide's "Controlling what the tape watches"
    # and "Replaced a variable with a tensor"), against TensorFlow's rule
    frozen = tf.Variable(3.0, trainable=False)
    w = tf.Variable(2.0)
    before = w * 1.0  # computed before the tape: a constant to it
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(frozen)  # watched explicitly: a source after all
        inner = w * frozen
        y = inner * before
    assert float(tape.gradient(y, frozen)) == 4.0
    assert float(tape.gradient(y, inner)) == 2.0  # made while recording
    assert tape.gradient(y, before) is None
    # without watch_accessed_variables, tensors made from a watched one are still sources
    x = tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        y1 = x * x
        z = y1 * y1
    assert float(tape.gradient(z, y1)) == 18.0
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        z = x * x
    assert tape.gradient(z, x) is None
