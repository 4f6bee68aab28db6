"""TensorFlow tutorial "Custom layers", run on chainrule.

Source: https://www.tensorflow.org/tutorials/customization/custom_layers
(tensorflow/docs, site/en/tutorials/customization/custom_layers.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- the notebook's bare expressions (`layer.variables`, `block.layers`, ...) are checked;
- lines marked `# test:` check what the program produces.
"""

import numpy as np

import chainrule as tf


def test_custom_layers(capsys):
    print(tf.config.list_physical_devices('GPU'))

    # In the tf.keras.layers package, layers are objects. To construct a layer,
    # simply construct the object. Most layers take as a first argument the number
    # of output dimensions / channels.
    layer = tf.keras.layers.Dense(100)
    # The number of input dimensions is often unnecessary, as it can be inferred
    # the first time the layer is used, but it can be provided if you want to
    # specify it manually, which is useful in some complex models.
    layer = tf.keras.layers.Dense(10, input_shape=(None, 5))

    # To use a layer, simply call it.
    out = layer(tf.zeros([10, 5]))  # test: the notebook shows the value
    np.testing.assert_array_equal(out.numpy(), np.zeros((10, 10)))  # test: zero bias

    # Layers have many useful methods. For example, you can inspect all variables
    # in a layer using `layer.variables` and trainable variables using
    # `layer.trainable_variables`. In this case a fully-connected layer
    # will have variables for weights and biases.
    layer.variables

    # The variables are also accessible through nice accessors
    layer.kernel, layer.bias

    # test
    assert [tuple(v.shape) for v in layer.variables] == [(5, 10), (10,)]
    assert layer.variables[0] is layer.kernel and layer.variables[1] is layer.bias

    class MyDenseLayer(tf.keras.layers.Layer):
      def __init__(self, num_outputs):
        super(MyDenseLayer, self).__init__()
        self.num_outputs = num_outputs

      def build(self, input_shape):
        self.kernel = self.add_weight("kernel",
                                      shape=[int(input_shape[-1]),
                                             self.num_outputs])

      def call(self, inputs):
        return tf.matmul(inputs, self.kernel)

    layer = MyDenseLayer(10)

    _ = layer(tf.zeros([10, 5])) # Calling the layer `.builds` it.

    print([var.name for var in layer.trainable_variables])

    # test: one trainable variable named "kernel" (TensorFlow prints
    # ['my_dense_layer/kernel:0'])
    assert len(layer.trainable_variables) == 1
    assert layer.trainable_variables[0].name.split("/")[-1].split(":")[0] == "kernel"
    assert tuple(layer.kernel.shape) == (5, 10)

    class ResnetIdentityBlock(tf.keras.Model):
      def __init__(self, kernel_size, filters):
        super(ResnetIdentityBlock, self).__init__(name='')
        filters1, filters2, filters3 = filters

        self.conv2a = tf.keras.layers.Conv2D(filters1, (1, 1))
        self.bn2a = tf.keras.layers.BatchNormalization()

        self.conv2b = tf.keras.layers.Conv2D(filters2, kernel_size, padding='same')
        self.bn2b = tf.keras.layers.BatchNormalization()

        self.conv2c = tf.keras.layers.Conv2D(filters3, (1, 1))
        self.bn2c = tf.keras.layers.BatchNormalization()

      def call(self, input_tensor, training=False):
        x = self.conv2a(input_tensor)
        x = self.bn2a(x, training=training)
        x = tf.nn.relu(x)

        x = self.conv2b(x)
        x = self.bn2b(x, training=training)
        x = tf.nn.relu(x)

        x = self.conv2c(x)
        x = self.bn2c(x, training=training)

        x += input_tensor
        return tf.nn.relu(x)

    block = ResnetIdentityBlock(1, [1, 2, 3])

    _ = block(tf.zeros([1, 2, 3, 3]))

    block.layers

    len(block.variables)

    block.summary()

    # test: the tutorial's output: 6 layers, 18 variables, 41 parameters (12 of them
    # BatchNormalization's moving statistics, not trainable)
    assert len(block.layers) == 6
    assert len(block.variables) == 18
    assert block.count_params() == 41
    assert sum(int(np.prod(v.shape)) for v in block.non_trainable_variables) == 12
    assert len(block.trainable_variables) == 12
    assert _.shape == (1, 2, 3, 3)

    my_seq = tf.keras.Sequential([tf.keras.layers.Conv2D(1, (1, 1),
                                                        input_shape=(
                                                            None, None, 3)),
                                 tf.keras.layers.BatchNormalization(),
                                 tf.keras.layers.Conv2D(2, 1,
                                                        padding='same'),
                                 tf.keras.layers.BatchNormalization(),
                                 tf.keras.layers.Conv2D(3, (1, 1)),
                                 tf.keras.layers.BatchNormalization()])
    out = my_seq(tf.zeros([1, 2, 3, 3]))

    my_seq.summary()

    # test: same structure as the block, without the residual connection
    assert out.shape == (1, 2, 3, 3)
    assert my_seq.count_params() == 41
    out_text = capsys.readouterr().out
    assert out_text.count("Total params: 41") == 2
    assert out_text.count("Non-trainable params: 12") == 2
