"""TensorFlow guide "Introduction to tensor slicing", run on chainrule.

Source: https://www.tensorflow.org/guide/tensor_slicing (tensorflow/docs, site/en/guide/tensor_slicing.ipynb).

The guide's code is kept as written, except the import line (`import tensorflow as tf` -> `import chainrule as tf`);
lines marked `# test:` check what it prints against the guide's outputs.
"""

import numpy as np


def test_tensor_slicing(capsys):
    import chainrule as tf
    import numpy as np

    t1 = tf.constant([0, 1, 2, 3, 4, 5, 6, 7])

    print(tf.slice(t1,
                   begin=[1],
                   size=[3]))

    print(t1[1:4])

    print(t1[-3:])

    t2 = tf.constant([[0, 1, 2, 3, 4],
                      [5, 6, 7, 8, 9],
                      [10, 11, 12, 13, 14],
                      [15, 16, 17, 18, 19]])

    print(t2[:-1, 1:3])

    t3 = tf.constant([[[1, 3, 5, 7],
                       [9, 11, 13, 15]],
                      [[17, 19, 21, 23],
                       [25, 27, 29, 31]]
                      ])

    print(tf.slice(t3,
                   begin=[1, 1, 0],
                   size=[1, 1, 2]))

    print(tf.gather(t1,
                    indices=[0, 3, 6]))

    # This is similar to doing

    t1[::3]

    alphabet = tf.constant(list('abcdefghijklmnopqrstuvwxyz'))

    print(tf.gather(alphabet,
                    indices=[2, 0, 19, 18]))

    t4 = tf.constant([[0, 5],
                      [1, 6],
                      [2, 7],
                      [3, 8],
                      [4, 9]])

    print(tf.gather_nd(t4,
                       indices=[[2], [3], [0]]))

    t5 = np.reshape(np.arange(18), [2, 3, 3])

    print(tf.gather_nd(t5,
                       indices=[[0, 0, 0], [1, 2, 1]]))

    # Return a list of two matrices

    print(tf.gather_nd(t5,
                       indices=[[[0, 0], [0, 2]], [[1, 0], [1, 2]]]))

    # Return one matrix

    print(tf.gather_nd(t5,
                       indices=[[0, 0], [0, 2], [1, 0], [1, 2]]))

    t6 = tf.constant([10])
    indices = tf.constant([[1], [3], [5], [7], [9]])
    data = tf.constant([2, 4, 6, 8, 10])

    print(tf.scatter_nd(indices=indices,
                        updates=data,
                        shape=t6))

    # Gather values from one tensor by specifying indices

    new_indices = tf.constant([[0, 2], [2, 1], [3, 3]])
    t7 = tf.gather_nd(t2, indices=new_indices)

    # Add these values into a new tensor

    t8 = tf.scatter_nd(indices=new_indices, updates=t7, shape=tf.constant([4, 5]))

    print(t8)

    t9 = tf.SparseTensor(indices=[[0, 2], [2, 1], [3, 3]],
                         values=[2, 11, 18],
                         dense_shape=[4, 5])

    print(t9)

    # Convert the sparse tensor into a dense tensor

    t10 = tf.sparse.to_dense(t9)

    print(t10)

    t11 = tf.constant([[2, 7, 0],
                       [9, 0, 1],
                       [0, 3, 8]])

    # Convert the tensor into a magic square by inserting numbers at appropriate indices

    t12 = tf.tensor_scatter_nd_add(t11,
                                   indices=[[0, 2], [1, 1], [2, 0]],
                                   updates=[6, 5, 4])

    print(t12)

    # Convert the tensor into an identity matrix

    t13 = tf.tensor_scatter_nd_sub(t11,
                                   indices=[[0, 0], [0, 1], [1, 0], [1, 1], [1, 2], [2, 1], [2, 2]],
                                   updates=[1, 7, 9, -1, 1, 3, 7])

    print(t13)

    t14 = tf.constant([[-2, -7, 0],
                       [-9, 0, 1],
                       [0, -3, -8]])

    t15 = tf.tensor_scatter_nd_min(t14,
                                   indices=[[0, 2], [1, 1], [2, 0]],
                                   updates=[-6, -5, -4])

    print(t15)

    t16 = tf.tensor_scatter_nd_max(t14,
                                   indices=[[0, 2], [1, 1], [2, 0]],
                                   updates=[6, 5, 4])

    print(t16)

    assert tf.slice(t1, begin=[1], size=[3]).numpy().tolist() == [1, 2, 3]  # test
    assert tf.slice(t3, begin=[1, 1, 0], size=[1, 1, 2]).numpy().tolist() == [[[25, 27]]]  # test
    assert t8.numpy().tolist() == [[0, 0, 2, 0, 0], [0, 0, 0, 0, 0], [0, 11, 0, 0, 0], [0, 0, 0, 18, 0]]  # test
    assert t12.numpy().tolist() == [[2, 7, 6], [9, 5, 1], [4, 3, 8]]  # test: the magic square
    assert t13.numpy().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]  # test
    assert t15.numpy().tolist() == [[-2, -7, -6], [-9, -5, 1], [-4, -3, -8]]  # test
    assert t16.numpy().tolist() == [[-2, -7, 6], [-9, 5, 1], [4, -3, -8]]  # test
    assert tf.gather(alphabet, indices=[2, 0, 19, 18]).numpy().tolist() == [b'c', b'a', b't', b's']  # test
