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


def small_fit(callback, epochs=2):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=epochs, verbose=0, callbacks=[callback])


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
