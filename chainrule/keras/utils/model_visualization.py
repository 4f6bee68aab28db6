"""``keras.utils.plot_model`` and ``keras.utils.model_to_dot``: a model's layers as boxes, its functional graph as
arrows, nested models as dashed clusters (``expand_nested``), with the labels Keras puts in the boxes.

Both read the model once into a :class:`ModelGraph` (boxes, clusters, edges), by Keras's rules
(keras/src/utils/model_visualization.py): one box per layer (a Sequential's InputLayer has none; a subclassed model
is one box), a plain chain for a Sequential, and for a functional model an edge per symbolic input of each call that
belongs to the model's graph; with ``expand_nested`` an edge into or out of a nested model is moved to the layer
inside it that takes or makes that tensor.

``model_to_dot`` turns the graph into a ``pydot.Dot`` (Keras's HTML-table labels, rankdir, dpi, splines) and, like
Keras, needs pydot. ``plot_model`` renders that with graphviz's ``dot`` where pydot and graphviz are installed; where
they are not it draws the same graph with matplotlib (the ``train`` extra, as the CLI's plots; boxes placed in ranks
along ``rankdir``, right-angled arrows), so that a program still gets its image. Without matplotlib either, it raises
Keras's ImportError. The file is written atomically (keras.saving's ``atomic_write``).

>>> from chainrule import keras
>>> inputs = keras.Input((4,))
>>> model = keras.Model(inputs, keras.layers.Dense(2, name="out")(keras.layers.Dense(3, name="hidden")(inputs)))
>>> graph = ModelGraph.of(model)
>>> [box.title_text for box in graph.boxes], len(graph.edges)
(['InputLayer', 'Dense', 'Dense'], 2)
>>> ModelGraph.of(model, show_layer_names=True, show_shapes=True).boxes[2].rows[1][0].text
'Input shape: (None, 3)'
"""
from __future__ import annotations

import functools
import html
import importlib
import io
import os
from dataclasses import dataclass, field

from chainrule.keras.saving.atomic import atomic_write
from chainrule.utils import tree

HEADER_POINTS, TEXT_POINTS, CELL_PADDING = 16, 14, 10  # Keras's label: font sizes and cellpadding


@functools.cache
def load_pydot():
    """The pydot module, or pydot_ng / pydotplus (older forks some users still have, as Keras notes), or None;
    imported on first use, so that importing chainrule does not import pydot."""
    for name in ("pydot", "pydot_ng", "pydotplus"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def check_pydot() -> bool:
    """True if pydot (or one of its forks) is importable."""
    return load_pydot() is not None


def check_graphviz() -> bool:
    """True if pydot can run graphviz: it renders an empty graph."""
    pydot = load_pydot()
    if pydot is None:
        return False
    try:
        pydot.Dot.create(pydot.Dot())
        return True
    except Exception:  # noqa: BLE001 - any failure to run `dot` means graphviz is not usable
        return False


# --- the graph ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell of a box's label: runs of (text, bold), its background and text colour, its font size."""

    runs: tuple[tuple[str, bool], ...]
    background: str = "white"
    color: str = "black"
    points: int = TEXT_POINTS

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.runs)

    def html(self, colspan: int | None = None) -> str:
        body = "".join(f"<b>{html.escape(t)}</b>" if bold else html.escape(t) for t, bold in self.runs)
        span = "" if colspan is None else f' colspan="{colspan}"'
        color = "" if self.color == "black" else f' color="{self.color}"'
        return f'<td{span} bgcolor="{self.background}"><font point-size="{self.points}"{color}>{body}</font></td>'


