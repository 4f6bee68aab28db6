"""Model files that ask for more than they hold are refused with ModelFileError naming the file, before anything
large is allocated: shapes no array can have, configs whose layers would need far more weights than the file
stores, input shapes of absurd size; optimizer state that the optimizer would not have made itself (another dtype,
a missing slot or step count) is refused, not cast or zeroed silently.

Allocation is measured with tracemalloc, which sees NumPy's array buffers.
"""
import hashlib
import json
import struct
import tracemalloc
import warnings

import numpy as np
import pytest

from chainrule.keras import layers
from chainrule.keras import saving as io
from chainrule.keras.models import Model, Sequential, load_model
from chainrule.keras.saving import ModelFileError
from test_model_files import _rewrite as rewrite  # a valid container holding what the edits make of the model

PEAK_LIMIT = 16 << 20  # bytes a refused load may allocate (the files here hold a few KB of weights)


def small_model() -> Sequential:
    model = Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 3), np.float32), np.zeros((8, 2), np.float32), epochs=1, batch_size=4, verbose=0)
    return model


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.keras"
    small_model().save(path)
    return path


def refused_within_budget(path, match: str, **kwargs) -> ModelFileError:
    """load_model(path) raises ModelFileError naming the file, having allocated less than PEAK_LIMIT."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=match) as error:
            load_model(path, **kwargs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(error.value)
    assert peak < PEAK_LIMIT, f"allocated {peak / 2**20:.0f} MiB before refusing"
    return error.value


def sealed(header: dict, body: bytes = b"") -> bytes:
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    data = struct.pack("<14sHQQ", io.MAGIC, io.FORMAT_VERSION, len(head), len(body)) + head + body
    return data + hashlib.sha256(data).digest()


# --- shapes and sizes in the header --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [[2**62, 0], [2**63 - 1, 0], [2**63, 0], [2**64, 0], [2**40, 2**40, 0],
                                   [0, 2**63], [2**61, 0, 2**61]])
def test_shapes_no_array_can_have_are_refused_naming_the_file(shape, tmp_path):
    path = tmp_path / "huge.keras"
    path.write_bytes(sealed({"tensors": [{"name": "w", "dtype": "float32", "shape": shape, "data_offsets": [0, 0]}]}))
    for read in (io.read_file, io.read_header, load_model):
        with pytest.raises(ModelFileError, match="no array can have it") as error:
            read(path)
        assert str(path) in str(error.value)


def test_a_size_beyond_the_file_is_refused(tmp_path):
    path = tmp_path / "short.keras"
    entry = {"name": "w", "dtype": "float64", "shape": [2**40], "data_offsets": [0, 2**43]}
    path.write_bytes(sealed({"tensors": [entry]}, bytes(64)))
    with pytest.raises(ModelFileError, match="does not fit its data_offsets"):
        io.read_file(path)


# --- configs that ask for more weights than the file holds -----------------------------------------------------------
@pytest.mark.parametrize("units", [10_000_000, 10**9, 2**62])
def test_a_config_asking_for_a_huge_dense_is_refused_before_allocating(saved, units):
    def huge(header):
        header["model"]["config"]["layers"][1]["config"]["units"] = units

    rewrite(saved, edit_header=huge)
    assert saved.stat().st_size < 8192
    refused_within_budget(saved, match=r"far more than the \d+ weight values the file holds")


def test_a_huge_conv2d_config_is_refused_before_allocating(tmp_path):
    path = tmp_path / "conv.keras"
    Sequential([layers.Conv2D(2, 3, input_shape=(8, 8, 1)), layers.Flatten(), layers.Dense(3)]).save(path)

    def huge(header):
        header["model"]["config"]["layers"][1]["config"]["filters"] = 50_000_000

    rewrite(path, edit_header=huge)
    refused_within_budget(path, match="layer 'conv2d.*create weight 'kernel'")


def test_a_functional_config_asking_for_a_huge_layer_is_refused(tmp_path):
    path = tmp_path / "functional.keras"
    inputs = layers.Input((3,))
    Model(inputs, layers.Dense(2)(layers.Dense(4)(inputs))).save(path)

    def huge(header):
        dense = next(layer for layer in header["model"]["config"]["layers"] if layer["class_name"] == "Dense")
        dense["config"]["units"] = 10**9

    rewrite(path, edit_header=huge)
    refused_within_budget(path, match="far more than")


def test_a_slightly_different_config_still_names_the_layer_that_differs(saved):
    def wider(header):
        header["model"]["config"]["layers"][1]["config"]["units"] = 5

    rewrite(saved, edit_header=wider)
    refused_within_budget(saved, match=r"layer 0 \('dense[_0-9]*', Dense\): its weights have shapes \[\(3, 5\)")


@pytest.mark.parametrize("shape", [[None, 2**40], [None, 100_000, 100_000, 3], [2**62, 3]])
def test_an_absurd_input_shape_is_refused_before_building(saved, shape):
    def huge(header):
        header["model"]["config"]["layers"][0]["config"]["batch_shape"] = shape

    rewrite(saved, edit_header=huge)
    refused_within_budget(saved, match="declares an input batch_shape")


def test_an_absurd_build_config_is_refused_before_building(tmp_path):
    from chainrule.keras.utils import set_random_seed

    class Tiny(Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    set_random_seed(0)
    model = Tiny()
    model(np.ones((1, 3), np.float32))
    path = tmp_path / "tiny.keras"
    model.save(path)
    assert isinstance(load_model(path, custom_objects={"Tiny": Tiny}), Tiny)
    rewrite(path, edit_header=lambda h: h.update(build_config={"input_shape": [None, 2**45]}))
    refused_within_budget(path, match="build config declares an input", custom_objects={"Tiny": Tiny})


def test_real_models_still_load(tmp_path):
    """The budget and the input-shape limit refuse nothing a real model needs (a CNN with batch norm)."""
    model = Sequential([layers.Conv2D(8, 3, activation="relu", input_shape=(64, 64, 3)), layers.BatchNormalization(),
                        layers.MaxPooling2D(), layers.Flatten(), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(np.ones((4, 64, 64, 3), np.float32), np.zeros(4, np.int64), epochs=1, verbose=0)
    model.save(tmp_path / "cnn.keras")
    loaded = load_model(tmp_path / "cnn.keras")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


# --- optimizer state the optimizer would not have made ----------------------------------------------------------------
def _first_slot(arrays, slot="m"):
    return next(name for name in arrays if name.startswith("optimizer/") and name.endswith(f"/{slot}"))


OPTIMIZER_DAMAGE = {
    "slot as float64": (lambda a: a.update({_first_slot(a): a[_first_slot(a)].astype(np.float64)}),
                        "slot '0/m' as float64 of shape \\(3, 4\\), where Adam keeps float32"),
    "slot as int32": (lambda a: a.update({_first_slot(a): a[_first_slot(a)].astype(np.int32)}), "as int32"),
    "slot as float16": (lambda a: a.update({_first_slot(a, "v"): a[_first_slot(a, "v")].astype(np.float16)}),
                        "as float16"),
    "a missing slot": (lambda a: a.pop(_first_slot(a)), "lacks slot '0/m' of variable 0"),
    "no step count": (lambda a: a.pop("optimizer/iterations"), "lacks 'iterations'|lacks iterations"),
    "a fractional step count": (lambda a: a.update({"optimizer/iterations": np.array(1.5)}),
                                "step count 'iterations' of float64 1.5"),
    "a negative step count": (lambda a: a.update({"optimizer/iterations": np.array(-3)}), "int64 -3"),
    "a step count per variable": (lambda a: a.update({"optimizer/iterations": np.array([1, 2])}), r"\[1, 2\]"),
    "steps but no slots": (lambda a: [a.pop(k) for k in list(a) if k.startswith("optimizer/") and "/" in k[10:]],
                           "has 2 step\\(s\\) but none of the slots"),
    "state for a variable the model lacks": (lambda a: a.update({"optimizer/9/m": np.zeros(2, np.float32)}),
                                             "entry '9/m' that Adam does not keep"),
}


@pytest.mark.parametrize("damage", list(OPTIMIZER_DAMAGE))
def test_optimizer_state_that_does_not_fit_is_refused(saved, damage):
    edit, reason = OPTIMIZER_DAMAGE[damage]
    rewrite(saved, edit_arrays=edit)
    error = refused_within_budget(saved, match=reason)
    assert "optimizer state" in str(error) and "compile=False" in str(error)
    load_model(saved, compile=False)  # the model itself is fine


def test_a_variable_without_slots_is_reported(saved):
    rewrite(saved, edit_arrays=lambda a: [a.pop(k) for k in ("optimizer/1/m", "optimizer/1/v")])
    with pytest.warns(UserWarning, match="no slots for variables 1"):
        model = load_model(saved)
    assert int(model.optimizer.iterations) == 2


def test_optimizer_state_that_fits_loads_without_a_word(tmp_path):
    fresh = Sequential([layers.Dense(2, input_shape=(3,))])
    fresh.compile(optimizer="adam", loss="mse")  # compiled, never trained: a step count of 0 and no slots
    fresh.save(tmp_path / "fresh.keras")
    trained = small_model()
    trained.save(tmp_path / "trained.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert int(load_model(tmp_path / "fresh.keras").optimizer.iterations) == 0
        reloaded = load_model(tmp_path / "trained.keras")
        reloaded.save(tmp_path / "again.keras")  # a loaded model's state (every slot built) loads too
        again = load_model(tmp_path / "again.keras")
    for key, value in trained.optimizer.get_state().items():
        assert again.optimizer.get_state()[key].dtype == value.dtype
        np.testing.assert_array_equal(again.optimizer.get_state()[key], value)
