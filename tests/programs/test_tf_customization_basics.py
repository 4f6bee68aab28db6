"""TensorFlow tutorial "Customization basics: tensors and operations" (tf.math ops, NumPy interoperability,
devices, tf.data from tensors and a text file), run on chainrule.

Source: https://www.tensorflow.org/tutorials/customization/basics
(tensorflow/docs, site/en/tutorials/customization/basics.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`; the imports of later cells are at the top;
- the temporary file that `tempfile.mkstemp()` makes is removed at the end;
- lines marked `# test:` check what the program produces.
"""

import os
import tempfile
import time

import numpy as np

import chainrule as tf


def test_customization_basics(capsys):
    print(tf.math.add(1, 2))
    print(tf.math.add([1, 2], [3, 4]))
    print(tf.math.square(5))
    print(tf.math.reduce_sum([1, 2, 3]))
    # Operator overloading is also supported
    print(tf.math.square(2) + tf.math.square(3))
    x = tf.linalg.matmul([[1]], [[2, 3]])
    print(x)
    print(x.shape)
    print(x.dtype)
    ndarray = np.ones([3, 3])
    print("TensorFlow operations convert numpy arrays to Tensors automatically")
    tensor = tf.math.multiply(ndarray, 42)
    print(tensor)
    print("And NumPy operations convert Tensors to NumPy arrays automatically")
    print(np.add(tensor, 1))
    print("The .numpy() method explicitly converts a Tensor to a numpy array")
    print(tensor.numpy())
    x = tf.random.uniform([3, 3])
    print("Is there a GPU available: "),
    print(tf.config.list_physical_devices("GPU"))
    print("Is the Tensor on GPU #0:  "),
    print(x.device.endswith('GPU:0'))
    def time_matmul(x):
      start = time.time()
      for loop in range(10):
        tf.linalg.matmul(x, x)
      result = time.time()-start
      print("10 loops: {:0.2f}ms".format(1000*result))
    # Force execution on CPU
    print("On CPU:")
    with tf.device("CPU:0"):
      x = tf.random.uniform([1000, 1000])
      assert x.device.endswith("CPU:0")
      time_matmul(x)
    # Force execution on GPU #0 if available
    if tf.config.list_physical_devices("GPU"):
      print("On GPU:")
      with tf.device("GPU:0"): # Or GPU:1 for the 2nd GPU, GPU:2 for the 3rd etc.
        x = tf.random.uniform([1000, 1000])
        assert x.device.endswith("GPU:0")
        time_matmul(x)
    ds_tensors = tf.data.Dataset.from_tensor_slices([1, 2, 3, 4, 5, 6])
    # Create a CSV file
    _, filename = tempfile.mkstemp()
    with open(filename, 'w') as f:
      f.write("""Line 1
Line 2
Line 3
  """)
    ds_file = tf.data.TextLineDataset(filename)
    ds_tensors = ds_tensors.map(tf.math.square).shuffle(2).batch(2)
    ds_file = ds_file.batch(2)
    print('Elements of ds_tensors:')
    for x in ds_tensors:
      print(x)
    print('\nElements in ds_file:')
    for x in ds_file:
      print(x)

    # test: what the program produced
    out = capsys.readouterr().out
    assert "tf.Tensor(3, shape=(), dtype=int32)" in out or "tensor(3, dtype=int32)" in out
    assert x.shape == (2,) and x.dtype == tf.string
    assert sorted(sum((b.numpy().tolist() for b in ds_tensors), [])) == [1, 4, 9, 16, 25, 36]
    lines = [line for b in ds_file for line in b.numpy().tolist()]
    assert lines[:3] == [b"Line 1", b"Line 2", b"Line 3"]
    assert "On CPU:" in out and "10 loops:" in out and "[]" in out
    os.remove(filename)  # test: the temporary file
