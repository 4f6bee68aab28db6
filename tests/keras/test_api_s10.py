"""Smaller Keras 3 names: regularizers.OrthogonalRegularizer, callbacks.RemoteMonitor (against a server on the
loopback interface, and one that is not there), and keras.tree's traverse, map_structure_up_to, assert_same_paths,
lists_to_tuples, map_shape_structure, MAP_TO_NONE (Keras's documented examples)."""
import collections
import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import keras


# --- OrthogonalRegularizer ------------------------------------------------------------------------------------------
def keras_orthogonal(w, factor, mode):
    """Keras's formula in NumPy."""
    v = w if mode == "rows" else w.T
    v = v / np.sqrt(np.maximum((v ** 2).sum(axis=1, keepdims=True), 1e-12))
    product = v @ v.T
    n = v.shape[0]
    return factor * 0.5 * np.abs(product * (1 - np.eye(n))).sum() / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_value_and_gradient(mode):
    w = np.random.default_rng(0).normal(size=(4, 6))
    reg = keras.regularizers.OrthogonalRegularizer(factor=0.3, mode=mode)
    v = cr.Variable(w)
    with cr.GradientTape() as tape:
        penalty = reg(v)
    grad = tape.gradient(penalty, v).numpy()
    np.testing.assert_allclose(float(penalty), keras_orthogonal(w, 0.3, mode), rtol=1e-12)
    t = torch.tensor(w, requires_grad=True)
    x = t if mode == "rows" else t.T
    x = x / torch.sqrt(torch.clamp((x ** 2).sum(1, keepdim=True), min=1e-12))
    n = x.shape[0]
    (0.3 * 0.5 * torch.abs((x @ x.T) * (1 - torch.eye(n, dtype=x.dtype))).sum() / (n * (n - 1) / 2)).backward()
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-10)


def test_orthogonal_regularizer_in_a_layer_and_config():
    reg = keras.regularizers.get("orthogonal_regularizer")
    assert isinstance(reg, keras.regularizers.OrthogonalRegularizer) and reg.get_config() == {"factor": 0.01,
                                                                                          "mode": "rows"}
    again = keras.regularizers.deserialize(keras.regularizers.serialize(keras.regularizers.OrthogonalRegularizer(
        0.5, "columns")))
    assert again.get_config() == {"factor": 0.5, "mode": "columns"}
    layer = keras.layers.Dense(3, kernel_regularizer=keras.regularizers.OrthogonalRegularizer(1.0))
    layer(np.ones((2, 4), "float32"))
    assert len(layer.losses) == 1 and float(layer.losses[0]) > 0
    with pytest.raises(ValueError, match="mode"):
        keras.regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank 2"):
        keras.regularizers.OrthogonalRegularizer()(np.ones((2, 2, 2)))


