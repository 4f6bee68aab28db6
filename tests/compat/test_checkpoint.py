"""tf.train.Checkpoint, CheckpointManager and latest_checkpoint, as TensorFlow 2's: values matched by attribute
name, restore-on-create, the load status's assertions, the 'checkpoint' state file, and the files on disk."""
import os

import numpy as np
import pytest

import chainrule as tf
from chainrule.keras.saving import MAGIC, ModelFileError


class Net(tf.keras.Model):
    """The model of TensorFlow's checkpoint guide."""

    def __init__(self):
        super().__init__()
        self.l1 = tf.keras.layers.Dense(5)

    def call(self, x):
        return self.l1(x)


def toy_batches(n=4):
    inputs = np.arange(10, dtype="float32")[:, None]
    labels = inputs * 5.0 + np.arange(5, dtype="float32")[None, :]
    return [(inputs[2 * i:2 * i + 2], labels[2 * i:2 * i + 2]) for i in range(n)]


def train_step(net, x, y, optimizer):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.abs(net(x) - y))
    variables = net.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return float(loss)


def test_save_then_restore_into_new_objects_built_later_resumes_training_exactly(tmp_path):
    net, opt = Net(), tf.keras.optimizers.Adam(0.1)
    ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)
    batches = toy_batches()
    for x, y in batches[:2]:
        train_step(net, x, y, opt)
        ckpt.step.assign_add(1)
    path = ckpt.save(str(tmp_path / "ckpt"))
    assert path == str(tmp_path / "ckpt-1")
    expected = [train_step(net, x, y, opt) for x, y in batches[2:]]  # the run goes on

    net2, opt2 = Net(), tf.keras.optimizers.Adam(0.1)  # a new program: nothing built, no optimizer state
    ckpt2 = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt2, net=net2)
    status = ckpt2.restore(tf.train.latest_checkpoint(str(tmp_path)))
    assert int(ckpt2.step) == 3 and int(opt2.iterations) == 2 and int(ckpt2.save_counter) == 1
    with pytest.raises(AssertionError, match="Unresolved object in checkpoint"):
        status.assert_consumed()  # the kernel, the bias and their slots wait for the layer to be built
    status.assert_existing_objects_matched()
    resumed = [train_step(net2, x, y, opt2) for x, y in batches[2:]]  # built on the first call: restored then
    assert resumed == expected
    status.assert_consumed()


def test_restore_into_existing_objects_and_the_files(tmp_path):
    model = tf.keras.Sequential([tf.keras.layers.Dense(3, input_shape=(2,)), tf.keras.layers.BatchNormalization()])
    opt = tf.keras.optimizers.SGD(0.1, momentum=0.9)
    train_step(model, np.ones((4, 2), "float32"), np.zeros((4, 3), "float32"), opt)
    ckpt = tf.train.Checkpoint(model=model, opt=opt)
    path = ckpt.save(tmp_path / "run" / "ckpt")
    assert sorted(os.listdir(tmp_path / "run")) == ["checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index"]
    for name in ("ckpt-1.index", "ckpt-1.data-00000-of-00001"):
        assert (tmp_path / "run" / name).read_bytes().startswith(MAGIC)  # chainrule's container, never a pickle
    assert (tmp_path / "run" / "checkpoint").read_text().splitlines() == [
        'model_checkpoint_path: "ckpt-1"', 'all_model_checkpoint_paths: "ckpt-1"']
    keys = dict(tf.train.list_variables(path))
    assert keys["model/layer-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"] == [2, 3]
    assert keys["model/layer-1/moving_mean/.ATTRIBUTES/VARIABLE_VALUE"] == [3]
    assert keys["model/layer-0/kernel/.OPTIMIZER_SLOT/opt/momentum/.ATTRIBUTES/VARIABLE_VALUE"] == [2, 3]
    assert keys["opt/iterations/.ATTRIBUTES/VARIABLE_VALUE"] == [] and "_CHECKPOINTABLE_OBJECT_GRAPH" in keys
    saved = [w.numpy().copy() for w in model.weights]
    state = opt.get_state()
    np.testing.assert_array_equal(tf.train.load_variable(str(tmp_path / "run"),
                                                         "model/layer-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"), saved[0])
    for w in model.weights:
        w.assign(np.zeros(w.shape, "float32"))
    opt.set_state({key: value * 0 for key, value in state.items()})
    ckpt.restore(path).assert_consumed()
    for w, value in zip(model.weights, saved):
        np.testing.assert_array_equal(w.numpy(), value)
    for key, value in opt.get_state().items():
        np.testing.assert_array_equal(value, state[key])
    reader = tf.train.load_checkpoint(path)
    assert reader.get_variable_to_dtype_map()["opt/iterations/.ATTRIBUTES/VARIABLE_VALUE"] == tf.int64
    assert reader.has_tensor("model/layer-0/bias/.ATTRIBUTES/VARIABLE_VALUE")


