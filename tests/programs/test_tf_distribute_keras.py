"""TensorFlow tutorial "Distributed training with Keras", run on chainrule.

Source: https://www.tensorflow.org/tutorials/distribute/keras
(tensorflow/docs, site/en/tutorials/distribute/keras.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf`;
- `tfds.load(name='mnist', with_info=True, as_supervised=True)` (a download) is replaced by 256 training and 64
  test images of MNIST's shapes and types (tests/programs/tfds_mnist_like.py);
- `EPOCHS = 12` is 4 (marked), BUFFER_SIZE 10000 is 256 (marked);
- the notebook's `%load_ext`/`%tensorboard` magics and `!ls` shell lines are left out (the `!ls` lines are
  replaced by listing the folder in Python); the files are written into pytest's temporary folder;
- lines marked `# test:` check what the program produces.
"""

import os
import re
import types

import pytest

import chainrule as tf
import tfds_mnist_like

tfds = types.SimpleNamespace(load=tfds_mnist_like.load)  # test: instead of `import tensorflow_datasets as tfds`

EPOCHS_SHRUNK = 4  # test: 12 in the tutorial
BUFFER_SIZE_SHRUNK = 256  # test: 10000 in the tutorial


def test_distribute_keras(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: the files go to a temporary folder

    print(tf.__version__)

    datasets, info = tfds.load(name='mnist', with_info=True, as_supervised=True)

    mnist_train, mnist_test = datasets['train'], datasets['test']

    strategy = tf.distribute.MirroredStrategy()

    print('Number of devices: {}'.format(strategy.num_replicas_in_sync))

    # You can also do info.splits.total_num_examples to get the total
    # number of examples in the dataset.

    num_train_examples = info.splits['train'].num_examples
    num_test_examples = info.splits['test'].num_examples

    BUFFER_SIZE = BUFFER_SIZE_SHRUNK

    BATCH_SIZE_PER_REPLICA = 64
    BATCH_SIZE = BATCH_SIZE_PER_REPLICA * strategy.num_replicas_in_sync

    def scale(image, label):
      image = tf.cast(image, tf.float32)
      image /= 255

      return image, label

    train_dataset = mnist_train.map(scale).cache().shuffle(BUFFER_SIZE).batch(BATCH_SIZE)
    eval_dataset = mnist_test.map(scale).batch(BATCH_SIZE)

    with strategy.scope():
      model = tf.keras.Sequential([
          tf.keras.layers.Conv2D(32, 3, activation='relu', input_shape=(28, 28, 1)),
          tf.keras.layers.MaxPooling2D(),
          tf.keras.layers.Flatten(),
          tf.keras.layers.Dense(64, activation='relu'),
          tf.keras.layers.Dense(10)
      ])

      model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    optimizer=tf.keras.optimizers.Adam(learning_rate=0.001),
                    metrics=['accuracy'])

    # Define the checkpoint directory to store the checkpoints.
    checkpoint_dir = './training_checkpoints'
    # Define the name of the checkpoint files.
    checkpoint_prefix = os.path.join(checkpoint_dir, "ckpt_{epoch:04d}.weights.h5")

    # Define a function for decaying the learning rate.
    # You can define any decay function you need.
    def decay(epoch):
      if epoch < 3:
        return 1e-3
      elif epoch >= 3 and epoch < 7:
        return 1e-4
      else:
        return 1e-5

    # Define a callback for printing the learning rate at the end of each epoch.
    class PrintLR(tf.keras.callbacks.Callback):
      def on_epoch_end(self, epoch, logs=None):
        print('\nLearning rate for epoch {} is {}'.format(epoch + 1, model.optimizer.learning_rate.numpy()))

    # Put all the callbacks together.
    callbacks = [
        tf.keras.callbacks.TensorBoard(log_dir='./logs'),
        tf.keras.callbacks.ModelCheckpoint(filepath=checkpoint_prefix,
                                           save_weights_only=True),
        tf.keras.callbacks.LearningRateScheduler(decay),
        PrintLR()
    ]

    EPOCHS = EPOCHS_SHRUNK

    model.fit(train_dataset, epochs=EPOCHS, callbacks=callbacks)

    # Check the checkpoint directory.
    print(sorted(os.listdir(checkpoint_dir)))  # test: instead of `!ls {checkpoint_dir}`

    import pathlib
    latest_checkpoint = sorted(pathlib.Path(checkpoint_dir).glob('*'))[-1]

    model.load_weights(latest_checkpoint)

    eval_loss, eval_acc = model.evaluate(eval_dataset)

    print('Eval loss: {}, Eval accuracy: {}'.format(eval_loss, eval_acc))

    print(sorted(os.listdir('./logs')))  # test: instead of `!ls -sh ./logs`

    path = 'my_model.keras'

    model.save(path)

    unreplicated_model = tf.keras.models.load_model(path)

    unreplicated_model.compile(
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=tf.keras.optimizers.Adam(),
        metrics=['accuracy'])

    eval_loss2, eval_acc2 = unreplicated_model.evaluate(eval_dataset)

    print('Eval loss: {}, Eval Accuracy: {}'.format(eval_loss2, eval_acc2))

    with strategy.scope():
      replicated_model = tf.keras.models.load_model(path)
      replicated_model.compile(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                               optimizer=tf.keras.optimizers.Adam(),
                               metrics=['accuracy'])

      eval_loss3, eval_acc3 = replicated_model.evaluate(eval_dataset)
      print ('Eval loss: {}, Eval Accuracy: {}'.format(eval_loss3, eval_acc3))

    out = capsys.readouterr().out
    assert 'Number of devices: 1' in out  # test
    rates = [float(r) for r in re.findall(r'Learning rate for epoch \d+ is (\S+)', out)]
    assert rates == pytest.approx([decay(e) for e in range(EPOCHS)])  # test: the scheduler's rate, read back each epoch
    assert sorted(os.listdir(checkpoint_dir)) == [f"ckpt_{e:04d}.weights.h5" for e in range(1, EPOCHS + 1)]  # test
    assert eval_acc > 0.8  # test: the stroke patterns are easy to tell apart
    assert eval_loss2 == pytest.approx(eval_loss, rel=1e-5)  # test: the saved model evaluates the same
    assert eval_loss3 == pytest.approx(eval_loss, rel=1e-5)  # test
