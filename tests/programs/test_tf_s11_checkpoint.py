"""TensorFlow guide "Training checkpoints", run on chainrule.

Source: https://www.tensorflow.org/guide/checkpoint (tensorflow/docs, site/en/guide/checkpoint.ipynb).

The guide's code is kept as written, except the import line (`import tensorflow as tf` -> `import chainrule as tf`)
and the `!ls ./tf_ckpts` shell cell (a `print(os.listdir(...))` here); it runs in a temporary folder. Lines marked
`# test:` check what it does: the second training run restores the model, the optimizer and the dataset iterator's
position from the first run's last checkpoint, the restore-on-create of a variable assigned later and of a
list's item appended later.
"""

import os

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # test: the guide's files go to a temporary folder


def test_checkpoint_guide(capsys):
    import chainrule as tf

    class Net(tf.keras.Model):
      """A simple linear model."""

      def __init__(self):
        super(Net, self).__init__()
        self.l1 = tf.keras.layers.Dense(5)

      def call(self, x):
        return self.l1(x)

    net = Net()

    net.save_weights('easy_checkpoint')

    def toy_dataset():
      inputs = tf.range(10.)[:, None]
      labels = inputs * 5. + tf.range(5.)[None, :]
      return tf.data.Dataset.from_tensor_slices(
        dict(x=inputs, y=labels)).repeat().batch(2)

    def train_step(net, example, optimizer):
      """Trains `net` on `example` using `optimizer`."""
      with tf.GradientTape() as tape:
        output = net(example['x'])
        loss = tf.reduce_mean(tf.abs(output - example['y']))
      variables = net.trainable_variables
      gradients = tape.gradient(loss, variables)
      optimizer.apply_gradients(zip(gradients, variables))
      return loss

    opt = tf.keras.optimizers.Adam(0.1)
    dataset = toy_dataset()
    iterator = iter(dataset)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net, iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, './tf_ckpts', max_to_keep=3)

    def train_and_checkpoint(net, manager):
      ckpt.restore(manager.latest_checkpoint)
      if manager.latest_checkpoint:
        print("Restored from {}".format(manager.latest_checkpoint))
      else:
        print("Initializing from scratch.")

      for _ in range(50):
        example = next(iterator)
        loss = train_step(net, example, opt)
        ckpt.step.assign_add(1)
        if int(ckpt.step) % 10 == 0:
          save_path = manager.save()
          print("Saved checkpoint for step {}: {}".format(int(ckpt.step), save_path))
          print("loss {:1.2f}".format(loss.numpy()))

    train_and_checkpoint(net, manager)
    first_loss = float(capsys.readouterr().out.strip().splitlines()[-1].split()[-1])  # test

    opt = tf.keras.optimizers.Adam(0.1)
    net = Net()
    dataset = toy_dataset()
    iterator = iter(dataset)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net, iterator=iterator)
    manager = tf.train.CheckpointManager(ckpt, './tf_ckpts', max_to_keep=3)

    train_and_checkpoint(net, manager)
    second = capsys.readouterr().out  # test
    assert "Restored from ./tf_ckpts/ckpt-5" in second  # test
    assert "Saved checkpoint for step 60: ./tf_ckpts/ckpt-6" in second  # test: the step was restored
    assert int(iterator._taken) == 99  # test: the iterator went on from element 49, as the guide's TensorFlow does
    assert float(second.strip().splitlines()[-1].split()[-1]) < first_loss  # test: training went on

    print(manager.checkpoints)  # List the three remaining checkpoints
    assert manager.checkpoints == ['./tf_ckpts/ckpt-8', './tf_ckpts/ckpt-9', './tf_ckpts/ckpt-10']  # test

    print(sorted(os.listdir('./tf_ckpts')))  # test: the guide's `!ls ./tf_ckpts`

    to_restore = tf.Variable(tf.zeros([5]))
    print(to_restore.numpy())  # All zeros
    fake_layer = tf.train.Checkpoint(bias=to_restore)
    fake_net = tf.train.Checkpoint(l1=fake_layer)
    new_root = tf.train.Checkpoint(net=fake_net)
    status = new_root.restore(tf.train.latest_checkpoint('./tf_ckpts/'))
    print(to_restore.numpy())  # This gets the restored value.
    np.testing.assert_array_equal(to_restore.numpy(), net.l1.bias.numpy())  # test

    status.assert_existing_objects_matched()

    deferred_restore = tf.Variable(tf.zeros([1, 5]))
    print(deferred_restore.numpy())  # Not restored; still zeros
    fake_layer.kernel = deferred_restore
    print(deferred_restore.numpy())  # Restored
    np.testing.assert_array_equal(deferred_restore.numpy(), net.l1.kernel.numpy())  # test

    reader = tf.train.load_checkpoint('./tf_ckpts/')
    shape_from_key = reader.get_variable_to_shape_map()
    dtype_from_key = reader.get_variable_to_dtype_map()

    sorted(shape_from_key.keys())

    key = 'net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE'

    print("Shape:", shape_from_key[key])
    print("Dtype:", dtype_from_key[key].name)

    reader.get_tensor(key)

    save = tf.train.Checkpoint()
    save.listed = [tf.Variable(1.)]
    save.listed.append(tf.Variable(2.))
    save.mapped = {'one': save.listed[0]}
    save.mapped['two'] = save.listed[1]
    save_path = save.save('./tf_list_example')

    restore = tf.train.Checkpoint()
    v2 = tf.Variable(0.)
    assert 0. == v2.numpy()  # Not restored yet
    restore.mapped = {'two': v2}
    restore.restore(save_path)
    assert 2. == v2.numpy()

    restore.listed = []
    print(restore.listed)  # ListWrapper([])
    v1 = tf.Variable(0.)
    restore.listed.append(v1)  # Restores v1, from restore() in the previous cell
    assert 1. == v1.numpy()

    out = capsys.readouterr().out  # test
    assert "Shape: [1, 5]" in out and "Dtype: float32" in out  # test