@dataclass
class Box:
    """A layer's box: its rows of cells (the header, maybe the activation, maybe a row of details)."""

    key: str
    rows: list[list[Cell]]
    colspan: int  # what Keras gives the full-width rows
    spanning: int = 1  # how many rows (the header, the activation) are full-width
    cluster: tuple[str, ...] = ()  # the names of the nested models it sits in, outermost first

    @property
    def title_text(self) -> str:
        return self.rows[0][0].text

    def html_label(self) -> str:
        """Keras's HTML-table label for graphviz."""
        rows = [f"<tr>{row[0].html(self.colspan)}</tr>" if i < self.spanning else
                f"<tr>{''.join(cell.html() for cell in row)}</tr>" for i, row in enumerate(self.rows)]
        return f'<<table border="0" cellborder="1" bgcolor="black" cellpadding="{CELL_PADDING}">{"".join(rows)}</table>>'


@dataclass
class ModelGraph:
    """A model's boxes (in the model's layer order), the clusters of nested models, and the edges between boxes."""

    name: str
    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    clusters: list["ModelGraph"] = field(default_factory=list)

    @classmethod
    def of(cls, model, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = False,
           expand_nested: bool = False, show_layer_activations: bool = False,
           show_trainable: bool = False) -> "ModelGraph":
        """Read ``model`` by Keras's rules (see the module's docstring)."""
        label = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                     show_layer_activations=show_layer_activations, show_trainable=show_trainable)
        graph = cls._boxes_of(model, expand_nested, label, ())
        keys = {box.key for box in graph.all_boxes()}
        graph.edges = [edge for edge in _edges(model, expand_nested) if edge[0] in keys and edge[1] in keys]
        graph.edges = list(dict.fromkeys(graph.edges))  # one edge per pair, as Keras's add_edge
        return graph

    @classmethod
    def _boxes_of(cls, model, expand_nested: bool, label: dict, path: tuple[str, ...]) -> "ModelGraph":
        graph = cls(model.name)
        layers = _layers_of(model)
        if layers is None:  # a subclassed model: one box
            graph.boxes.append(_box(model, label, path))
            return graph
        for layer in layers:
            if expand_nested and _is_graph_model(layer):
                graph.clusters.append(cls._boxes_of(layer, expand_nested, label, path + (layer.name,)))
            else:
                graph.boxes.append(_box(layer, label, path))
        return graph

    def all_boxes(self) -> list[Box]:
        """This graph's boxes and those of its clusters, depth first."""
        return self.boxes + [box for cluster in self.clusters for box in cluster.all_boxes()]


def _is_graph_model(layer) -> bool:
    from chainrule.keras.models.functional import Functional
    from chainrule.keras.models.sequential import Sequential
    return isinstance(layer, (Functional, Sequential))


def _layers_of(model):
    """The layers that get boxes: a Sequential's layers, a functional model's (InputLayers too), None for others."""
    from chainrule.keras.models.functional import Functional
    from chainrule.keras.models.sequential import Sequential
    if isinstance(model, Sequential):
        return model.layers
    if isinstance(model, Functional):
        return list(model._graph.layers)
    return None


def _edges(model, expand_nested: bool) -> list[tuple[str, str]]:
    """(source key, destination key) for every connection in ``model`` and, expanded, inside its nested models."""
    from chainrule.keras.models.sequential import Sequential
    layers = _layers_of(model)
    if layers is None:
        return []
    edges = []
    if isinstance(model, Sequential) and (not expand_nested or model._graph is None):
        edges = [(str(id(a)), str(id(b))) for a, b in zip(layers, layers[1:])]
        if not expand_nested:
            return edges
        layers = []
    nodes = model._graph._node_set if model._graph is not None else set()
    for layer in layers:
        if expand_nested and _is_graph_model(layer):
            edges += _edges(layer, expand_nested)
        for node in getattr(layer, "_inbound_nodes", []):
            if node not in nodes:
                continue
            for input_index, tensor in enumerate(node.flat_inputs):
                if tensor._keras_history is None:
                    continue
                source, _, output_index = tensor._keras_history
                destination = layer
                while expand_nested and _is_graph_model(source):  # the layer inside that made the tensor
                    source, _, output_index = source.outputs[output_index]._keras_history
                while expand_nested and _is_graph_model(destination):  # the layer inside that takes it
                    destination = (destination.layers[0] if isinstance(destination, Sequential)
                                   else destination.inputs[input_index]._keras_history[0])
                edges.append((str(id(source)), str(id(destination))))
    return edges