def test_a_value_waits_for_the_attribute_it_belongs_to(tmp_path):
    """The guide's delayed restoration: an object assigned after restore() gets its value when assigned."""
    path = tf.train.Checkpoint(bias=tf.Variable([1.0, 2.0]), inner=tf.train.Checkpoint(w=tf.Variable(7.0))).write(
        str(tmp_path / "c"))
    later = tf.train.Checkpoint()
    status = later.read(path)
    with pytest.raises(AssertionError):
        status.assert_consumed()
    bias = tf.Variable(tf.zeros([2]))
    later.bias = bias
    np.testing.assert_array_equal(bias.numpy(), [1.0, 2.0])
    later.inner = tf.train.Checkpoint()
    w = tf.Variable(0.0)
    later.inner.w = w
    assert float(w) == 7.0
    status.assert_consumed()


def test_modules_lists_and_dicts(tmp_path):
    class Block(tf.Module):
        def __init__(self):
            super().__init__()
            self.layers = [tf.Variable([1.0]), {"scale": tf.Variable(2.0)}]

    block = Block()
    path = tf.train.Checkpoint(block=block).save(str(tmp_path / "m"))
    assert "block/layers/1/scale/.ATTRIBUTES/VARIABLE_VALUE" in dict(tf.train.list_variables(path))
    other = Block()
    other.layers[0].assign([5.0])
    other.layers[1]["scale"].assign(0.0)
    tf.train.Checkpoint(block=other).restore(path).assert_consumed()
    assert other.layers[0].numpy().tolist() == [1.0] and float(other.layers[1]["scale"]) == 2.0


def test_root_checkpoint(tmp_path):
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(3,))])
    path = tf.train.Checkpoint(model).save(str(tmp_path / "r"))
    assert "layer-0/kernel/.ATTRIBUTES/VARIABLE_VALUE" in dict(tf.train.list_variables(path))
    copy = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(3,))])
    tf.train.Checkpoint(copy).restore(path).assert_consumed()
    np.testing.assert_array_equal(copy.weights[0].numpy(), model.weights[0].numpy())


def test_write_and_read_have_no_counter(tmp_path):
    v = tf.Variable(3.0)
    ckpt = tf.train.Checkpoint(v=v)
    path = ckpt.write(str(tmp_path / "w"))
    assert path == str(tmp_path / "w") and not (tmp_path / "checkpoint").exists()
    tf.train.Checkpoint(v=tf.Variable(0.0)).read(path).assert_consumed()
    with pytest.raises(AssertionError, match="not bound to checkpointed values"):
        tf.train.Checkpoint(v=tf.Variable(0.0)).restore(path).assert_consumed()  # restore() makes save_counter


