"""keras.callbacks.BackupAndRestore (issue 15): an interrupted fit run again with the same callback resumes at the
interrupted epoch (Keras's semantics) or batch, and ends bit-identical to an uninterrupted run: weights, optimizer
state, History and the callbacks' states, with shuffle=True, Dropout (seeded or not) and a SeedGenerator layer."""
import copy
import os
import signal
import warnings

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras.callbacks import backup_and_restore
from chainrule.keras.callbacks.backup_and_restore import BackupAndRestore, read_backup
from chainrule.keras.saving.file_format import MAGIC, ModelFileError

EPOCHS = 4
rng = np.random.default_rng(0)
X = rng.normal(size=(60, 5)).astype("float32")
Y = rng.integers(0, 3, 60)


def build():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(12, activation="relu"), keras.layers.Dropout(0.3),
                              keras.layers.Dense(12, activation="relu"), keras.layers.Dropout(0.2, seed=5),
                              keras.layers.GaussianNoise(0.1), keras.layers.Dense(3)])
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


class Interrupt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt after the ``at``-th batch of this fit (before the backup of that batch is made)."""

    def __init__(self, at=None):
        super().__init__()
        self.at, self.seen, self.epochs = at, 0, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


def callbacks(backup_dir, save_freq, **kwargs):
    return [keras.callbacks.EarlyStopping("loss", patience=20),
            keras.callbacks.ReduceLROnPlateau("loss", patience=1, factor=0.5),
            keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.8),  # (each epoch from the last rate)
            BackupAndRestore(backup_dir, save_freq=save_freq, **kwargs)]


def fit(model, backup_dir, save_freq, interrupt=None, **kwargs):
    return model.fit(X, Y, batch_size=8, epochs=EPOCHS, validation_split=0.2, shuffle=True, verbose=0,
                     callbacks=[interrupt or Interrupt()] + callbacks(backup_dir, save_freq, **kwargs))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    model = build()
    cbs = callbacks(str(tmp_path_factory.mktemp("ref") / "backup"), "epoch")
    history = model.fit(X, Y, batch_size=8, epochs=EPOCHS, validation_split=0.2, shuffle=True, verbose=0,
                        callbacks=cbs)
    return model, history, cbs


def assert_same_run(model, history, reference):
    ref_model, ref_history, ref_callbacks = reference
    for a, b in zip(ref_model.get_weights(), model.get_weights()):
        assert a.tobytes() == b.tobytes()
    ref_state, state = ref_model.optimizer.get_state(), model.optimizer.get_state()
    assert sorted(ref_state) == sorted(state)
    assert all(ref_state[k].tobytes() == state[k].tobytes() for k in state)
    assert history.history == ref_history.history
    assert history.epoch == ref_history.epoch == list(range(EPOCHS))
    assert float(model.optimizer.learning_rate) == float(ref_model.optimizer.learning_rate)


@pytest.mark.parametrize("stops", [[1], [5], [6, 1, 9], [2, 2, 2, 2]])
def test_resumed_at_the_batch_ends_bit_identical(tmp_path, reference, stops):
    backup_dir = str(tmp_path / "backup")
    for at in stops:
        with pytest.raises(KeyboardInterrupt):
            fit(build(), backup_dir, 1, Interrupt(at))
    model = build()
    history = fit(model, backup_dir, 1)
    assert_same_run(model, history, reference)
    assert not os.path.exists(backup_dir)  # delete_checkpoint=True: gone once fit ends normally


def test_save_freq_epoch_resumes_at_the_interrupted_epoch(tmp_path, reference):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        fit(build(), backup_dir, "epoch", Interrupt(6 * 2 + 3))  # in epoch 3 (6 batches an epoch)
    assert read_backup(backup_dir)["epoch"] == 2 and read_backup(backup_dir)["batch"] == 0
    model, probe = build(), Interrupt()
    history = fit(model, backup_dir, "epoch", probe)
    assert probe.epochs == [2, 3]  # the epochs done are not run again
    assert_same_run(model, history, reference)


def test_callback_states_are_restored(tmp_path, reference):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        fit(build(), backup_dir, 4, Interrupt(17))
    model = build()
    cbs = callbacks(backup_dir, 4)
    restored = {}

    class Probe(Interrupt):  # what the callbacks hold when the resumed fit starts its first epoch
        def on_epoch_begin(self, epoch, logs=None):
            restored.setdefault("stop", (cbs[0].wait, cbs[0].best))
            restored.setdefault("plateau", (cbs[1].best, float(model.optimizer.learning_rate)))

    model.fit(X, Y, batch_size=8, epochs=EPOCHS, validation_split=0.2, verbose=0, callbacks=[Probe()] + cbs)
    assert np.isfinite(restored["stop"][1]) and np.isfinite(restored["plateau"][0])  # not a fresh start
    ref_stop, ref_plateau = reference[2][0], reference[2][1]
    assert (cbs[0].wait, cbs[0].best, cbs[0].best_epoch) == (ref_stop.wait, ref_stop.best, ref_stop.best_epoch)
    assert (cbs[1].wait, cbs[1].best, cbs[1].cooldown_counter) == \
        (ref_plateau.wait, ref_plateau.best, ref_plateau.cooldown_counter)


def test_the_backup_is_a_checksummed_chainrule_file_without_pickle(tmp_path):
    backup_dir = tmp_path / "backup"
    fit(build(), str(backup_dir), "epoch", delete_checkpoint=False)
    files = os.listdir(backup_dir)
    assert files == ["training_state.chainrule"]
    data = (backup_dir / files[0]).read_bytes()
    assert data.startswith(MAGIC) and b"\x80\x04" not in data[:64]
    state = read_backup(backup_dir)
    assert (state["epoch"], state["batch"]) == (EPOCHS, 0)
    probe = Interrupt()
    fit(build(), str(backup_dir), "epoch", probe, delete_checkpoint=False)  # a finished run: nothing left to do
    assert probe.epochs == []


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path, reference):
    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        fit(build(), str(backup_dir), 2, Interrupt(9), double_checkpoint=True)
    assert sorted(os.listdir(backup_dir)) == ["training_state.chainrule", "training_state.previous.chainrule"]
    latest = backup_dir / "training_state.chainrule"
    data = bytearray(latest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    latest.write_bytes(bytes(data))
    model = build()
    with pytest.warns(UserWarning, match="resuming from the previous backup"):
        history = fit(model, str(backup_dir), 2, double_checkpoint=True)
    assert_same_run(model, history, reference)


def test_a_damaged_backup_is_refused_without_double_checkpoint(tmp_path):
    backup_dir = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        fit(build(), str(backup_dir), 2, Interrupt(5))
    latest = backup_dir / "training_state.chainrule"
    latest.write_bytes(latest.read_bytes()[:-10])
    with pytest.raises(ModelFileError, match="training_state.chainrule: truncated"):
        fit(build(), str(backup_dir), 2)


def test_a_backup_of_another_model_is_refused(tmp_path):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        fit(build(), backup_dir, 2, Interrupt(3))
    other = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    other.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ModelFileError, match="does not fit this model"):
        other.fit(X, Y, epochs=1, verbose=0, callbacks=[BackupAndRestore(backup_dir)])


def test_ctrl_c_while_the_backup_is_written_leaves_it_whole(tmp_path, monkeypatch):
    """SIGINT arriving in the middle of the write is held until the file is complete, then interrupts fit."""
    real_write = backup_and_restore.write_file
    calls = []

    def interrupted_write(path, header, tensors):
        calls.append(path)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return real_write(path, header, tensors)

    monkeypatch.setattr(backup_and_restore, "write_file", interrupted_write)
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        fit(build(), backup_dir, 1)
    assert len(calls) == 3
    state = read_backup(backup_dir)  # the third backup, complete and readable
    assert (state["epoch"], state["batch"]) == (0, 3)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        BackupAndRestore("")
    for bad in (0, -1, "batch", 1.5):
        with pytest.raises(ValueError, match="save_freq"):
            BackupAndRestore("x", save_freq=bad)


def test_an_unbuilt_model_with_a_backup_is_refused(tmp_path):
    backup_dir = str(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        fit(build(), backup_dir, 2, Interrupt(3))
    model = keras.Sequential([keras.layers.Dense(3)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="must be built"):
        model.fit(X, np.zeros((60, 3)), verbose=0, callbacks=[BackupAndRestore(backup_dir)])


# --- damaged backups: refused with ModelFileError, or (an edit that still makes sense) resumed ------------------------
JUNK = [-1, 2**70, "x", None, [], {}, 1.5, True, {"a": 1}, [1, 2], float("nan")]


def _paths(value, prefix=()):
    """Every place in a JSON value: (path, value), containers and leaves."""
    yield prefix, value
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from _paths(item, prefix + (key,))


def _edited(header, path, junk):
    header = copy.deepcopy(header)
    target = header
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    return header


@pytest.fixture(scope="module")
def saved_backup(tmp_path_factory):
    backup_dir = tmp_path_factory.mktemp("fuzz") / "backup"
    with pytest.raises(KeyboardInterrupt):
        fit(build(), str(backup_dir), 1, Interrupt(8))
    path = backup_dir / "training_state.chainrule"
    return backup_dir, path.read_bytes()


def _resume(backup_dir, data: bytes):
    """Resume from a backup holding ``data``: 'refused' (ModelFileError) or 'accepted' (fit ran to its end)."""
    backup_dir.mkdir(exist_ok=True)
    (backup_dir / "training_state.chainrule").write_bytes(data)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (an edited rate may make the loss overflow: fit says so)
            fit(build(), str(backup_dir), 1000)
    except ModelFileError as error:
        assert "training_state.chainrule" in str(error)
        return "refused"
    return "accepted"


def test_damaged_backups_are_refused(saved_backup, tmp_path):
    """Bytes flipped, cut, inserted or zeroed anywhere: the checksum refuses every one."""
    _, data = saved_backup
    rng = np.random.default_rng(7)
    outcomes = []
    for i in range(30):
        kind = i % 4
        at = int(rng.integers(len(data)))
        if kind == 0:
            damaged = data[:at] + bytes([data[at] ^ int(rng.integers(1, 256))]) + data[at + 1:]
        elif kind == 1:
            damaged = data[:at]
        elif kind == 2:
            damaged = data[:at] + rng.integers(256, size=int(rng.integers(1, 9)), dtype=np.uint8).tobytes() + data[at:]
        else:
            damaged = data[:at] + bytes(min(64, len(data) - at)) + data[at + 64:]
            if damaged == data:
                continue
        outcomes.append(_resume(tmp_path / f"b{i}", damaged))
    assert outcomes and set(outcomes) == {"refused"}
    print(f"\ndamaged backups: {len(outcomes)} refused of {len(outcomes)}")


def test_edited_backups_are_refused_or_resumed(saved_backup, tmp_path):
    """A header value or an array replaced (a valid checksum over edited content): each backup is refused with a
    ModelFileError naming it, or resumed; never another error, never a crash inside fit."""
    from chainrule.keras.saving.file_format import decode, write_file

    backup_dir, data = saved_backup
    header, arrays = decode(data)
    places = [path for path, _ in _paths(header) if path]
    rng = np.random.default_rng(11)
    counts = {"refused": 0, "accepted": 0}
    for i in range(60):
        edited_header, edited_arrays = header, dict(arrays)
        if i % 3 == 2:  # an array dropped, retyped or reshaped
            name = sorted(arrays)[int(rng.integers(len(arrays)))]
            how = i % 9
            if how == 2:
                del edited_arrays[name]
            elif how == 5:
                edited_arrays[name] = arrays[name].astype(np.float64 if arrays[name].dtype != np.float64 else np.int32)
            else:
                edited_arrays[name] = np.zeros((2,) + arrays[name].shape, arrays[name].dtype)
        else:
            path = places[int(rng.integers(len(places)))]
            edited_header = _edited(header, path, JUNK[int(rng.integers(len(JUNK)))])
        out = tmp_path / f"edit{i}"
        out.mkdir()
        write_file(out / "file", edited_header, list(edited_arrays.items()))
        counts[_resume(tmp_path / f"b{i}", (out / "file").read_bytes())] += 1
    assert counts["refused"] >= 20
    print(f"\nedited backups: {counts['refused']} refused, {counts['accepted']} resumed")


class Rows(keras.utils.PyDataset):
    """X, Y in batches of 8, as a Keras PyDataset (shuffled by fit: batch order drawn at each epoch's start)."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return X[8 * i:8 * i + 8], Y[8 * i:8 * i + 8]


def test_a_py_dataset_resumes_bit_identical(tmp_path):
    def run(backup_dir, interrupt=None):
        model = build()
        history = model.fit(Rows(), epochs=3, shuffle=True, verbose=0,
                            callbacks=[interrupt or Interrupt(), BackupAndRestore(backup_dir, save_freq=1)])
        return model, history

    reference_model, reference_history = run(str(tmp_path / "ref"))
    for at in (4, 5):
        with pytest.raises(KeyboardInterrupt):
            run(str(tmp_path / "backup"), Interrupt(at))
    model, history = run(str(tmp_path / "backup"))
    assert all(a.tobytes() == b.tobytes() for a, b in zip(reference_model.get_weights(), model.get_weights()))
    assert history.history == reference_history.history