def _activation_name(activation) -> str:
    return getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(activation)


def _format_shape(shape) -> str:
    if shape is None:
        return "?"
    text = ", ".join(f"{k}: {v}" for k, v in shape.items()) if isinstance(shape, dict) else f"{shape}"
    return text.replace("}", "").replace("{", "")


def _symbolic(layer, what: str, attribute: str):
    """``attribute`` of each of the layer's symbolic inputs or outputs (``what``), or None where it has none."""
    try:
        return tree.map_structure(lambda t: getattr(t, attribute), getattr(layer, what))
    except (ValueError, AttributeError, TypeError):
        return None


def _box(layer, label: dict, path: tuple[str, ...]) -> Box:
    """The layer's box with Keras's label (make_layer_label)."""
    class_name = type(layer).__name__
    colspan = max(1, int(label["show_dtype"]) + int(label["show_trainable"]) + 2 * int(label["show_shapes"]))
    title = ((layer.name, True), (f" ({class_name})", False)) if label["show_layer_names"] else ((class_name, True),)
    rows = [[Cell(title, "black", "white", HEADER_POINTS)]]
    activation = getattr(layer, "activation", None)
    if label["show_layer_activations"] and activation is not None:
        rows.append([Cell((("Activation: ", False), (_activation_name(activation), True)))])
    cells = []
    if label["show_shapes"]:
        if class_name != "InputLayer":
            cells.append(Cell((("Input shape: ", False), (_format_shape(_symbolic(layer, "input", "shape")), True))))
        cells.append(Cell((("Output shape: ", False), (_format_shape(_symbolic(layer, "output", "shape")), True))))
    if label["show_dtype"]:
        dtype = _symbolic(layer, "output", "dtype")
        dtype = tree.map_structure(str, dtype) if dtype is not None else None
        cells.append(Cell((("Output dtype: ", False), (str(dtype or "?"), True))))
    if label["show_trainable"] and hasattr(layer, "trainable") and layer.weights:
        cells.append(Cell((("Trainable", True),), "forestgreen", "white") if layer.trainable else
                     Cell((("Non-trainable", True),), "firebrick", "white"))
    spanning = len(rows)
    if cells:
        rows.append(cells)
    return Box(str(id(layer)), rows, colspan, spanning, path)


# --- pydot ----------------------------------------------------------------------------------------------------------
def _check_built(model) -> None:
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by calling "
                         "the model on a batch of data.")


def _check_kwargs(kwargs: dict) -> None:
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")


