"""Model files: save and load give back the same model, and ``fit`` resumes where it stopped; weights files check
the model they are loaded into; saving is atomic."""
import os

import numpy as np
import pytest

from chainrule.keras import saving as io
from chainrule.keras.saving import atomic
from chainrule.keras import layers
from chainrule.keras.saving import ModelFileError
from chainrule.keras.models import load_model
from chainrule.keras.models import Sequential
from chainrule.keras.utils import set_random_seed

RNG = np.random.default_rng(0)
X = RNG.random((48, 8, 8, 1), dtype=np.float32)
Y = RNG.integers(0, 3, 48)


def make_model(units: int = 3, seed: int = 0) -> Sequential:
    set_random_seed(seed)
    return Sequential([
        layers.Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)),
        layers.BatchNormalization(),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(units, activation="softmax"),
    ])


def trained(epochs: int = 1, seed: int = 0) -> Sequential:
    model = make_model(seed=seed)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=epochs, batch_size=16, shuffle=False, verbose=0)
    return model


def assert_same_weights(a, b) -> None:
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_a_saved_model_loads_back_whole(tmp_path):
    model = trained()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is Sequential
    assert loaded.get_config() == model.get_config()
    assert_same_weights(loaded, model)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.loss == model.loss == "sparse_categorical_crossentropy"
    saved_state, loaded_state = model.optimizer.get_state(), loaded.optimizer.get_state()
    assert saved_state.keys() == loaded_state.keys() and int(saved_state["iterations"]) == 3
    for key in saved_state:
        np.testing.assert_array_equal(loaded_state[key], saved_state[key])
    assert loaded.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)
    assert loaded.metrics_names == model.metrics_names == ["loss", "accuracy"]


def test_fit_resumes_from_a_file_as_if_never_stopped(tmp_path):
    path = tmp_path / "checkpoint.keras"
    first = trained(epochs=2)
    first.save(path)
    resumed = load_model(path)
    resumed.fit(X, Y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    uninterrupted = trained(epochs=5)
    assert int(resumed.optimizer.iterations) == int(uninterrupted.optimizer.iterations) == 15
    assert_same_weights(resumed, uninterrupted)


def test_a_model_compiled_with_loss_and_metric_objects_reloads(tmp_path):
    """The seeds compile with objects (``loss=CategoricalCrossentropy()``), not names: those must reload too."""
    from chainrule.keras import losses
    from chainrule.keras import metrics
    from chainrule.keras import optimizers

    model = make_model()
    model.compile(optimizer=optimizers.Adam(1e-3), loss=losses.SparseCategoricalCrossentropy(),
                  metrics=[metrics.SparseCategoricalAccuracy(name="acc")])
    model.fit(X, Y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    model.save(tmp_path / "objects.keras")
    loaded = load_model(tmp_path / "objects.keras")
    assert isinstance(loaded.loss, losses.SparseCategoricalCrossentropy)
    assert loaded.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)
    assert loaded.metrics_names == model.metrics_names == ["loss", "acc"]


def test_an_uncompiled_model_and_compile_false(tmp_path):
    model = make_model()
    model.save(tmp_path / "plain.keras")
    plain = load_model(tmp_path / "plain.keras")
    assert plain.optimizer is None
    assert_same_weights(plain, model)
    trained().save(tmp_path / "compiled.keras")
    assert load_model(tmp_path / "compiled.keras", compile=False).optimizer is None


def test_weights_files_round_trip_and_check_the_model(tmp_path):
    source = trained()
    path = tmp_path / "model.weights.bin"
    source.save_weights(path)
    target = make_model(seed=1)
    target.load_weights(path)
    assert_same_weights(target, source)

    other = make_model(units=5, seed=2)
    before = other.get_weights()
    with pytest.raises(ModelFileError, match=r"layer 4 .*Dense.* shapes \[\(36, 5\), \(5,\)\].* \[\(36, 3\), \(3,\)\]"):
        other.load_weights(path)
    for now, then in zip(other.get_weights(), before):  # a failed load changes nothing
        np.testing.assert_array_equal(now, then)
    with pytest.warns(UserWarning, match="skipped layer 4"):
        other.load_weights(path, skip_mismatch=True)  # Keras's option: the other layers load
    after = other.get_weights()
    np.testing.assert_array_equal(after[0], source.get_weights()[0])
    np.testing.assert_array_equal(after[-1], before[-1])

    deeper = Sequential([*make_model().layers, layers.Dense(2)])
    with pytest.raises(ModelFileError, match="weights for 3 layers.*the model has 4"):
        deeper.load_weights(path)
    with pytest.raises(ModelFileError, match="weights only"):
        load_model(path)


def test_load_weights_reads_a_whole_model_file(tmp_path):
    source = trained()
    source.save(tmp_path / "model.keras")
    target = make_model(seed=3)
    target.load_weights(tmp_path / "model.keras")
    assert_same_weights(target, source)


def test_a_crash_while_saving_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.keras"
    trained().save(path)
    before = path.read_bytes()
    newer = trained(epochs=2)

    real_write = atomic.atomic_write

    def dies_halfway(target, chunks, overwrite=True):
        chunks = list(chunks)

        def some_then_fail():
            yield from chunks[:len(chunks) // 2]
            raise OSError(28, "No space left on device")

        return real_write(target, some_then_fail(), overwrite)

    monkeypatch.setattr(atomic, "atomic_write", dies_halfway)  # where write_file looks it up
    with pytest.raises(OSError, match="No space"):
        newer.save(path)
    monkeypatch.undo()

    def no_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", no_fsync)
    with pytest.raises(OSError, match="Input/output"):
        newer.save(path)
    monkeypatch.undo()

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]  # no temporary file left behind
    load_model(path)
    newer.save(path)
    assert_same_weights(load_model(path), newer)


def test_saving_is_deterministic_and_respects_overwrite(tmp_path):
    model = trained()
    model.save(tmp_path / "a.keras")
    model.save(tmp_path / "b.keras")
    assert (tmp_path / "a.keras").read_bytes() == (tmp_path / "b.keras").read_bytes()
    assert (tmp_path / "a.keras").read_bytes().startswith(io.MAGIC)
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "a.keras", overwrite=False)
    model.save(tmp_path / "new" / "folder" / "c.keras")  # parent folders are created
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.keras")


