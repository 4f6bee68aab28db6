"""Damaged, truncated and foreign model files raise ModelFileError: never another exception, never a wrong model.

Hundreds of randomly damaged copies of real files (cut, bit flips, overwritten runs, splices, insertions) must all be
refused. Files damaged and then *re-sealed* (lengths and checksum recomputed, as a buggy writer would) exercise the
header checks behind the checksum: they must load or raise ModelFileError, nothing else.
"""
import hashlib
import json
import pickle
import struct
import zipfile

import numpy as np
import pytest

from chainrule.keras import saving as io
from chainrule.keras import layers
from chainrule.keras.saving import ModelFileError, decode, read_file, write_file
from chainrule.keras.models import load_model
from chainrule.keras.models import Sequential

CASES = 400


def sample_tensors():
    rng = np.random.default_rng(0)
    return [("a", rng.standard_normal((3, 5)).astype(np.float32)), ("b", np.arange(7, dtype=np.int64)),
            ("c", np.array(True)), ("d", np.zeros((0, 4), np.float64)), ("e", rng.standard_normal(3).astype("f2"))]


@pytest.fixture(scope="module")
def container(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("container") / "sample.bin"
    write_file(path, {"kind": "test", "nested": {"list": [1, 2.5, None, "text"]}}, sample_tensors())
    return path.read_bytes()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> bytes:
    model = Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(np.ones((8, 3), np.float32), np.zeros(8, np.int64), epochs=1, batch_size=4, verbose=0)
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    return path.read_bytes()


def damage(data: bytes, rng: np.random.Generator) -> bytes:
    """One random kind of damage; never returns ``data`` unchanged."""
    n = len(data)
    kind = rng.integers(6)
    if kind == 0:  # truncated
        out = data[:rng.integers(n)]
    elif kind == 1:  # a few bit flips
        out = bytearray(data)
        for i in rng.integers(n, size=rng.integers(1, 4)):
            out[i] ^= 1 << rng.integers(8)
        out = bytes(out)
    elif kind == 2:  # a run overwritten with random bytes
        start = rng.integers(n)
        run = rng.integers(256, size=rng.integers(1, 64), dtype=np.uint8).tobytes()
        out = data[:start] + run + data[start + len(run):]
        out = out[:n] if len(out) > n else out
    elif kind == 3:  # spliced: the start of this file and the end of another
        other = bytes(rng.integers(256, size=n, dtype=np.uint8))
        cut = rng.integers(1, n)
        out = data[:cut] + other[cut:]
    elif kind == 4:  # bytes inserted
        at = rng.integers(n + 1)
        out = data[:at] + rng.integers(256, size=rng.integers(1, 16), dtype=np.uint8).tobytes() + data[at:]
    else:  # a slice deleted, or repeated
        a, b = sorted(rng.integers(n, size=2))
        b = max(b, a + 1)
        out = data[:a] + data[b:] if rng.integers(2) else data[:b] + data[a:]
    return out if out != data else data[:-1]


def reseal(data: bytes, rng: np.random.Generator) -> bytes:
    """Damage the header (or the data) of a valid file, then fix its lengths and checksum: the result passes the
    checksum, so only the header checks stand between it and a load."""
    prefix = struct.Struct("<14sHQQ")
    magic, version, head_len, data_len = prefix.unpack_from(data)
    head = data[prefix.size:prefix.size + head_len]
    body = data[prefix.size + head_len:-32]
    if rng.integers(4):
        head = damage(head, rng) if rng.integers(2) else _edit_json(head, rng)
    else:
        body = damage(body, rng)
    sealed = prefix.pack(magic, version, len(head), len(body)) + head + body
    return sealed + hashlib.sha256(sealed).digest()


def _edit_json(head: bytes, rng: np.random.Generator) -> bytes:
    """A plausible wrong header: one value somewhere replaced by another JSON value."""
    header = json.loads(head)
    values = [None, True, -1, 0, 3, 2**70, 1.5, "x", "float32", [], [1, 2], {}, {"class_name": "Nope"}]
    node, path = header, []
    while isinstance(node, (dict, list)) and node and (not path or rng.integers(4)):
        key = list(node)[rng.integers(len(node))] if isinstance(node, dict) else rng.integers(len(node))
        path.append((node, key))
        node = node[key]
    if path:
        parent, key = path[-1]
        parent[key] = values[rng.integers(len(values))]
    return json.dumps(header).encode()


def test_a_valid_file_reads_back(container):
    header, arrays = decode(container)
    assert header == {"kind": "test", "nested": {"list": [1, 2.5, None, "text"]}}
    for name, expected in sample_tensors():
        assert arrays[name].dtype == expected.dtype and arrays[name].shape == expected.shape
        np.testing.assert_array_equal(arrays[name], expected)


def test_every_damaged_container_is_refused(container):
    rng = np.random.default_rng(1)
    for case in range(CASES):
        bad = damage(container, rng)
        with pytest.raises(ModelFileError) as error:
            decode(bad, f"case{case}.bin")
        assert f"case{case}.bin" in str(error.value)


def test_every_damaged_model_file_is_refused(model_file, tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "damaged.keras"
    for _ in range(CASES // 4):
        path.write_bytes(damage(model_file, rng))
        with pytest.raises(ModelFileError, match="damaged.keras"):
            load_model(path)


def test_resealed_headers_load_or_raise_model_file_error(container):
    rng = np.random.default_rng(3)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(CASES):
        try:
            decode(reseal(container, rng))
            outcomes["loaded"] += 1
        except ModelFileError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > CASES // 2  # most header damage must be caught by the checks


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # re-sealed weights may hold huge values: overflow is fine
def test_resealed_model_files_load_or_raise_model_file_error(model_file, tmp_path):
    rng = np.random.default_rng(4)
    path = tmp_path / "resealed.keras"
    refused = 0
    for _ in range(CASES // 4):
        path.write_bytes(reseal(model_file, rng))
        try:
            model = load_model(path)
        except ModelFileError:
            refused += 1
            continue
        assert model.predict(np.ones((2, 3), np.float32), verbose=0).shape == (2, 2)
    assert refused > 0


def _foreign_files(tmp_path):
    zip_path = tmp_path / "other.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("config.json", '{"class_name": "Sequential"}')
    npz_path = tmp_path / "arrays.npz"
    np.savez(npz_path, w=np.ones(3))
    npy_path = tmp_path / "array.npy"
    np.save(npy_path, np.ones(3))
    yield "random bytes", np.random.default_rng(5).integers(256, size=4096, dtype=np.uint8).tobytes(), "unknown"
    yield "zip", zip_path.read_bytes(), "zip"
    yield "npz", npz_path.read_bytes(), "zip"
    yield "npy", npy_path.read_bytes(), "npy"
    yield "pickle", pickle.dumps({"weights": [np.ones(3)]}), "pickle"
    yield "hdf5", b"\x89HDF\r\n\x1a\n" + bytes(1000), "HDF5"
    yield "png", b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG"
    yield "json", json.dumps({"class_name": "Sequential", "config": {}}).encode(), "JSON"
    yield "empty", b"", "empty"
    yield "text", b"hello, this is not a model\n", "unknown"
    yield "magic only", io.MAGIC, "truncated"
    yield "half the magic", io.MAGIC[:5], "truncated"
    yield "magic and garbage", io.MAGIC + bytes(range(256)) * 4, "damaged"


def test_foreign_files_are_named_for_what_they_are(tmp_path):
    for what, data, expected in _foreign_files(tmp_path):
        path = tmp_path / f"{what.replace(' ', '_')}.keras"
        path.write_bytes(data)
        for load in (load_model, read_file):
            with pytest.raises(ModelFileError, match=expected) as error:
                load(path)
            assert str(path) in str(error.value), what


def test_a_future_format_version_asks_for_an_upgrade(container):
    newer = container[:14] + struct.pack("<H", io.FORMAT_VERSION + 1) + container[16:]
    with pytest.raises(ModelFileError, match="newer chainrule"):
        decode(newer)


def test_header_checks_behind_the_checksum(container):
    def sealed(header: dict) -> bytes:
        head = json.dumps(header).encode()
        body = container[32 + struct.unpack_from("<Q", container, 16)[0]:-32]
        data = struct.pack("<14sHQQ", io.MAGIC, 1, len(head), len(body)) + head + body
        return data + hashlib.sha256(data).digest()

    entry = {"name": "a", "dtype": "float32", "shape": [3, 5], "data_offsets": [0, 60]}
    bad_entries = {
        "no 'tensors' list": {},
        "not an object": {"tensors": [3]},
        "repeated name": {"tensors": [entry, entry]},
        "unknown dtype 'object'": {"tensors": [{**entry, "dtype": "object"}]},
        "invalid shape": {"tensors": [{**entry, "shape": [3, -5]}]},
        "invalid data_offsets": {"tensors": [{**entry, "data_offsets": [0]}]},
        "does not fit": {"tensors": [{**entry, "shape": [4, 5]}]},
    }
    for reason, header in bad_entries.items():
        with pytest.raises(ModelFileError, match=reason):
            decode(sealed(header))
    with pytest.raises(ModelFileError, match="not an object"):
        decode(sealed([1, 2]))  # type: ignore[arg-type]
    assert decode(sealed({"tensors": [entry]}))[1]["a"].shape == (3, 5)


# --- sizes: huge shapes, sizes that do not match the file, configs asking for huge layers ---------------------------
HUGE = [0, 1, 3, 2**20, 2**31, 2**32, 2**40, 2**62, 2**63 - 1, 2**63, 2**64]
PEAK_LIMIT = 64 << 20  # bytes a load of these few-KB files may allocate, refused or not


def _peak_of(call) -> tuple[object, int]:
    """(what ``call()`` returned or raised, the most bytes it held allocated at once)."""
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            outcome = call()
        except Exception as error:  # noqa: BLE001 - the caller checks which
            outcome = error
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_huge_shapes_and_sizes_that_do_not_match_the_file(container):
    """Tensor entries with shapes near 2**63 and data_offsets past the data: refused, or arrays that the data
    really holds; never another exception, never a large allocation."""
    rng = np.random.default_rng(6)
    prefix = struct.Struct("<14sHQQ")
    _, _, head_len, data_len = prefix.unpack_from(container)
    header = json.loads(container[prefix.size:prefix.size + head_len])
    body = container[prefix.size + head_len:-32]
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(CASES):
        entries = json.loads(json.dumps(header["tensors"]))
        entry = entries[rng.integers(len(entries))]
        kind = rng.integers(3)
        if kind < 2:
            entry["shape"] = [HUGE[i] for i in rng.integers(len(HUGE), size=rng.integers(1, 4))]
        if kind == 1:  # no data at all, as a shape with a 0 in it needs: only the shape's other sizes are wrong
            entry["shape"].insert(rng.integers(len(entry["shape"]) + 1), 0)
            entry["data_offsets"][1] = entry["data_offsets"][0]
        if kind == 2 or rng.integers(4) == 0:
            entry["data_offsets"][rng.integers(2)] = HUGE[rng.integers(len(HUGE))]
        head = json.dumps({**header, "tensors": entries}).encode()
        sealed = prefix.pack(io.MAGIC, io.FORMAT_VERSION, len(head), data_len) + head + body
        sealed += hashlib.sha256(sealed).digest()
        outcome, peak = _peak_of(lambda: decode(sealed, f"case{case}.bin"))
        assert peak < PEAK_LIMIT, (entry, peak)
        if isinstance(outcome, ModelFileError):
            assert f"case{case}.bin" in str(outcome)
            outcomes["refused"] += 1
        else:
            assert not isinstance(outcome, Exception), (entry, outcome)
            assert sum(a.nbytes for a in outcome[1].values()) <= data_len
            outcomes["loaded"] += 1
    assert outcomes["refused"] > CASES // 2


def _int_fields(node, path=()):
    """Paths to every integer in a JSON value (sizes, units, axes, shapes...)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _int_fields(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _int_fields(value, path + (i,))
    elif isinstance(node, int) and not isinstance(node, bool):
        yield path


def test_configs_asking_for_huge_layers_are_refused_before_allocating(model_file, tmp_path):
    """Integers of the model config (units, input sizes, ...) set to huge values: the load is refused or builds
    the same small model, and never allocates more than a few MB on the way."""
    rng = np.random.default_rng(7)
    path = tmp_path / "huge.keras"
    path.write_bytes(model_file)
    header, arrays = read_file(path)
    fields = list(_int_fields(header["model"]))
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(CASES // 4):
        edited = json.loads(json.dumps(header))
        for _ in range(rng.integers(1, 3)):
            node = edited["model"]
            *parents, last = fields[rng.integers(len(fields))]
            for key in parents:
                node = node[key]
            node[last] = HUGE[rng.integers(3, len(HUGE))]
        write_file(path, edited, list(arrays.items()))
        outcome, peak = _peak_of(lambda: load_model(path))
        assert peak < PEAK_LIMIT, peak
        if isinstance(outcome, ModelFileError):
            assert "huge.keras" in str(outcome)
            outcomes["refused"] += 1
        else:
            assert not isinstance(outcome, Exception), outcome
            assert outcome.count_params() == sum(a.size for k, a in arrays.items() if k.startswith("weights/"))
            outcomes["loaded"] += 1
    assert outcomes["refused"] > CASES // 8


def test_optimizer_state_with_changed_dtypes_or_missing_slots(model_file, tmp_path):
    """Optimizer arrays given another dtype, dropped, or added: refused, or (a variable left with no slots at all)
    loaded with a warning; what loads holds exactly the file's state, never a cast or a reset step count."""
    import warnings

    dtypes = ["bool", "uint8", "int8", "int32", "int64", "uint64", "float16", "float32", "float64"]
    rng = np.random.default_rng(8)
    path = tmp_path / "optimizer.keras"
    path.write_bytes(model_file)
    header, arrays = read_file(path)
    keys = [key for key in arrays if key.startswith("optimizer/")]
    outcomes = {"loaded": 0, "warned": 0, "refused": 0}
    for _ in range(CASES // 4):
        edited = dict(arrays)
        for _ in range(rng.integers(1, 3)):
            key = keys[rng.integers(len(keys))]
            kind = rng.integers(3)
            if kind == 0 and key in edited:
                edited[key] = edited[key].astype(dtypes[rng.integers(len(dtypes))])
            elif kind == 1:
                edited.pop(key, None)
            else:
                edited[f"optimizer/{rng.integers(12)}/{['m', 'v', 'momentum'][rng.integers(3)]}"] = np.zeros(
                    4, dtypes[rng.integers(len(dtypes))])
        write_file(path, header, list(edited.items()))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                model = load_model(path)
            except ModelFileError as error:
                assert "optimizer.keras" in str(error) and "optimizer state" in str(error)
                outcomes["refused"] += 1
                continue
        outcomes["warned" if caught else "loaded"] += 1
        state = model.optimizer.get_state()
        for key, value in edited.items():
            if key.startswith("optimizer/"):
                saved = state[key.removeprefix("optimizer/")]
                assert np.array_equal(saved, value), key
                assert saved.dtype == value.dtype or key == "optimizer/iterations", key  # any integer counts steps
    assert outcomes["refused"] > CASES // 8
