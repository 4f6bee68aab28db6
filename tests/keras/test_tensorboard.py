"""keras.callbacks.TensorBoard and tf.summary: TensorBoard's own event reader reads back what was written."""
import json

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras
from chainrule.keras.utils import set_random_seed

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read(folder):
    """Everything in the event files of ``folder``, through TensorBoard's EventAccumulator (nothing sampled away;
    no purge, since the validation folder holds tags on two step scales, epochs and iterations, as Keras writes)."""
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                                                 "tensors": 0, "images": 0},
                                                     purge_orphaned_data=False)
    accumulator.Reload()
    return accumulator


def scalars(accumulator, tag):
    """[(step, value), ...] of a scalar tag, the values rounded to float32's precision."""
    return [(event.step, float(np.float32(event.value))) for event in accumulator.Scalars(tag)]


def enumerated(values):
    return [(step, float(np.float32(value))) for step, value in enumerate(values)]


def model_and_data():
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu", name="hidden"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


def test_epoch_scalars_learning_rate_and_validation_are_read_back(tmp_path):
    model, x, y = model_and_data()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path)])
    train, validation = read(tmp_path / "train"), read(tmp_path / "validation")
    for name in ("loss", "accuracy"):
        assert scalars(train, f"epoch_{name}") == enumerated(history.history[name])
        assert scalars(validation, f"epoch_{name}") == enumerated(history.history[f"val_{name}"])
    assert scalars(train, "epoch_learning_rate") == enumerated([0.05] * 3)
    assert "epoch_learning_rate" not in validation.Tags()["scalars"]
    # after each validation run, against the optimizer's step (5 batches of 16 from the 72 training rows per epoch)
    steps = [step for step, _ in scalars(validation, "evaluation_loss_vs_iterations")]
    assert steps == [5, 10, 15]
    assert not any(tag.startswith("batch_") for tag in train.Tags()["scalars"])  # update_freq='epoch'
    # write_graph=True: the Keras model config for TensorBoard's graph tab
    config = train.Tensors("keras")[0].tensor_proto.string_val[0]
    assert json.loads(config)["class_name"] == "Sequential"


def test_batch_scalars_every_n_batches(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path, update_freq=2, write_graph=False)])
    train = read(tmp_path / "train")
    assert [step for step, _ in scalars(train, "batch_loss")] == [2, 4, 6, 8, 10, 12]
    assert "keras" not in train.Tags()["tensors"]
    every = tmp_path / "every"
    model.fit(x, y, epochs=1, batch_size=16, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(log_dir=every, update_freq="batch")])
    assert [step for step, _ in scalars(read(every / "train"), "batch_accuracy")] == [1, 2, 3, 4, 5, 6]


def test_weight_and_gradient_histograms(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=3, batch_size=16, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=2, write_grads=True,
                                                     write_images=True)])
    train = read(tmp_path / "train")
    kernel = train.Histograms("hidden/kernel/histogram")
    assert [event.step for event in kernel] == [0, 2]
    final = model.get_layer("hidden").kernel.numpy()
    histogram = kernel[-1].histogram_value
    assert histogram.num == final.size
    assert histogram.min == pytest.approx(final.min()) and histogram.max == pytest.approx(final.max())
    assert histogram.sum == pytest.approx(final.sum(), rel=1e-5, abs=1e-5)
    gradient = train.Histograms("out/bias/gradient")
    assert [event.step for event in gradient] == [0, 2] and gradient[0].histogram_value.num == 2
    assert "hidden/kernel/image" in train.Tags()["images"]


def test_evaluate_writes_validation_scalars(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    loss, accuracy = model.evaluate(x, y, verbose=0, callbacks=[keras.callbacks.TensorBoard(log_dir=tmp_path,
                                                                                             write_graph=False)])
    validation = read(tmp_path / "validation")
    assert scalars(validation, "evaluation_loss_vs_iterations") == [(6, float(np.float32(loss)))]
    assert scalars(validation, "evaluation_accuracy_vs_iterations") == [(6, float(np.float32(accuracy)))]


def test_bad_arguments():
    with pytest.raises(ValueError, match="update_freq"):
        keras.callbacks.TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="profile_batch"):
        keras.callbacks.TensorBoard(profile_batch=5)
    with pytest.raises(ValueError, match="histogram_freq"):
        keras.callbacks.TensorBoard(write_grads=True)


def test_missing_tensorboardx_names_the_pip_command(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    callback = keras.callbacks.TensorBoard(log_dir=tmp_path)
    model, x, y = model_and_data()
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[tensorboard\]'"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callback])


def test_tf_summary_writer(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    assert tf.summary.scalar("outside", 1.0, step=0) is False  # no default writer
    with writer.as_default(step=3):
        assert tf.summary.scalar("loss", tf.constant(0.5))
        assert tf.summary.histogram("weights", np.arange(10.0), step=4)
        assert tf.summary.text("note", "hello", step=5)
        with tf.summary.record_if(False):
            assert tf.summary.scalar("skipped", 1.0) is False
    with pytest.raises(ValueError, match="No step set"):
        with writer.as_default():
            tf.summary.scalar("loss", 1.0)
    writer.close()
    events = read(tmp_path)
    assert scalars(events, "loss") == [(3, 0.5)]
    assert events.Tensors("note/text_summary")[0].step == 5
    histogram = events.Histograms("weights")[0]
    assert histogram.step == 4 and histogram.histogram_value.num == 10 and histogram.histogram_value.sum == 45
    assert "skipped" not in events.Tags()["scalars"] and "outside" not in events.Tags()["scalars"]