def test_custom_losses_and_tf_keras_options(tmp_path):
    def halved_crossentropy(y_true, y_pred):
        from chainrule.keras import losses

        return losses.sparse_categorical_crossentropy(y_true, y_pred) * 0.5

    model = make_model()
    model.compile(optimizer="sgd", loss=halved_crossentropy)
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / "custom.keras")
    with pytest.raises(ModelFileError, match="halved_crossentropy"):
        load_model(tmp_path / "custom.keras")
    loaded = load_model(tmp_path / "custom.keras", custom_objects={"halved_crossentropy": halved_crossentropy})
    assert loaded.evaluate(X, Y, verbose=0) == model.evaluate(X, Y, verbose=0)

    model.save(tmp_path / "lean.keras", include_optimizer=False)
    assert load_model(tmp_path / "lean.keras").optimizer is None


def test_metadata_is_kept(tmp_path):
    io.save_model(make_model(), tmp_path / "m.keras", metadata={"dataset": "mnist", "class_names": ["0", "1"]})
    header = io.read_header(tmp_path / "m.keras")
    assert header["metadata"] == {"dataset": "mnist", "class_names": ["0", "1"]}
    assert header["kind"] == "model" and header["model"]["class_name"] == "Sequential"


def _rewrite(path, edit_header=None, edit_arrays=None):
    """A valid container (correct lengths and checksum) holding a wrong model."""
    header, arrays = io.read_file(path)
    if edit_header:
        edit_header(header)
    if edit_arrays:
        edit_arrays(arrays)
    io.write_file(path, header, list(arrays.items()))


def test_valid_containers_with_wrong_models_are_refused(tmp_path):
    path = tmp_path / "model.keras"

    def unknown_layer(header):
        header["model"]["config"]["layers"][-1]["class_name"] = "NoSuchLayer"

    def wrong_shape(arrays):
        kernel = next(name for name in arrays if name.endswith("kernel") and arrays[name].ndim == 2)
        arrays[kernel] = np.zeros((5, 5), np.float32)

    def missing_array(arrays):
        del arrays[next(iter(arrays))]

    def integer_weights(arrays):
        name = next(iter(arrays))
        arrays[name] = arrays[name].astype(np.int32)

    def bad_compile(header):
        header["compile"]["optimizer"] = {"class_name": "NoSuchOptimizer", "config": {}}

    def bad_slot(arrays):
        key = next(name for name in arrays if name.startswith("optimizer/") and name.endswith("/m"))
        arrays[key] = np.zeros(7, np.float32)

    cases = [(dict(edit_header=unknown_layer), "NoSuchLayer"), (dict(edit_arrays=wrong_shape), "shapes"),
             (dict(edit_arrays=missing_array), "'layers' entry"), (dict(edit_arrays=integer_weights), "int32"),
             (dict(edit_header=lambda h: h.update(kind="weights")), "weights only"),
             (dict(edit_header=lambda h: h.update(model=[1])), "class_name"),
             (dict(edit_header=bad_compile), "NoSuchOptimizer"), (dict(edit_arrays=bad_slot), "optimizer state")]
    for edits, reason in cases:
        trained().save(path)
        _rewrite(path, **edits)
        with pytest.raises(ModelFileError, match=reason) as error:
            load_model(path)
        assert str(path) in str(error.value)


def test_keras_saving_names_save_and_load_a_model(tmp_path):
    import chainrule.keras as keras

    source = trained()
    keras.saving.save_model(source, tmp_path / "model.keras")
    assert_same_weights(keras.saving.load_model(tmp_path / "model.keras"), source)
