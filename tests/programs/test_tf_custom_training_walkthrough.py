"""TensorFlow tutorial "Custom training: walkthrough" (penguins), run on chainrule.

Source: https://www.tensorflow.org/tutorials/customization/custom_training_walkthrough
(tensorflow/docs, site/en/tutorials/customization/custom_training_walkthrough.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- `tensorflow_datasets` (`tfds.load("penguins/processed", ...)`, `tfds.as_dataframe`) is
  replaced by synthetic processed penguins: 4 float32 features in [0, 1] and int64 species
  0..2, 160 for training and 40 for testing, given to `tf.data.Dataset.from_tensor_slices`
  as `as_supervised=True` gives them; the dataframe previews are left out;
- `num_epochs = 201` is 20; `plt.show()` is left out (matplotlib's Agg backend);
- lines marked `# test:` check what the program produces.
"""

import matplotlib

matplotlib.use("Agg")  # test: no display

import numpy as np
import matplotlib.pyplot as plt

import chainrule as tf


def penguins_like(n, seed):
    """test: stands in for tfds.load('penguins/processed', as_supervised=True)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n).astype("int64")
    features = (rng.normal(size=(n, 4)) * 0.1 + np.eye(3, 4)[labels] * 0.5 + 0.2).astype("float32")
    return tf.data.Dataset.from_tensor_slices((features, labels))


def test_custom_training_walkthrough():
    print("TensorFlow version: {}".format(tf.__version__))
    class_names = ['Adélie', 'Chinstrap', 'Gentoo']

    ds_test = penguins_like(40, seed=1)
    ds_train = penguins_like(160, seed=0)
    assert isinstance(ds_test, tf.data.Dataset)

    ds_train_batch = ds_train.batch(32)

    features, labels = next(iter(ds_train_batch))

    print(features)
    print(labels)

    plt.scatter(features[:,0],
                features[:,2],
                c=labels,
                cmap='viridis')

    plt.xlabel("Body Mass")
    plt.ylabel("Culmen Length")

    model = tf.keras.Sequential([
      tf.keras.layers.Dense(10, activation=tf.nn.relu, input_shape=(4,)),  # input shape required
      tf.keras.layers.Dense(10, activation=tf.nn.relu),
      tf.keras.layers.Dense(3)
    ])

    predictions = model(features)
    predictions[:5]

    tf.nn.softmax(predictions[:5])

    print("Prediction: {}".format(tf.math.argmax(predictions, axis=1)))
    print("    Labels: {}".format(labels))

    loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def loss(model, x, y, training):
      y_ = model(x, training=training)

      return loss_object(y_true=y, y_pred=y_)

    l = loss(model, features, labels, training=False)
    print("Loss test: {}".format(l))

    def grad(model, inputs, targets):
      with tf.GradientTape() as tape:
        loss_value = loss(model, inputs, targets, training=True)
      return loss_value, tape.gradient(loss_value, model.trainable_variables)

    optimizer = tf.keras.optimizers.SGD(learning_rate=0.01)

    loss_value, grads = grad(model, features, labels)

    print("Step: {}, Initial Loss: {}".format(optimizer.iterations.numpy(),
                                              loss_value.numpy()))

    optimizer.apply_gradients(zip(grads, model.trainable_variables))

    print("Step: {},         Loss: {}".format(optimizer.iterations.numpy(),
                                              loss(model, features, labels, training=True).numpy()))
    assert optimizer.iterations.numpy() == 1  # test

    train_loss_results = []
    train_accuracy_results = []

    num_epochs = 20

    for epoch in range(num_epochs):
      epoch_loss_avg = tf.keras.metrics.Mean()
      epoch_accuracy = tf.keras.metrics.SparseCategoricalAccuracy()

      # Training loop - using batches of 32
      for x, y in ds_train_batch:
        # Optimize the model
        loss_value, grads = grad(model, x, y)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))

        # Track progress
        epoch_loss_avg.update_state(loss_value)  # Add current batch loss
        epoch_accuracy.update_state(y, model(x, training=True))

      # End epoch
      train_loss_results.append(epoch_loss_avg.result())
      train_accuracy_results.append(epoch_accuracy.result())

      if epoch % 50 == 0:
        print("Epoch {:03d}: Loss: {:.3f}, Accuracy: {:.3%}".format(epoch,
                                                                    epoch_loss_avg.result(),
                                                                    epoch_accuracy.result()))

    assert float(train_loss_results[-1]) < float(train_loss_results[0])  # test
    assert optimizer.iterations.numpy() == 1 + num_epochs * 5  # test: 160 rows in batches of 32

    fig, axes = plt.subplots(2, sharex=True, figsize=(12, 8))
    fig.suptitle('Training Metrics')

    axes[0].set_ylabel("Loss", fontsize=14)
    axes[0].plot(train_loss_results)

    axes[1].set_ylabel("Accuracy", fontsize=14)
    axes[1].set_xlabel("Epoch", fontsize=14)
    axes[1].plot(train_accuracy_results)

    test_accuracy = tf.keras.metrics.Accuracy()
    ds_test_batch = ds_test.batch(10)

    for (x, y) in ds_test_batch:
      logits = model(x, training=False)
      prediction = tf.math.argmax(logits, axis=1, output_type=tf.int64)
      test_accuracy(prediction, y)

    print("Test set accuracy: {:.3%}".format(test_accuracy.result()))
    assert prediction.dtype == "int64"  # test

    stacked = tf.stack([y,prediction],axis=1)
    assert tuple(stacked.shape) == (10, 2)  # test

    predict_dataset = tf.convert_to_tensor([
        [0.3, 0.8, 0.4, 0.5,],
        [0.4, 0.1, 0.8, 0.5,],
        [0.7, 0.9, 0.8, 0.4]
    ])

    predictions = model(predict_dataset, training=False)

    names = []  # test
    for i, logits in enumerate(predictions):
      class_idx = tf.math.argmax(logits).numpy()
      p = tf.nn.softmax(logits)[class_idx]
      name = class_names[class_idx]
      print("Example {} prediction: {} ({:4.1f}%)".format(i, name, 100*p))
      names.append(name)  # test
    assert len(names) == 3 and set(names) <= set(class_names)  # test