# --- RemoteMonitor --------------------------------------------------------------------------------------------------
class Recorder(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers.get("Content-Type"), self.headers.get("X-Run"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def small_fit(callback, epochs=2, verbose=0):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=epochs, verbose=verbose,
              callbacks=[callback])


def test_remote_monitor_posts_each_epoch_as_a_form_field(server):
    small_fit(keras.callbacks.RemoteMonitor(root=server, headers={"X-Run": "7"}))
    assert len(Recorder.received) == 2
    path, content_type, run, body = Recorder.received[1]
    assert path == "/publish/epoch/end/" and content_type == "application/x-www-form-urlencoded" and run == "7"
    sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
    assert sent["epoch"] == 1 and isinstance(sent["loss"], float)


def test_remote_monitor_posts_json(server):
    monitor = keras.callbacks.RemoteMonitor(root=server, path="/logs", send_as_json=True)
    monitor.on_epoch_end(3, {"loss": np.float32(0.25), "acc": np.array(0.5)})
    path, content_type, _, body = Recorder.received[0]
    assert path == "/logs" and content_type == "application/json"
    assert json.loads(body) == {"epoch": 3, "loss": 0.25, "acc": 0.5}


def test_remote_monitor_warns_when_the_server_is_not_there():
    monitor = keras.callbacks.RemoteMonitor(root="http://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        monitor.on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(ValueError, match="root"):
        keras.callbacks.RemoteMonitor(root="localhost:9000")


# --- keras.tree -----------------------------------------------------------------------------------------------------
def test_tree_traverse_as_kerass_examples():
    seen = []
    assert keras.tree.traverse(seen.append, [(1, 2), [3], {"a": 4}], top_down=True) == [(1, 2), [3], {"a": 4}]
    assert seen == [[(1, 2), [3], {"a": 4}], (1, 2), 1, 2, [3], 3, {"a": 4}, 4]
    seen = []
    keras.tree.traverse(seen.append, [(1, 2), [3], {"a": 4}], top_down=False)
    assert seen == [1, 2, (1, 2), 3, [3], 4, {"a": 4}, [(1, 2), [3], {"a": 4}]]
    assert keras.tree.traverse(lambda x: keras.tree.MAP_TO_NONE if x == 2 else None, [1, 2]) == [1, None]
    # top-down, a replaced sub-structure is not entered
    assert keras.tree.traverse(lambda x: "t" if isinstance(x, tuple) else None, [(1, [2]), 3]) == ["t", 3]


def test_tree_map_structure_up_to_and_paths():
    assert keras.tree.map_structure_up_to([None, None], len, [[1, 1], [2, 2]]) == [2, 2]
    assert keras.tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == ["[1, 1]", ["2", "2"]]
    with pytest.raises(ValueError, match="nested structure"):
        keras.tree.map_structure_up_to([None, [None, None]], str, [[1, 1], 2])
    keras.tree.assert_same_paths([0, 1], (2, 3))
    point1, point2 = collections.namedtuple("Point1", "x y"), collections.namedtuple("Point2", "x y")
    keras.tree.assert_same_paths(point1(0, 1), point2(2, 3))
    with pytest.raises(ValueError, match="don't have the same paths"):
        keras.tree.assert_same_paths([0, 1], [0, 1, 2])


def test_tree_lists_to_tuples_and_shapes():
    assert keras.tree.lists_to_tuples([1, [2, {"a": [3]}]]) == (1, (2, {"a": (3,)}))
    shapes = {"x": (None, 3), "y": [[2], (4, 5)]}
    assert keras.tree.map_shape_structure(lambda s: tuple(s) + (1,), shapes) == \
        {"x": (None, 3, 1), "y": [(2, 1), (4, 5, 1)]}


# --- keras.utils ----------------------------------------------------------------------------------------------------
def test_get_source_inputs_and_is_keras_tensor():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = keras.layers.Dense(2)
    out = keras.layers.Concatenate()([shared(b), shared(a), keras.layers.Dense(2)(b)])
    sources = keras.utils.get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is b and sources[1] is a
    assert keras.utils.get_source_inputs(a)[0] is a
    assert keras.utils.is_keras_tensor(out) and not keras.utils.is_keras_tensor(np.ones(2))


def test_pack_and_unpack_x_y_sample_weight():
    x, y, w = np.ones(2), np.zeros(2), np.ones(2)
    assert keras.utils.pack_x_y_sample_weight(x) is x
    assert keras.utils.pack_x_y_sample_weight((x, x)) == ((x, x),)
    assert keras.utils.pack_x_y_sample_weight(x, y, w) == (x, y, w)
    assert keras.utils.unpack_x_y_sample_weight([x, y]) == (x, y, None)
    assert keras.utils.unpack_x_y_sample_weight((x,)) == (x, None, None)
    with pytest.raises(ValueError, match="Data is expected to be in format"):
        keras.utils.unpack_x_y_sample_weight((x, y, w, w))


def test_split_dataset_arrays_tuples_and_datasets():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    left, right = keras.utils.split_dataset((x, y), left_size=0.8)
    left_rows = [(a.numpy(), int(b)) for a, b in left]
    right_rows = [int(b) for _, b in right]
    assert [b for _, b in left_rows] == list(range(8)) and right_rows == [8, 9]
    np.testing.assert_array_equal(left_rows[3][0], [6, 7])
    left, right = keras.utils.split_dataset(x, right_size=3, shuffle=True, seed=1)
    seen = sorted(int(r[0]) for r in left) + sorted(int(r[0]) for r in right)
    assert len(seen) == 10 and sorted(seen) == list(range(0, 20, 2))
    again = [int(r[0]) for r in keras.utils.split_dataset(x, right_size=3, shuffle=True, seed=1)[1]]
    assert again == [int(r[0]) for r in right]
    ds = cr.data.Dataset.from_tensor_slices({"a": x, "b": y})
    left, right = keras.utils.split_dataset(ds, left_size=4, right_size=2)
    assert [int(e["b"]) for e in left] == [0, 1, 2, 3] and [int(e["b"]) for e in right] == [8, 9]
    with pytest.raises(ValueError, match="At least one"):
        keras.utils.split_dataset(x)
    with pytest.raises(ValueError, match="left_size"):
        keras.utils.split_dataset(x, left_size=1.5)
    with pytest.raises(TypeError, match="dataset"):
        keras.utils.split_dataset(5, left_size=0.5)


def test_config_container():
    config = keras.utils.Config(learning_rate=0.1)
    config.momentum = 0.9
    config["seed"] = 3
    assert config.as_dict() == {"learning_rate": 0.1, "momentum": 0.9, "seed": 3}
    assert json.loads(config.to_json())["momentum"] == 0.9 and len(config) == 3 and "seed" in config
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        config.momentun
    config.freeze()
    assert config.frozen
    with pytest.raises(ValueError, match="frozen"):
        config["seed"] = 4
    config.unfreeze()
    del config["seed"]
    assert list(config) == ["learning_rate", "momentum"]


def test_clear_session_and_standardize_dtype():
    keras.layers.Dense(1)
    keras.utils.clear_session()
    assert keras.layers.Dense(1).name == "dense"
    assert keras.utils.standardize_dtype(np.float32) == "float32"


def test_interactive_logging_sends_progress_to_the_logger(caplog, capsys):
    try:
        keras.config.disable_interactive_logging()
        assert not keras.utils.is_interactive_logging_enabled()
        with caplog.at_level("INFO", logger="chainrule"):
            small_fit(keras.callbacks.Callback(), epochs=1, verbose=1)
    finally:
        keras.config.enable_interactive_logging()
    assert "1/1" in caplog.text and "loss" in caplog.text
    assert "loss" not in capsys.readouterr().out


# --- keras.config, keras.models, keras.initializers -----------------------------------------------------------------
def test_max_epochs_and_steps_cap_fit():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((40, 2), "float32"), np.ones((40, 1), "float32")
    try:
        keras.config.set_max_epochs(2)
        keras.config.set_max_steps_per_epoch(3)
        with pytest.warns(UserWarning, match="Limiting"):
            history = model.fit(x, y, batch_size=4, epochs=5, verbose=0)
        assert len(history.history["loss"]) == 2 and keras.config.max_epochs() == 2
        assert int(model.optimizer.iterations) == 6
    finally:
        keras.config.set_max_epochs(None)
        keras.config.set_max_steps_per_epoch(None)
    with pytest.raises(ValueError, match="positive int"):
        keras.config.set_max_epochs(0)


def test_config_flags_and_set_backend():
    assert keras.config.is_flash_attention_enabled() is None
    keras.config.enable_flash_attention()
    assert keras.config.is_flash_attention_enabled() is True
    keras.config.disable_flash_attention()
    assert keras.config.is_flash_attention_enabled() is False
    assert keras.config.is_traceback_filtering_enabled()
    keras.config.disable_traceback_filtering()
    assert not keras.config.is_traceback_filtering_enabled()
    keras.config.enable_traceback_filtering()
    assert keras.config.is_nnx_enabled() is False
    keras.config.set_backend("chainrule")
    with pytest.raises(ValueError, match="own backend only"):
        keras.config.set_backend("torch")


def test_models_save_model_and_initializer_names(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    keras.models.save_model(model, tmp_path / "m.keras")
    assert keras.models.load_model(tmp_path / "m.keras").count_params() == 3
    assert keras.initializers.identity is keras.initializers.Identity
    assert keras.initializers.IdentityInitializer is keras.initializers.Identity
    assert keras.initializers.OrthogonalInitializer is keras.initializers.Orthogonal
    assert keras.initializers.variance_scaling is keras.initializers.VarianceScaling
    np.testing.assert_array_equal(keras.initializers.identity()((2, 2)), np.eye(2))


# --- keras.name_scope, keras.device, keras.Function -----------------------------------------------------------------
def test_name_scope_prefixes_variable_names():
    with keras.name_scope("outer"):
        with keras.name_scope("inner"):
            layer = keras.layers.Dense(2, name="proj")
            layer.build((None, 3))
    assert layer.kernel.name == "outer/inner/proj/kernel"
    with keras.name_scope("a"), keras.name_scope("b", override_parent="x/y"):
        other = keras.layers.Dense(1, name="d")
        other.build((None, 1))
    assert other.bias.name == "x/y/b/d/bias"
    plain = keras.layers.Dense(1, name="plain")
    plain.build((None, 1))
    assert plain.kernel.name == "plain/kernel"
    caller = object()
    with keras.name_scope("s", caller=caller) as first, keras.name_scope("s", caller=caller) as again:
        deduped = keras.layers.Dense(1, name="e")
        deduped.build((None, 1))
    assert deduped.kernel.name == "s/e/kernel" and first is not again
    with pytest.raises(ValueError, match="cannot contain"):
        keras.name_scope("a/b")


def test_device_scope():
    with keras.device("cpu:0"):
        assert cr.backend.current() in ("numpy", "strict")
        assert keras.ops.zeros((2,)).shape == (2,)
    if not any(kind == "GPU" for kind, _ in cr.backend.physical_devices()):
        with pytest.raises(ValueError, match="no such device"):
            keras.device("gpu:0")
    with pytest.raises(ValueError, match="device_name"):
        keras.device("tpu")


def test_function_runs_a_graph():
    a, b = keras.Input((2,), name="a"), keras.Input((2,), name="b")
    total = keras.layers.Add()([a, b])
    fn = keras.Function({"a": a, "b": b}, {"sum": total, "double": keras.layers.Rescaling(2.0)(total)})
    out = fn({"a": np.ones((1, 2), "float32"), "b": np.full((1, 2), 2.0, "float32")})
    np.testing.assert_array_equal(out["sum"].numpy(), [[3.0, 3.0]])
    np.testing.assert_array_equal(out["double"].numpy(), [[6.0, 6.0]])
    assert set(fn.outputs) == {"sum", "double"} and fn.inputs["a"] is a


# --- keras.Operation --------------------------------------------------------------------------------------------------
class Scale(keras.Operation):
    def __init__(self, factor, name=None):
        super().__init__(name=name)
        self.factor = factor

    def call(self, x):
        return keras.ops.multiply(x, self.factor)


def test_operation_eager_symbolic_and_config():
    op = Scale(3.0)
    np.testing.assert_array_equal(op(np.ones(2, "float32")).numpy(), [3.0, 3.0])
    inputs = keras.Input((2,))
    out = op(inputs)
    assert isinstance(out, keras.KerasTensor) and out.shape == (None, 2)
    assert op.compute_output_spec(inputs).shape == (None, 2)
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="ones")(out))
    np.testing.assert_allclose(model(np.ones((1, 2), "float32")).numpy(), [[6.0]])
    assert op.get_config() == {"factor": 3.0, "name": "scale"}
    assert Scale.from_config(op.get_config()).factor == 3.0
    with pytest.raises(NotImplementedError, match="call"):
        keras.Operation()(np.ones(1))
    with pytest.raises(ValueError, match="name"):
        Scale(1.0, name="a/b")


# --- every name this session added, as Keras 3 exports them (keras/api at 3422977a5e) --------------------------------
ADDED = {
    "": ["InputSpec", "name_scope", "Function", "Operation", "device"],
    "layers": ["PReLU", "AlphaDropout", "SpatialDropout3D", "SeparableConv1D", "SeparableConvolution1D",
               "DepthwiseConv1D", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
               "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "RMSNormalization",
               "GroupQueryAttention", "ReversibleEmbedding", "SpectralNormalization", "HashedCrossing", "Pipeline",
               "MixUp", "CutMix", "RandAugment", "AugMix", "AutoContrast", "Equalization", "Solarization",
               "RandomColorDegeneration", "RandomColorJitter", "RandomErasing", "RandomGaussianBlur",
               "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization",
               "RandomSaturation", "RandomSharpness", "RandomShear", "RandomElasticTransform", "MaxNumBoundingBoxes",
               "ContrastLimitedAdaptiveHistogramEqualization"],
    "activations": ["celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus", "sparse_sigmoid",
                    "sparsemax", "squareplus", "tanh_shrink", "threshold"],
    "losses": ["Dice", "Tversky", "Circle", "dice", "tversky", "circle", "CategoricalGeneralizedCrossEntropy",
               "categorical_generalized_cross_entropy"],
    "metrics": ["binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
                "categorical_focal_crossentropy", "huber", "sparse_categorical_crossentropy", "PearsonCorrelation",
                "ConcordanceCorrelation", "pearson_correlation", "concordance_correlation"],
    "optimizers": ["Lamb", "Adafactor", "Muon"],
    "optimizers.schedules": ["CosineDecayRestarts"],
    "regularizers": ["OrthogonalRegularizer", "orthogonal_regularizer"],
    "callbacks": ["RemoteMonitor", "SwapEMAWeights"],
    "utils": ["split_dataset", "get_source_inputs", "clear_session", "is_keras_tensor", "standardize_dtype",
              "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "Config", "disable_interactive_logging",
              "enable_interactive_logging", "is_interactive_logging_enabled"],
    "models": ["save_model"],
    "config": ["is_nnx_enabled", "max_epochs", "max_steps_per_epoch", "set_max_epochs", "set_max_steps_per_epoch",
               "set_backend", "disable_flash_attention", "enable_flash_attention", "is_flash_attention_enabled",
               "enable_unsafe_deserialization", "disable_interactive_logging", "enable_interactive_logging",
               "is_interactive_logging_enabled", "disable_traceback_filtering", "enable_traceback_filtering",
               "is_traceback_filtering_enabled"],
    "initializers": ["identity", "IdentityInitializer", "OrthogonalInitializer", "variance_scaling", "stft"],
    "tree": ["MAP_TO_NONE", "assert_same_paths", "lists_to_tuples", "map_shape_structure", "map_structure_up_to",
             "traverse"],
    "datasets": ["cifar10", "cifar100", "boston_housing", "california_housing"],
    "ops.nn": ["sparsemax", "adaptive_average_pool", "adaptive_max_pool"],
}


@pytest.mark.parametrize("module", sorted(ADDED))
def test_kerass_names_are_there(module):
    namespace = keras
    for part in filter(None, module.split(".")):
        namespace = getattr(namespace, part)
    assert [name for name in ADDED[module] if not hasattr(namespace, name)] == []


def test_smart_resize_crops_the_centre_then_resizes():
    x = np.random.default_rng(0).uniform(0, 255, (2, 10, 24, 3)).astype("float32")
    out = keras.preprocessing.image.smart_resize(x, (6, 6))
    assert isinstance(out, np.ndarray) and out.shape == (2, 6, 6, 3)
    centre = x[:, :, 7:17]  # Keras's box: crop_width = int(10 * 6 / 6) = 10, start int((24 - 10) / 2) = 7
    np.testing.assert_allclose(out, keras.ops.image.resize(centre, (6, 6)).numpy(), rtol=1e-6)
    first = keras.preprocessing.image.smart_resize(np.moveaxis(x, -1, 1), (6, 6), data_format="channels_first")
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), out, rtol=1e-6)
    assert isinstance(keras.preprocessing.image.smart_resize(cr.constant(x[0]), (4, 4)), cr.Tensor)
    with pytest.raises(ValueError, match="size"):
        keras.preprocessing.image.smart_resize(x, (6,))
    with pytest.raises(ValueError, match="rank"):
        keras.preprocessing.image.smart_resize(x[0, 0], (6, 6))


@pytest.mark.parametrize("dtypes, expected", [
    (("int32", "float16"), "float16"), (("uint8", "int8"), "int16"), (("uint32", "int32"), "int64"),
    (("bool", int), "int32"), ((float, "int32"), "float32"), ((int, "float16"), "float16"),
    (("bfloat16", int), "bfloat16"), (("int32", "float32"), "float32"), (("bfloat16", "float16"), "float32"),
    (("float64", "int8"), "float64"), (("uint8", "uint16"), "uint16"), ((int, float), "float32"),
    (("float32", "float32"), "float32"), ((None,), "float32"), ((), "float32"), (("complex64", "float64"),
                                                                                 "complex128")])
def test_result_type_follows_kerass_lattice(dtypes, expected):
    assert keras.backend.result_type(*dtypes) == expected


def test_result_type_errors():
    with pytest.raises(ValueError, match="float8"):
        keras.backend.result_type("float8_e4m3fn", "float32")