def test_status_assertions_and_bad_input(tmp_path):
    status = tf.train.Checkpoint(v=tf.Variable(1.0)).restore(None)
    for check in (status.assert_consumed, status.assert_existing_objects_matched, status.assert_nontrivial_match):
        with pytest.raises(AssertionError, match="No checkpoint specified"):
            check()
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    path = tf.train.Checkpoint(v=tf.Variable(1.0)).save(str(tmp_path / "s"))
    bigger = tf.train.Checkpoint(v=tf.Variable(1.0), extra=tf.Variable(2.0))
    with pytest.raises(AssertionError, match="Found 1 Python objects that were not bound"):
        bigger.restore(path).assert_existing_objects_matched()
    other = tf.train.Checkpoint(w=tf.Variable(1.0))
    status = other.read(path)  # (restore() would match the saved save_counter)
    with pytest.raises(AssertionError, match="Nothing except the root object matched"):
        status.assert_nontrivial_match()
    assert status.expect_partial() is status
    with pytest.raises(ValueError, match="incompatible tensor with shape"):
        tf.train.Checkpoint(v=tf.Variable([1.0, 2.0])).restore(path)
    with pytest.raises(tf.errors.NotFoundError, match="missing the checkpoint suffix"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(str(tmp_path / "s"))
    with pytest.raises(ValueError, match="expecting lr to be a trackable object"):
        tf.train.Checkpoint(lr=0.1)
    data = tmp_path / "s-1.data-00000-of-00001"
    data.write_bytes(data.read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelFileError, match="damaged|not the data"):
        tf.train.Checkpoint(v=tf.Variable(1.0)).restore(path)


def test_unrestored_values_are_reported_unless_expected(tmp_path, caplog):
    path = tf.train.Checkpoint(a=tf.Variable(1.0), b=tf.Variable(2.0)).write(str(tmp_path / "p"))
    status = tf.train.Checkpoint(a=tf.Variable(0.0)).read(path)
    del status
    assert "Value in checkpoint could not be found in the restored object: (root).b" in caplog.text
    caplog.clear()
    tf.train.Checkpoint(a=tf.Variable(0.0)).read(path).expect_partial()
    assert "could not be found" not in caplog.text


def test_manager_keeps_the_newest_and_takes_up_its_folder(tmp_path):
    v = tf.Variable(0)
    ckpt = tf.train.Checkpoint(v=v)
    manager = tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=2, checkpoint_name="model")
    assert manager.latest_checkpoint is None and manager.restore_or_initialize() is None
    for i in range(4):
        v.assign(i)
        manager.save()
    assert [os.path.basename(p) for p in manager.checkpoints] == ["model-3", "model-4"]
    assert sorted(p for p in os.listdir(tmp_path) if p.endswith(".index")) == ["model-3.index", "model-4.index"]
    assert manager.save(checkpoint_number=100) == str(tmp_path / "model-100") and int(ckpt.save_counter) == 5
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "model-100")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.all_model_checkpoint_paths == [str(tmp_path / "model-4"), str(tmp_path / "model-100")]
    assert len(state.all_model_checkpoint_timestamps) == 2

    v2 = tf.Variable(-1)
    again = tf.train.CheckpointManager(tf.train.Checkpoint(v=v2), str(tmp_path), max_to_keep=1)
    assert again.checkpoints == manager.checkpoints
    assert again.restore_or_initialize() == str(tmp_path / "model-100") and int(v2) == 3
    again.save()
    assert [os.path.basename(p) for p in again.checkpoints] == ["ckpt-6"]
    assert not (tmp_path / "model-4.index").exists() and not (tmp_path / "model-100.index").exists()
    with pytest.raises(ValueError, match="positive integer"):
        tf.train.CheckpointManager(ckpt, str(tmp_path), max_to_keep=0)


def test_manager_preserves_one_every_n_hours_and_saves_every_n_steps(tmp_path, monkeypatch):
    import chainrule.compat.tf.train.management as management

    clock = [1000.0]
    monkeypatch.setattr(management.time, "time", lambda: clock[0])
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=tf.Variable(1.0)), str(tmp_path), max_to_keep=1,
                                         keep_checkpoint_every_n_hours=1)
    for _ in range(3):
        clock[0] += 1800.0  # half an hour apart
        manager.save()
    kept = sorted(p[:-len(".index")] for p in os.listdir(tmp_path) if p.endswith(".index"))
    assert kept == ["ckpt-2", "ckpt-3"]  # ckpt-2 is an hour after the start: preserved, no longer managed
    assert [os.path.basename(p) for p in manager.checkpoints] == ["ckpt-3"]

    step = tf.Variable(0)
    stepped = tf.train.CheckpointManager(tf.train.Checkpoint(step=step), str(tmp_path / "s"), max_to_keep=None,
                                         step_counter=step, checkpoint_interval=5)
    saved = []
    for i in range(12):
        step.assign(i)
        saved.append(stepped.save() is not None)
    assert [i for i, s in enumerate(saved) if s] == [0, 5, 10]


def test_a_compiled_models_optimizer_is_saved_with_it_and_fit_resumes(tmp_path):
    def make():
        return tf.keras.Sequential([tf.keras.layers.Dense(4, input_shape=(3,)), tf.keras.layers.Dense(1)])

    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = make()
    model.compile(tf.keras.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "fit"))
    assert "model/optimizer/iterations/.ATTRIBUTES/VARIABLE_VALUE" in dict(tf.train.list_variables(path))
    expected = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"]

    again = make()
    status = tf.train.Checkpoint(model=again).restore(path)
    again.compile(tf.keras.optimizers.Adam(0.01), "mse")  # the optimizer arrives after restore(): restored then
    assert int(again.optimizer.iterations) == 4
    assert again.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0).history["loss"] == expected
    status.assert_consumed()