def _to_pydot(graph: ModelGraph, rankdir: str, dpi: int, splines: str, subgraph: bool = False):
    pydot = load_pydot()
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=graph.name)
        dot.set("label", graph.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    for box in graph.boxes:
        node = pydot.Node(box.key, label=box.html_label())
        node.set("fontname", "Helvetica")
        node.set("border", "0")
        node.set("margin", "0")
        dot.add_node(node)
    for cluster in graph.clusters:
        dot.add_subgraph(_to_pydot(cluster, rankdir, dpi, splines, subgraph=True))
    for source, destination in graph.edges:  # all of them at the top: graphviz draws edges into clusters
        edge = pydot.Edge(source, destination)
        edge.set("penwidth", "2")
        dot.add_edge(edge)
    return dot


def model_to_dot(model, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho",
                 **kwargs):
    """The model as a ``pydot.Dot`` (a ``pydot.Cluster`` with ``subgraph=True``): Keras's nodes, labels and edges.
    Needs pydot, as Keras's."""
    _check_built(model)
    if not check_pydot():
        raise ImportError("You must install pydot (`pip install pydot`) for model_to_dot to work.")
    _check_kwargs(kwargs)
    graph = ModelGraph.of(model, show_shapes, show_dtype, show_layer_names, expand_nested, show_layer_activations,
                          show_trainable)
    return _to_pydot(graph, rankdir, dpi, splines, subgraph)


# --- matplotlib -----------------------------------------------------------------------------------------------------
@dataclass
class _Placed:
    box: Box
    widths: list[list[float]]  # per row, per cell
    width: float
    height: float
    x: float = 0.0  # top-left corner, in points
    y: float = 0.0


def _row_height(row: list[Cell]) -> float:
    return max(cell.points for cell in row) * 1.25 + 2 * CELL_PADDING


def _measure(box: Box, text_width) -> _Placed:
    widths = [[sum(text_width(t, bold, cell.points) for t, bold in cell.runs) + 2 * CELL_PADDING for cell in row]
              for row in box.rows]
    width = max(sum(row) for row in widths)
    widths = [[w * width / sum(row) for w in row] for row in widths]  # a short row stretches to the box's width
    return _Placed(box, widths, width, sum(_row_height(row) for row in box.rows))


def _ranks(keys: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each box's rank: the length of the longest chain of edges that leads to it (sources are rank 0)."""
    parents: dict[str, list[str]] = {key: [] for key in keys}
    for source, destination in edges:
        parents[destination].append(source)
    rank: dict[str, int] = {}

    def rank_of(key: str) -> int:
        stack = [key]
        while stack:  # iterative, for deep models
            top = stack[-1]
            waiting = [p for p in parents[top] if p not in rank]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            rank[top] = max((rank[p] + 1 for p in parents[top]), default=0)
        return rank[key]

    for key in keys:
        rank_of(key)
    return rank


def _layout(graph: ModelGraph, rankdir: str, text_width):
    """Place the boxes: ranks along ``rankdir`` ('TB' / 'BT' down / up, 'LR' / 'RL' across); in each rank the boxes
    sit at their parents' mean position where they can (a cluster's boxes side by side), else after the previous
    one. Returns the placed boxes, a lane (a coordinate across the ranks) for each edge that skips a rank, so that
    it runs beside the boxes between, and the width and height in points."""
    boxes = graph.all_boxes()
    placed = {box.key: _measure(box, text_width) for box in boxes}
    rank = _ranks([box.key for box in boxes], graph.edges)
    parents: dict[str, list[str]] = {box.key: [] for box in boxes}
    for source, destination in graph.edges:
        parents[destination].append(source)
    across = rankdir in ("LR", "RL")
    span = {key: item.height if across else item.width for key, item in placed.items()}  # size across the ranks
    gap_along, gap_across = (60.0, 30.0) if graph.clusters else (45.0, 30.0)
    levels: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for box in boxes:
        levels[rank[box.key]].append(box.key)
    start: dict[str, float] = {}  # each box's first coordinate across the ranks
    for level in levels:
        wanted = {key: sum(start[p] + span[p] / 2 for p in parents[key]) / len(parents[key]) if parents[key] else None
                  for key in level}
        groups: dict[tuple, list[str]] = {}
        for key in level:
            groups.setdefault(placed[key].box.cluster[:1] or (key,), []).append(key)
        order = {key: i for i, key in enumerate(level)}
        key_of = lambda k: (wanted[k] is None, wanted[k] or 0.0, order[k])  # noqa: E731
        level[:] = [key for members in sorted(groups.values(), key=lambda m: min(key_of(k) for k in m))
                    for key in sorted(members, key=key_of)]
        previous = None
        for key in level:
            gap = gap_across
            if previous is not None and placed[key].box.cluster[:1] != placed[previous].box.cluster[:1]:
                gap += 30.0  # room for a cluster's frame between the two
            after = None if previous is None else start[previous] + span[previous] + gap
            own = None if wanted[key] is None else wanted[key] - span[key] / 2
            start[key] = max(v for v in (after, own, None if after is not None or own is not None else 0.0)
                             if v is not None)
            previous = key
    lanes: dict[tuple[str, str], float] = {}
    for source, destination in graph.edges:
        between = [key for key in placed if min(rank[source], rank[destination]) < rank[key] <
                   max(rank[source], rank[destination])]
        if between:
            lanes[(source, destination)] = max(start[k] + span[k] for k in between) + 20.0 + 10.0 * len(lanes)
    margin = 20.0 + 24.0 * _depth(graph)
    shift = margin - min(start.values(), default=0.0)
    extent_across = max([start[k] + span[k] for k in placed] + list(lanes.values()), default=0.0) + shift + margin
    lanes = {edge: lane + shift for edge, lane in lanes.items()}
    along = margin
    for level in levels:
        thickness = max(placed[k].width if across else placed[k].height for k in level)
        for key in level:
            item, first = placed[key], start[key] + shift
            if across:
                item.x, item.y = along + (thickness - item.width) / 2, first
            else:
                item.x, item.y = first, along + (thickness - item.height) / 2
        along += thickness + gap_along
    length = along - gap_along + margin
    width, height = (length, extent_across) if across else (extent_across, length)
    if rankdir in ("BT", "RL"):  # the same layout, mirrored along the ranks
        for item in placed.values():
            if across:
                item.x = width - item.x - item.width
            else:
                item.y = height - item.y - item.height
    return list(placed.values()), lanes, width, height


def _depth(graph: ModelGraph) -> int:
    return max((1 + _depth(cluster) for cluster in graph.clusters), default=0)


def _draw_with_matplotlib(graph: ModelGraph, rankdir: str, dpi: int, image_format: str) -> bytes:
    """The graph drawn as boxes and right-angled arrows, as image bytes in ``image_format``."""
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import FancyArrowPatch, Rectangle
    from matplotlib.textpath import TextToPath

    to_path = TextToPath()

    def font(bold: bool, points: float) -> FontProperties:
        return FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=points)

    def text_width(text: str, bold: bool, points: float) -> float:
        return to_path.get_text_width_height_descent(text, font(bold, points), ismath=False)[0]

    items, lanes, width, height = _layout(graph, rankdir, text_width)
    figure = Figure(figsize=(width / 72, height / 72), dpi=dpi)  # 1 data unit = 1 point: font sizes map directly
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.axis("off")
    by_key = {item.box.key: item for item in items}
    _draw_clusters(axes, graph, by_key, Rectangle)
    for item in items:
        top = item.y
        for row, widths in zip(item.box.rows, item.widths):
            left, row_height = item.x, _row_height(row)
            for cell, cell_width in zip(row, widths):
                axes.add_patch(Rectangle((left, top), cell_width, row_height, facecolor=cell.background,
                                         edgecolor="black", linewidth=1))
                x = left + (cell_width - sum(text_width(t, b, cell.points) for t, b in cell.runs)) / 2
                for text, bold in cell.runs:
                    axes.text(x, top + row_height / 2, text, color=cell.color, fontproperties=font(bold, cell.points),
                              ha="left", va="center_baseline")
                    x += text_width(text, bold, cell.points)
                left += cell_width
            top += row_height
    across = rankdir in ("LR", "RL")
    for source, destination in graph.edges:
        path = _elbow(by_key[source], by_key[destination], across, lanes.get((source, destination)))
        axes.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=14, linewidth=2, color="black"))
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _draw_clusters(axes, graph: ModelGraph, by_key: dict, rectangle) -> tuple[float, float, float, float] | None:
    """Dashed frames around each nested model's boxes (its own clusters inside), its name at the top left; returns
    the frame of ``graph``'s boxes for the caller's frame."""
    frames = [(by_key[b.key].x, by_key[b.key].y, by_key[b.key].x + by_key[b.key].width,
               by_key[b.key].y + by_key[b.key].height) for b in graph.boxes]
    for cluster in graph.clusters:
        inner = _draw_clusters(axes, cluster, by_key, rectangle)
        if inner is None:
            continue
        x0, y0, x1, y1 = inner[0] - 12, inner[1] - 30, inner[2] + 12, inner[3] + 12
        axes.add_patch(rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, linestyle="--", linewidth=1.2,
                                 edgecolor="black"))
        axes.text(x0 + 6, y0 + 15, cluster.name, fontsize=TEXT_POINTS, ha="left", va="center")
        frames.append((x0, y0, x1, y1))
    if not frames:
        return None
    return (min(f[0] for f in frames), min(f[1] for f in frames), max(f[2] for f in frames),
            max(f[3] for f in frames))


