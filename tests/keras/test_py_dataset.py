"""keras.utils.PyDataset (and its TF 2 name keras.utils.Sequence) in fit / evaluate / predict, as Keras 3 runs it:
every batch once per epoch, on_epoch_begin / on_epoch_end around each epoch, shuffled batch order with
fit(shuffle=True), workers fetching ahead on threads."""
import threading
import time
import warnings

import numpy as np
import pytest

import chainrule as tf
from chainrule import keras


class Regression(keras.utils.PyDataset):
    """y = x @ [1, 2, 3] in batches of 8; records which batches were asked for and the epoch hooks."""

    def __init__(self, n=40, batch_size=8, delay=0.0, **kwargs):
        super().__init__(**kwargs)
        rng = np.random.default_rng(0)
        self.x = rng.random((n, 3)).astype(np.float32)
        self.y = self.x @ np.array([[1.0], [2.0], [3.0]], np.float32)
        self.batch_size, self.delay = batch_size, delay
        self.asked, self.threads, self.events = [], set(), []

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        self.asked.append(index)
        self.threads.add(threading.current_thread().name)
        if self.delay:
            time.sleep(self.delay)
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]

    def on_epoch_begin(self):
        self.events.append("begin")

    def on_epoch_end(self):
        self.events.append("end")


def linear_model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_fit_runs_every_batch_once_per_epoch_and_calls_the_epoch_hooks():
    data = Regression()
    history = linear_model().fit(data, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert data.events == ["begin", "end"] * 3
    epochs = [data.asked[i * 5:(i + 1) * 5] for i in range(3)]
    assert all(sorted(e) == [0, 1, 2, 3, 4] for e in epochs)
    assert any(e != [0, 1, 2, 3, 4] for e in epochs)  # fit shuffles the batch order by default, as Keras 3


def test_fit_without_shuffle_asks_in_order():
    data = Regression()
    linear_model().fit(data, epochs=2, shuffle=False, verbose=0)
    assert data.asked == [0, 1, 2, 3, 4] * 2


def test_evaluate_and_predict_take_a_py_dataset():
    data = Regression()
    model = linear_model()
    model.fit(data, epochs=2, verbose=0)
    loss = model.evaluate(data, verbose=0)
    assert np.isclose(loss, model.evaluate(data.x, data.y, batch_size=8, verbose=0), rtol=1e-5)

    class Inputs(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return data.x[index * 8:(index + 1) * 8]  # x only

    predictions = model.predict(Inputs(), verbose=0)
    np.testing.assert_allclose(predictions, model.predict(data.x[:24], verbose=0), rtol=1e-6)


def test_sequence_is_py_dataset_and_a_subclass_without_super_init_still_works():
    assert keras.utils.Sequence is keras.utils.PyDataset is tf.keras.utils.PyDataset

    class OldStyle(tf.keras.utils.Sequence):  # TF 2 code often skips super().__init__()
        def __init__(self, x, y):
            self.x, self.y = x, y
            self.ended = 0

        def __len__(self):
            return 2

        def __getitem__(self, index):
            return self.x[index * 4:(index + 1) * 4], self.y[index * 4:(index + 1) * 4]

        def on_epoch_end(self):
            self.ended += 1

    data = Regression(n=8)
    old = OldStyle(data.x, data.y)
    with pytest.warns(UserWarning, match="should call `super\\(\\).__init__"):
        linear_model().fit(old, epochs=2, verbose=0)
    assert old.ended == 2
    assert [b[0].shape for b in old] == [(4, 3), (4, 3)]  # iterating a Sequence yields its batches


def test_workers_fetch_batches_ahead_on_threads_in_order():
    serial, threaded = Regression(delay=0.01), Regression(delay=0.01, workers=3, max_queue_size=4)
    model = linear_model()
    expected = model.predict(serial, verbose=0)
    np.testing.assert_array_equal(model.predict(threaded, verbose=0), expected)
    assert serial.threads == {threading.current_thread().name}
    assert threaded.threads and threading.current_thread().name not in threaded.threads
    history = linear_model().fit(threaded, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and threaded.events[-2:] == ["begin", "end"]
    assert not [t for t in threading.enumerate() if t.name.startswith("chainrule.data")]


def test_workers_run_getitem_at_once():
    meet = threading.Barrier(2, timeout=10)  # the first two batches must be fetched at the same time

    class Meeting(Regression):
        def __getitem__(self, index):
            if index < 2:
                meet.wait()
            return super().__getitem__(index)

    assert linear_model().predict(Meeting(workers=2), verbose=0).shape == (40, 1)


def test_an_error_in_getitem_reaches_fit():
    class Broken(Regression):
        def __getitem__(self, index):
            if index == 3:
                raise IndexError("batch 3 is missing")
            return super().__getitem__(index)

    for workers in (1, 2):
        with pytest.raises(IndexError, match="batch 3 is missing"):
            linear_model().fit(Broken(workers=workers), epochs=1, shuffle=False, verbose=0)


def test_an_endless_py_dataset_runs_with_steps_per_epoch():
    class Endless(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.data = Regression()

        @property
        def num_batches(self):
            return None

        def __getitem__(self, index):
            return self.data[index % 5]

    history = linear_model().fit(Endless(), epochs=2, steps_per_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 2


def test_sample_weights_and_class_weights_from_batches():
    class Weighted(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            x = np.ones((4, 3), np.float32) * index
            return x, np.ones((4, 1), np.float32), np.array([1.0, 0.0, 1.0, 0.0], np.float32)

    model = linear_model()
    history = model.fit(Weighted(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
