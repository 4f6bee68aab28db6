"""keras.utils.plot_model and model_to_dot: the graph read from Sequential, functional, nested and subclassed models
(boxes, Keras's labels, edges), the matplotlib drawing where pydot / graphviz are missing (a real image of plausible
size, written atomically), Keras's errors, and model_to_dot's pydot graph where pydot is installed."""
import io
import os

import numpy as np
import pytest
from PIL import Image

from chainrule import keras
from chainrule.keras.utils import model_visualization
from chainrule.keras.utils.model_visualization import ModelGraph

layers = keras.layers


@pytest.fixture
def no_graphviz(monkeypatch):
    """plot_model draws with matplotlib, as on a machine without pydot or graphviz."""
    monkeypatch.setattr(model_visualization, "check_graphviz", lambda: False)


def _timeseries_model():
    """keras-io's FordA classifier (the program in tests/programs/test_keras_timeseries_classification.py)."""
    inputs = keras.Input((176, 1))
    x = inputs
    for _ in range(2):
        x = layers.ReLU()(layers.BatchNormalization()(layers.Conv1D(8, 3, padding="same")(x)))
    outputs = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    return keras.Model(inputs, outputs)


def _nested_model():
    """Two inputs, a nested functional encoder, a nested Sequential head, a skip connection."""
    inner_in = keras.Input((8,))
    encoder = keras.Model(inner_in, layers.Dense(4, name="inner_dense")(inner_in), name="encoder")
    head = keras.Sequential([layers.Dense(5, name="s1"), layers.Dense(3, name="s2")], name="head")
    a, b = keras.Input((8,), name="a"), keras.Input((8,), name="b")
    x = layers.Add(name="add")([encoder(a), layers.Dense(4, name="side")(b)])
    z = layers.Dense(1, name="out")(layers.Concatenate(name="cat")([head(x), x]))
    return keras.Model([a, b], z, name="nested")


def _named_edges(graph):
    names = {box.key: box.title_text.split(" (")[0] for box in graph.all_boxes()}
    return sorted(f"{names[s]}->{names[d]}" for s, d in graph.edges)


def _png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- the graph ----------------------------------------------------------------------------------------------------
def test_functional_graph_boxes_labels_and_edges():
    model = _timeseries_model()
    graph = ModelGraph.of(model, show_shapes=True, show_dtype=True, show_layer_names=True,
                          show_layer_activations=True, show_trainable=True)
    assert [box.key for box in graph.boxes] == [str(id(layer)) for layer in model.layers]  # InputLayer included
    assert len(graph.edges) == len(model.layers) - 1
    first, conv, dense = graph.boxes[0], graph.boxes[1], graph.boxes[-1]
    assert first.title_text == f"{model.layers[0].name} (InputLayer)"
    assert [cell.text for cell in first.rows[1]] == ["Output shape: (None, 176, 1)", "Output dtype: float32"]
    assert conv.rows[1][0].text == "Activation: linear"
    assert [cell.text for cell in conv.rows[2]] == ["Input shape: (None, 176, 1)", "Output shape: (None, 176, 8)",
                                                    "Output dtype: float32", "Trainable"]
    assert conv.rows[2][3].background == "forestgreen" and conv.colspan == 4
    assert dense.rows[1][0].text == "Activation: softmax"
    assert [cell.text for cell in ModelGraph.of(model).boxes[1].rows[0]] == ["Conv1D"]  # Keras's defaults


def test_non_trainable_sequential_and_subclassed_models():
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dropout(0.5), layers.Dense(1)])
    seq.layers[0].trainable = False
    graph = ModelGraph.of(seq, show_trainable=True)
    assert [box.title_text for box in graph.boxes] == ["Dense", "Dropout", "Dense"]  # no InputLayer box
    assert _named_edges(graph) == ["Dense->Dropout", "Dropout->Dense"]
    assert graph.boxes[0].rows[1][0].text == "Non-trainable" and len(graph.boxes[1].rows) == 1  # no weights

    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    custom = Custom()
    custom(np.ones((1, 3), "float32"))
    graph = ModelGraph.of(custom)
    assert [box.title_text for box in graph.boxes] == ["Custom"] and graph.edges == []


def test_nested_models_collapsed_and_expanded():
    model = _nested_model()
    collapsed = ModelGraph.of(model, show_layer_names=True)
    assert _named_edges(collapsed) == ["a->encoder", "add->cat", "add->head", "b->side", "cat->out", "encoder->add",
                                       "head->cat", "side->add"]
    expanded = ModelGraph.of(model, show_layer_names=True, expand_nested=True)
    assert [cluster.name for cluster in expanded.clusters] == ["encoder", "head"]
    assert [box.title_text.split(" (")[0] for box in expanded.clusters[1].boxes] == ["s1", "s2"]
    inner_input = expanded.clusters[0].boxes[0].title_text.split(" (")[0]
    assert _named_edges(expanded) == sorted([
        f"a->{inner_input}", f"{inner_input}->inner_dense", "inner_dense->add", "b->side", "side->add", "add->s1",
        "s1->s2", "s2->cat", "add->cat", "cat->out"])
    assert expanded.clusters[1].boxes[0].cluster == ("head",)


