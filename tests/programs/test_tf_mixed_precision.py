"""TensorFlow guide "Mixed precision", run on chainrule.

Source: https://www.tensorflow.org/guide/mixed_precision (tensorflow/docs, site/en/guide/mixed_precision.ipynb).

The guide's code is kept as written, except:
- the import lines: `import tensorflow as tf` -> `import chainrule as tf`, `from tensorflow import keras` /
  `from tensorflow.keras import ...` -> `from chainrule import keras` / `from chainrule.keras import ...`;
- `!nvidia-smi -L` is left out; MNIST (`keras.datasets.mnist.load_data()`, a download) is 2048 training and 512
  test images of its shapes (tests/programs/mnist_like.py) and the batch size 8192 is 512 (marked);
- lines marked `# test:` check what the program produces.
"""

import numpy as np
import pytest

import mnist_like

N_TRAIN, N_TEST = 2048, 512  # test: 60000 and 10000 in the guide
BATCH_SIZE = 512  # test: 8192 in the guide


@pytest.fixture(autouse=True)
def _float32_afterwards():
    yield
    from chainrule import keras
    keras.mixed_precision.set_global_policy('float32')  # test: the guide leaves mixed_float16 set


@pytest.mark.slow  # test: float16 matrix products are slow on a CPU (about 12 s)
def test_mixed_precision(capsys):
    import chainrule as tf

    from chainrule import keras
    from chainrule.keras import layers
    from chainrule.keras import mixed_precision



    policy = mixed_precision.Policy('mixed_float16')
    mixed_precision.set_global_policy(policy)

    # Equivalent to the two lines above
    mixed_precision.set_global_policy('mixed_float16')

    print('Compute dtype: %s' % policy.compute_dtype)
    print('Variable dtype: %s' % policy.variable_dtype)

    inputs = keras.Input(shape=(784,), name='digits')
    if tf.config.list_physical_devices('GPU'):
      print('The model will run with 4096 units on a GPU')
      num_units = 4096
    else:
      # Use fewer units on CPUs so the model finishes in a reasonable amount of time
      print('The model will run with 64 units on a CPU')
      num_units = 64
    dense1 = layers.Dense(num_units, activation='relu', name='dense_1')
    x = dense1(inputs)
    dense2 = layers.Dense(num_units, activation='relu', name='dense_2')
    x = dense2(x)

    print(dense1.dtype_policy)
    print('x.dtype: %s' % x.dtype.name)
    # 'kernel' is dense1's variable
    print('dense1.kernel.dtype: %s' % dense1.kernel.dtype.name)

    # INCORRECT: softmax and model output will be float16, when it should be float32
    outputs = layers.Dense(10, activation='softmax', name='predictions')(x)
    print('Outputs dtype: %s' % outputs.dtype.name)

    # CORRECT: softmax and model output are float32
    x = layers.Dense(10, name='dense_logits')(x)
    outputs = layers.Activation('softmax', dtype='float32', name='predictions')(x)
    print('Outputs dtype: %s' % outputs.dtype.name)

    # The linear activation is an identity function. So this simply casts 'outputs'
    # to float32. In this particular case, 'outputs' is already float32 so this is a
    # no-op.
    outputs = layers.Activation('linear', dtype='float32')(outputs)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss='sparse_categorical_crossentropy',
                  optimizer=keras.optimizers.RMSprop(),
                  metrics=['accuracy'])

    (x_train, y_train), (x_test, y_test) = mnist_like.load_data(n_train=N_TRAIN, n_test=N_TEST, num_classes=10)  # test
    x_train = x_train.reshape(N_TRAIN, 784).astype('float32') / 255  # test: 60000 in the guide
    x_test = x_test.reshape(N_TEST, 784).astype('float32') / 255  # test: 10000 in the guide

    initial_weights = model.get_weights()

    history = model.fit(x_train, y_train,
                        batch_size=BATCH_SIZE,
                        epochs=5,
                        validation_split=0.2)
    test_scores = model.evaluate(x_test, y_test, verbose=2)
    print('Test loss:', test_scores[0])
    print('Test accuracy:', test_scores[1])

    x = tf.constant(256, dtype='float16')
    (x ** 2).numpy()  # Overflow

    x = tf.constant(1e-5, dtype='float16')
    (x ** 2).numpy()  # Underflow

    optimizer = keras.optimizers.RMSprop()
    optimizer = mixed_precision.LossScaleOptimizer(optimizer)

    loss_object = tf.keras.losses.SparseCategoricalCrossentropy()
    train_dataset = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
                     .shuffle(10000).batch(BATCH_SIZE))
    test_dataset = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(BATCH_SIZE)

    @tf.function
    def train_step(x, y):
      with tf.GradientTape() as tape:
        predictions = model(x)
        loss = loss_object(y, predictions)
        scaled_loss = optimizer.get_scaled_loss(loss)
      scaled_gradients = tape.gradient(scaled_loss, model.trainable_variables)
      gradients = optimizer.get_unscaled_gradients(scaled_gradients)
      optimizer.apply_gradients(zip(gradients, model.trainable_variables))
      return loss

    @tf.function
    def test_step(x):
      return model(x, training=False)

    model.set_weights(initial_weights)

    for epoch in range(5):
      epoch_loss_avg = tf.keras.metrics.Mean()
      test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(
          name='test_accuracy')
      for x, y in train_dataset:
        loss = train_step(x, y)
        epoch_loss_avg(loss)
      for x, y in test_dataset:
        predictions = test_step(x)
        test_accuracy.update_state(y, predictions)
      print('Epoch {}: loss={}, test accuracy={}'.format(epoch, epoch_loss_avg.result(), test_accuracy.result()))

    out = capsys.readouterr().out  # test
    assert 'Compute dtype: float16' in out and 'Variable dtype: float32' in out  # test
    assert 'x.dtype: float16' in out and 'dense1.kernel.dtype: float32' in out  # test
    assert out.count('Outputs dtype: float32') == 1 and 'Outputs dtype: float16' in out  # test
    assert np.isinf((tf.constant(256, dtype='float16') ** 2).numpy())  # test: the overflow example
    assert test_accuracy.result() > 0.5  # test: the custom loop with loss scaling learns
