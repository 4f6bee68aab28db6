"""TensorFlow guide "Introduction to Variables", run on chainrule.

Source: https://www.tensorflow.org/guide/variable
(tensorflow/docs, site/en/guide/variable.ipynb).

The guide's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- lines marked `# test:` check what the program produces (the guide's printed values).
"""

import numpy as np

import chainrule as tf


def test_variables(capsys):
    my_tensor = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    my_variable = tf.Variable(my_tensor)

    # Variables can be all kinds of types, just like tensors
    bool_variable = tf.Variable([False, False, False, True])
    complex_variable = tf.Variable([5 + 4j, 6 + 1j])

    # test: each keeps its dtype
    assert bool_variable.dtype == tf.bool
    assert complex_variable.dtype == np.complex128
    np.testing.assert_array_equal(complex_variable.numpy(), [5 + 4j, 6 + 1j])

    print("Shape: ", my_variable.shape)
    print("DType: ", my_variable.dtype)
    print("As NumPy: ", my_variable.numpy())

    print("A variable:", my_variable)
    print("\nViewed as a tensor:", tf.convert_to_tensor(my_variable))
    print("\nIndex of highest value:", tf.math.argmax(my_variable))

    # This creates a new tensor; it does not reshape the variable.
    print("\nCopying and reshaping: ", tf.reshape(my_variable, [1,4]))

    # test
    assert my_variable.shape == (2, 2) and my_variable.dtype == tf.float32
    np.testing.assert_array_equal(tf.math.argmax(my_variable).numpy(), [1, 1])
    np.testing.assert_array_equal(tf.reshape(my_variable, [1, 4]).numpy(), [[1, 2, 3, 4]])
    assert my_variable.shape == (2, 2)  # not reshaped

    a = tf.Variable([2.0, 3.0])
    # This will keep the same dtype, float32
    a.assign([1, 2])
    # Not allowed as it resizes the variable:
    try:
      a.assign([1.0, 2.0, 3.0])
    except Exception as e:
      print(f"{type(e).__name__}: {e}")

    # test: the assignment kept float32, and the resize was refused (TensorFlow:
    # "ValueError: Cannot assign value to variable ' Variable:0': Shape mismatch...")
    assert a.dtype == tf.float32
    np.testing.assert_array_equal(a.numpy(), [1.0, 2.0])
    printed = capsys.readouterr().out.splitlines()[-1]
    assert printed.startswith("ValueError: ") and "shape" in printed.lower()

    a = tf.Variable([2.0, 3.0])
    # Create b based on the value of a
    b = tf.Variable(a)
    a.assign([5, 6])

    # a and b are different
    print(a.numpy())
    print(b.numpy())

    # There are other versions of assign
    print(a.assign_add([2,3]).numpy())  # [7. 9.]
    print(a.assign_sub([7,9]).numpy())  # [0. 0.]

    # test: the guide's output
    assert capsys.readouterr().out.splitlines() == ["[5. 6.]", "[2. 3.]", "[7. 9.]", "[0. 0.]"]

    # Create a and b; they will have the same name but will be backed by
    # different tensors.
    a = tf.Variable(my_tensor, name="Mark")
    # A new variable with the same name, but different value
    # Note that the scalar add is broadcast
    b = tf.Variable(my_tensor + 1, name="Mark")

    # These are elementwise-unequal, despite having the same name
    print(a == b)

    # test
    assert a.name == b.name == "Mark"
    np.testing.assert_array_equal(np.asarray(a == b), [[False, False], [False, False]])

    step_counter = tf.Variable(1, trainable=False)
    assert not step_counter.trainable  # test

    with tf.device('CPU:0'):

      # Create some tensors
      a = tf.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
      b = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
      c = tf.matmul(a, b)

    print(c)
    np.testing.assert_array_equal(c.numpy(), [[22.0, 28.0], [49.0, 64.0]])  # test

    with tf.device('CPU:0'):
      a = tf.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
      b = tf.Variable([[1.0, 2.0, 3.0]])

    with tf.device('GPU:0'):
      # Element-wise multiply
      k = a * b

    print(k)
    # test: the guide's output (soft placement runs the GPU block on the CPU)
    np.testing.assert_array_equal(k.numpy(), [[1.0, 4.0, 9.0], [4.0, 10.0, 18.0]])