def _elbow(source: _Placed, destination: _Placed, across: bool, lane: float | None = None):
    """A right-angled path from the side of ``source`` that faces ``destination`` to the facing side of it, by way
    of ``lane`` (a coordinate across the ranks) when given."""
    from matplotlib.path import Path

    def along(item: _Placed) -> tuple[float, float]:
        return (item.x, item.x + item.width) if across else (item.y, item.y + item.height)

    def middle(item: _Placed) -> float:
        return item.y + item.height / 2 if across else item.x + item.width / 2

    forward = along(destination)[0] >= along(source)[0]
    start = along(source)[1] if forward else along(source)[0]
    end = along(destination)[0] if forward else along(destination)[1]
    step = 15.0 if forward else -15.0
    a, b = middle(source), middle(destination)
    if lane is None:
        points = [(a, start), (a, end - step), (b, end - step), (b, end)]
    else:
        points = [(a, start), (a, start + step), (lane, start + step), (lane, end - step), (b, end - step), (b, end)]
    xy = [(along_, across_) if across else (across_, along_) for across_, along_ in points]
    return Path(xy, [Path.MOVETO] + [Path.LINETO] * (len(xy) - 1))


# --- plot_model -----------------------------------------------------------------------------------------------------
def plot_model(model, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho",
               **kwargs):
    """Draw the model's graph into ``to_file`` (its extension names the format; none means PNG), as Keras's
    ``plot_model``: with graphviz through pydot where both are installed, else with matplotlib. Returns an
    ``IPython.display.Image`` of the file where IPython is installed (not for PDF), as Keras does."""
    _check_built(model)
    _check_kwargs(kwargs)
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    if check_graphviz():
        dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                           rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                           show_layer_activations=show_layer_activations, show_trainable=show_trainable,
                           splines=splines)
        image = dot.create(format=extension)
    else:
        image = _draw_without_graphviz(model, extension, show_shapes, show_dtype, show_layer_names, rankdir,
                                       expand_nested, dpi, show_layer_activations, show_trainable)
    atomic_write(to_file, [image])
    if extension != "pdf":
        try:
            from IPython import display
            return display.Image(filename=to_file)
        except ImportError:
            pass
    return None


def _draw_without_graphviz(model, extension: str, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                           dpi, show_layer_activations, show_trainable) -> bytes:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("You must install pydot (`pip install pydot`) for `plot_model` to work." if not check_pydot()
                          else "You must install graphviz (see instructions at https://graphviz.gitlab.io/download/) "
                               "for `plot_model` to work.") from None
    from matplotlib.figure import Figure

    formats = Figure().canvas.get_supported_filetypes()
    if extension.lower() not in formats:
        raise ValueError(f"plot_model: without pydot and graphviz, chainrule draws with matplotlib, which cannot "
                         f"write '.{extension}' files; use one of {', '.join(sorted(formats))}")
    if rankdir not in ("TB", "BT", "LR", "RL"):
        raise ValueError(f"plot_model: rankdir must be 'TB', 'BT', 'LR' or 'RL', got {rankdir!r}")
    graph = ModelGraph.of(model, show_shapes, show_dtype, show_layer_names, expand_nested, show_layer_activations,
                          show_trainable)
    return _draw_with_matplotlib(graph, rankdir, dpi, extension.lower())


__all__ = ["model_to_dot", "plot_model"]
