"""TensorFlow tutorial "Multi-worker training with Keras", run on chainrule, as far as one machine allows.

Source: https://www.tensorflow.org/tutorials/distribute/multi_worker_with_keras
(tensorflow/docs, site/en/tutorials/distribute/multi_worker_with_keras.ipynb).

The tutorial's code is kept as written, except:
- the import line: `import tensorflow as tf` -> `import chainrule as tf` (also in the files it writes);
- `!pip install tf-nightly` and the notebook's `%%bash`/`%killbgscripts` magics are left out;
- MNIST (`tf.keras.datasets.mnist.load_data()`, a download) is replaced by 512 images of its shapes and types
  (tests/programs/mnist_like.py) in the `mnist_setup.py` the tutorial writes; `shuffle(60000)` is `shuffle(512)`;
- the cluster has one worker (`localhost:12345`), not two: chainrule's MultiWorkerMirroredStrategy takes its
  workers from `mpiexec`, not from TF_CONFIG, and the test runs `main.py` once, in the foreground, with
  TF_CONFIG set as the tutorial sets it; a second test (marked mpi) runs main.py on the tutorial's two workers
  under `mpiexec -n 2`;
- `steps_per_epoch=70` is 8 and `20` is 4 (marked); the files go to pytest's temporary folder instead of /tmp;
- lines marked `# test:` check what the program produces.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent
STEPS = 8  # test: steps_per_epoch=70 in the tutorial
SHORT_STEPS = 4  # test: steps_per_epoch=20 in the tutorial

MNIST_SETUP = textwrap.dedent('''
import os
import chainrule as tf
import numpy as np
import mnist_like

def mnist_dataset(batch_size):
  (x_train, y_train), _ = mnist_like.load_data(n_train=512, n_test=0, num_classes=10)  # test: instead of tf.keras.datasets.mnist.load_data()
  # The `x` arrays are in uint8 and have values in the [0, 255] range.
  # You need to convert them to float32 with values in the [0, 1] range.
  x_train = x_train / np.float32(255)
  y_train = y_train.astype(np.int64)
  train_dataset = tf.data.Dataset.from_tensor_slices(
      (x_train, y_train)).shuffle(512).repeat().batch(batch_size)
  return train_dataset

def build_and_compile_cnn_model():
  model = tf.keras.Sequential([
      tf.keras.layers.InputLayer(input_shape=(28, 28)),
      tf.keras.layers.Reshape(target_shape=(28, 28, 1)),
      tf.keras.layers.Conv2D(32, 3, activation='relu'),
      tf.keras.layers.Flatten(),
      tf.keras.layers.Dense(128, activation='relu'),
      tf.keras.layers.Dense(10)
  ])
  model.compile(
      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
      optimizer=tf.keras.optimizers.SGD(learning_rate=0.001),
      metrics=['accuracy'])
  return model
''')

MAIN = textwrap.dedent(f'''
import os
import json

import chainrule as tf
import mnist_setup

per_worker_batch_size = 64
tf_config = json.loads(os.environ['TF_CONFIG'])
num_workers = len(tf_config['cluster']['worker'])

strategy = tf.distribute.MultiWorkerMirroredStrategy()

global_batch_size = per_worker_batch_size * num_workers
multi_worker_dataset = mnist_setup.mnist_dataset(global_batch_size)

with strategy.scope():
  # Model building/compiling need to be within `strategy.scope()`.
  multi_worker_model = mnist_setup.build_and_compile_cnn_model()


multi_worker_model.fit(multi_worker_dataset, epochs=3, steps_per_epoch={STEPS})
''')


@pytest.mark.slow  # test: about 25 s of training and a second process
def test_multi_worker_with_keras(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # test: the files go to a temporary folder
    monkeypatch.setattr(sys, "path", list(sys.path))  # test: the tutorial's sys.path edit stays in this test
    monkeypatch.delitem(sys.modules, "mnist_setup", raising=False)
    (tmp_path / "mnist_setup.py").write_text(MNIST_SETUP)  # test: the tutorial's %%writefile mnist_setup.py
    (tmp_path / "main.py").write_text(MAIN)  # test: the tutorial's %%writefile main.py

    import json
    import os
    import sys as sys_

    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    os.environ.pop('TF_CONFIG', None)

    if '.' not in sys_.path:
      sys_.path.insert(0, '.')

    import chainrule as tf

    import mnist_setup

    batch_size = 64
    single_worker_dataset = mnist_setup.mnist_dataset(batch_size)
    single_worker_model = mnist_setup.build_and_compile_cnn_model()
    single_worker_model.fit(single_worker_dataset, epochs=3, steps_per_epoch=STEPS)

    tf_config = {
        'cluster': {
            'worker': ['localhost:12345']  # test: one worker ('localhost:23456' left out)
        },
        'task': {'type': 'worker', 'index': 0}
    }

    json.dumps(tf_config)

    strategy = tf.distribute.MultiWorkerMirroredStrategy()

    with strategy.scope():
      # Model building/compiling need to be within `strategy.scope()`.
      multi_worker_model = mnist_setup.build_and_compile_cnn_model()

    os.environ['TF_CONFIG'] = json.dumps(tf_config)
    # test: the tutorial's `python main.py &> job_0.log`, run to its end
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(PROGRAMS), str(tmp_path)] + sys_.path))
    job = subprocess.run([sys_.executable, "main.py"], capture_output=True, text=True, env=env, timeout=300)
    assert job.returncode == 0, job.stderr[-3000:]  # test
    assert "Epoch 3/3" in job.stdout and "accuracy" in job.stdout  # test: the worker trained its three epochs

    os.environ.pop('TF_CONFIG', None)

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF

    global_batch_size = 64
    multi_worker_dataset = mnist_setup.mnist_dataset(batch_size=64)
    dataset_no_auto_shard = multi_worker_dataset.with_options(options)

    model_path = str(tmp_path / 'keras-model.keras')  # test: '/tmp/keras-model' in the tutorial

    def _is_chief(task_type, task_id):
      # Note: there are two possible `TF_CONFIG` configurations.
      #   1) In addition to `worker` tasks, a `chief` task type is use;
      #      in this case, this function should be modified to
      #      `return task_type == 'chief'`.
      #   2) Only `worker` task type is used; in this case, worker 0 is
      #      regarded as the chief. The implementation demonstrated here
      #      is for this case.
      # For the purpose of this Colab section, the `task_type` is `None` case
      # is added because it is effectively run with only a single worker.
      return (task_type == 'worker' and task_id == 0) or task_type is None

    def _get_temp_dir(dirpath, task_id):
      base_dirpath = 'workertemp_' + str(task_id)
      temp_dir = os.path.join(dirpath, base_dirpath)
      tf.io.gfile.makedirs(temp_dir)
      return temp_dir

    def write_filepath(filepath, task_type, task_id):
      dirpath = os.path.dirname(filepath)
      base = os.path.basename(filepath)
      if not _is_chief(task_type, task_id):
        dirpath = _get_temp_dir(dirpath, task_id)
      return os.path.join(dirpath, base)

    task_type, task_id = (strategy.cluster_resolver.task_type,
                          strategy.cluster_resolver.task_id)
    write_model_path = write_filepath(model_path, task_type, task_id)

    multi_worker_model.save(write_model_path)

    if not _is_chief(task_type, task_id):
      tf.io.gfile.rmtree(os.path.dirname(write_model_path))

    loaded_model = tf.keras.models.load_model(model_path)

    # Now that the model is restored, and can continue with the training.
    loaded_model.fit(single_worker_dataset, epochs=2, steps_per_epoch=SHORT_STEPS)

    checkpoint_dir = str(tmp_path / 'ckpt')  # test: '/tmp/ckpt' in the tutorial

    checkpoint = tf.train.Checkpoint(model=multi_worker_model)
    write_checkpoint_dir = write_filepath(checkpoint_dir, task_type, task_id)
    checkpoint_manager = tf.train.CheckpointManager(
        checkpoint, directory=write_checkpoint_dir, max_to_keep=1)

    checkpoint_manager.save()
    if not _is_chief(task_type, task_id):
      tf.io.gfile.rmtree(write_checkpoint_dir)

    latest_checkpoint = tf.train.latest_checkpoint(checkpoint_dir)
    checkpoint.restore(latest_checkpoint)
    multi_worker_model.fit(multi_worker_dataset, epochs=2, steps_per_epoch=SHORT_STEPS)

    backup_dir = str(tmp_path / 'backup')  # test: '/tmp/backup' in the tutorial

    # Multi-worker training with `MultiWorkerMirroredStrategy`
    # and the `BackupAndRestore` callback. The training state
    # is backed up at epoch boundaries by default.
    callbacks = [tf.keras.callbacks.BackupAndRestore(backup_dir=backup_dir)]
    with strategy.scope():
      multi_worker_model = mnist_setup.build_and_compile_cnn_model()
    multi_worker_model.fit(multi_worker_dataset,
                           epochs=3,
                           steps_per_epoch=STEPS,
                           callbacks=callbacks)

    # The training state is backed up at epoch boundaries because `save_freq` is
    # set to `epoch`.
    callbacks = [tf.keras.callbacks.BackupAndRestore(backup_dir=backup_dir)]
    with strategy.scope():
      multi_worker_model = mnist_setup.build_and_compile_cnn_model()
    multi_worker_model.fit(multi_worker_dataset,
                           epochs=3,
                           steps_per_epoch=STEPS,
                           callbacks=callbacks)

    # The training state is backed up at every 30 steps because `save_freq` is set
    # to an integer value of `30`.
    callbacks = [tf.keras.callbacks.BackupAndRestore(backup_dir=backup_dir, save_freq=3)]  # test: save_freq=30
    with strategy.scope():
      multi_worker_model = mnist_setup.build_and_compile_cnn_model()
    history = multi_worker_model.fit(multi_worker_dataset,
                                     epochs=3,
                                     steps_per_epoch=STEPS,
                                     callbacks=callbacks)

    assert task_type == 'worker' and task_id == 0  # test: one worker, the chief
    assert os.path.exists(model_path) and not os.path.exists(tmp_path / 'workertemp_0')  # test
    assert os.path.basename(latest_checkpoint) == 'ckpt-1'  # test
    assert len(history.history['loss']) == 3  # test: each fit trained all its epochs (the backup is removed at its end)
    assert not os.path.exists(backup_dir) or not os.listdir(backup_dir)  # test: nothing left to resume from


@pytest.mark.mpi
def test_main_py_on_two_workers(tmp_path):
    """The tutorial's two workers: its main.py started by `mpiexec -n 2` (chainrule's workers), with the tutorial's
    two-worker TF_CONFIG (global batch 128): each worker trains on its half of every batch, one log is printed."""
    pytest.importorskip("mpi4py")
    mpiexec = Path(sys.executable).parent / "mpiexec"
    if not mpiexec.exists():
        pytest.skip("mpiexec not found (pip install 'chainrule[mpi]' brings MPICH's)")
    (tmp_path / "mnist_setup.py").write_text(MNIST_SETUP)
    (tmp_path / "main.py").write_text(MAIN)
    tf_config = {'cluster': {'worker': ['localhost:12345', 'localhost:23456']}, 'task': {'type': 'worker', 'index': 0}}
    env = dict(os.environ, TF_CONFIG=json.dumps(tf_config),
               PYTHONPATH=os.pathsep.join([str(PROGRAMS), str(tmp_path)] + sys.path))
    job = subprocess.run([str(mpiexec), "-n", "2", sys.executable, "main.py"], cwd=tmp_path, capture_output=True,
                         text=True, env=env, timeout=300)
    assert job.returncode == 0, job.stderr[-3000:]
    assert job.stdout.count("Epoch 3/3") == 1 and "accuracy" in job.stdout