# --- plot_model without graphviz ----------------------------------------------------------------------------------
def test_plot_model_draws_a_png_without_graphviz(tmp_path, no_graphviz):
    model = _timeseries_model()
    path = tmp_path / "model.png"
    keras.utils.plot_model(model, to_file=path, show_shapes=True)
    image = _png(path)
    width, height = image.size
    # 9 boxes of two rows stacked top to bottom at 200 dpi: tall, and wide enough for "Input shape: (None, 176, 8)"
    assert 1000 < width < 3000 and 2500 < height < 6000 and height > 1.5 * width, image.size
    pixels = np.asarray(image.convert("L"))
    assert (pixels < 30).mean() > 0.05 and (pixels > 225).mean() > 0.3  # black headers on a white page
    small = tmp_path / "small.png"
    keras.utils.plot_model(model, to_file=small, show_shapes=True, dpi=100)
    assert abs(_png(small).size[1] * 2 - height) <= 4  # the size follows dpi


def test_plot_model_left_to_right_nested_and_other_formats(tmp_path, no_graphviz):
    model = _nested_model()
    wide = tmp_path / "wide.png"
    keras.utils.plot_model(model, to_file=str(wide), rankdir="LR", expand_nested=True, show_layer_names=True,
                           dpi=72)
    assert _png(wide).size[0] > 2 * _png(wide).size[1]
    keras.utils.plot_model(model, to_file=tmp_path / "model.pdf")
    assert (tmp_path / "model.pdf").read_bytes()[:5] == b"%PDF-"
    keras.utils.plot_model(model, to_file=tmp_path / "model.svg", show_dtype=True)
    assert b"<svg" in (tmp_path / "model.svg").read_bytes()[:2000]
    keras.utils.plot_model(model, to_file=tmp_path / "noext")  # no extension: PNG, as Keras
    assert (tmp_path / "noext").read_bytes()[:4] == b"\x89PNG"


def test_plot_model_default_file_and_atomic_replacement(tmp_path, monkeypatch, no_graphviz):
    monkeypatch.chdir(tmp_path)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    keras.utils.plot_model(model)
    assert os.listdir(tmp_path) == ["model.png"]  # Keras's default name, no temporary file left
    (tmp_path / "model.gv").write_bytes(b"old")
    with pytest.raises(ValueError, match="cannot write '.gv' files"):
        keras.utils.plot_model(model, to_file="model.gv")
    assert (tmp_path / "model.gv").read_bytes() == b"old"
    before = (tmp_path / "model.png").read_bytes()
    keras.utils.plot_model(model, show_shapes=True)
    assert (tmp_path / "model.png").read_bytes() != before and sorted(os.listdir(tmp_path)) == ["model.gv",
                                                                                                 "model.png"]


def test_keras_errors(tmp_path, monkeypatch):
    unbuilt = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="This model has not yet been built"):
        keras.utils.plot_model(unbuilt, to_file=tmp_path / "m.png")
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match="Argument `layer_range` is no longer supported"):
        keras.utils.plot_model(model, to_file=tmp_path / "m.png", layer_range=["a", "b"])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        keras.utils.plot_model(model, to_file=tmp_path / "m.png", show_colors=True)
    monkeypatch.setattr(model_visualization, "load_pydot", lambda: None)
    with pytest.raises(ImportError, match=r"You must install pydot \(`pip install pydot`\) for model_to_dot to work"):
        keras.utils.model_to_dot(model)
    with pytest.raises(ValueError, match="rankdir must be"):
        keras.utils.plot_model(model, to_file=tmp_path / "m.png", rankdir="XY")


# --- pydot and graphviz, where installed ------------------------------------------------------------------------
def test_model_to_dot_structure():
    pydot = pytest.importorskip("pydot")
    model = _nested_model()
    dot = keras.utils.model_to_dot(model, show_shapes=True, rankdir="LR", dpi=96)
    assert isinstance(dot, pydot.Dot)
    assert dot.get("rankdir") == "LR" and str(dot.get("dpi")) == "96" and dot.get("splines") == "ortho"
    nodes = {node.get_name(): node for node in dot.get_nodes() if node.get_name() not in ("node", "edge", "graph")}
    assert set(nodes) == {str(id(layer)) for layer in model.layers}
    edges = sorted((edge.get_source(), edge.get_destination()) for edge in dot.get_edges())
    assert edges == sorted(ModelGraph.of(model).edges) and len(edges) == 8
    label = nodes[str(id(model.get_layer("side")))].get("label")
    assert label.startswith('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">')
    assert "<b>side</b> (Dense)" in label and "Input shape: <b>(None, 8)</b>" in label  # show_layer_names=True
    expanded = keras.utils.model_to_dot(model, expand_nested=True)
    assert [graph.get_name() for graph in expanded.get_subgraphs()] == ["cluster_encoder", "cluster_head"]
    head = expanded.get_subgraphs()[1]
    assert head.get("style") == "dashed" and head.get("label") == "head"
    assert len(head.get_nodes()) == 2 and len(expanded.get_edges()) == 10


def test_plot_model_through_graphviz(tmp_path):
    if not model_visualization.check_graphviz():
        pytest.skip("pydot and graphviz's dot are not both installed")
    path = tmp_path / "model.png"
    keras.utils.plot_model(_timeseries_model(), to_file=path, show_shapes=True)
    width, height = _png(path).size
    assert height > width > 100
