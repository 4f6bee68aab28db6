"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts, in plain text.

>>> from chainrule.keras.models import Sequential
>>> from chainrule.keras.layers import Dense
>>> model = Sequential([Dense(10, input_shape=(784,), name="dense")], name="tiny")
>>> model.summary(line_length=60)
Model: "tiny"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━┓
┃ Layer (type)             ┃ Output Shape       ┃  Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━┩
│ dense (Dense)            │ (None, 10)         │    7,850 │
└──────────────────────────┴────────────────────┴──────────┘
 Total params: 7,850 (30.66 KB)
 Trainable params: 7,850 (30.66 KB)
 Non-trainable params: 0 (0.00 B)

The lines are those Keras prints (rich's heavy-head box); where the output cannot encode box-drawing characters
they fall back to ASCII.
"""
from __future__ import annotations

import re
import shutil
import sys
import textwrap
from typing import Callable

_BOX = {"top": "┏━┳┓", "head": "┃┃┃", "head_sep": "┡━╇┩", "row": "│││", "row_sep": "├─┼┤", "bottom": "└─┴┘"}
_ASCII = {"top": "+=++", "head": "|||", "head_sep": "+=++", "row": "|||", "row_sep": "+-++", "bottom": "+-++"}


def count_params(weights) -> int:
    unique = {id(w): w for w in weights}.values()
    return int(sum(w.size for w in unique))


def weight_memory_size(weights) -> int:
    """Bytes taken by the weights (each counted once)."""
    unique = {id(w): w for w in weights}.values()
    return int(sum(w.size * w.dtype.itemsize for w in unique))


def readable_memory_size(size: float) -> str:
    """Bytes in Keras's units: '0.00 B', '30.66 KB', '2.65 MB' (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def format_shape(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _shapes_text(shapes: list) -> str:
    if not shapes:
        return "?"
    if len(shapes) == 1:
        return format_shape(shapes[0])
    return "[" + ", ".join(format_shape(s) for s in shapes) + "]"


def _layer_output_shapes(model, layer, index: int) -> str:
    """The output shape(s) of ``layer`` inside ``model``, from the graph the model was built with."""
    from chainrule.keras.models import Functional, Sequential

    if isinstance(model, Sequential):
        outputs = model._layer_outputs
        return format_shape(outputs[index].shape) if index < len(outputs) else "?"
    if type(layer).__name__ == "InputLayer":
        return format_shape(layer.batch_shape)
    nodes = [n for n in getattr(layer, "_inbound_nodes", [])
             if not isinstance(model, Functional) or n in model._graph._node_set]
    if not nodes:
        return "?"
    return _shapes_text([t.shape for t in nodes[-1].outputs])


def _connections(model, layer) -> str:
    graph = model._graph
    parts = []
    for node in layer._inbound_nodes:
        if node not in graph._node_set:
            continue
        for t in node.flat_inputs:
            inbound, _, tensor_index = t._keras_history
            parts.append(f"{inbound.name}[{graph.node_index_in_model(t.node)}][{tensor_index}]")
    return ", ".join(parts) or "-"


def _params_text(layer) -> str:
    if not getattr(layer, "built", True):
        return "0 (unbuilt)"
    return f"{layer.count_params():,}"


def _layer_range(layers: list, layer_range) -> tuple[int, int]:
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(x, str) for x in layer_range):
        raise ValueError(f"layer_range must be a list or tuple of two layer names (or regexes), got {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def print_summary(model, line_length: int | None = None, positions=None, print_fn: Callable | None = None,
                  expand_nested: bool = False, show_trainable: bool = False, layer_range=None) -> None:
    """Print the summary table of ``model``, one line per ``print_fn`` call (``print`` by default)."""
    from chainrule.keras.models import Functional

    functional = isinstance(model, Functional)
    sequential_like = not functional or model._graph.is_chain()
    layers = model.layers
    if sequential_like:
        default_length, positions = 88, positions or [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default_length, positions = 108, positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        align.append("center")
    line_length = line_length or min(default_length, shutil.get_terminal_size().columns - 4)
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    widths, current = [], 0
    for pos in positions:
        widths.append(pos - current)
        current = pos
    content = [w - 3 for w in widths]
    content[-1] -= 1
    for i, title in enumerate(header):  # a heading word is never broken: widen its column from the widest one
        need = max(len(word) for word in title.split()) - content[i]
        widest = max(range(len(content)), key=content.__getitem__)
        if need > 0 and widest != i and content[widest] - need >= need:
            content[i] += need
            content[widest] -= need
    if min(content) < 1:
        raise ValueError("Insufficient console width to print summary.")

    def fields(layer, index: int, prefix: str = "") -> list[str]:
        row = [f"{prefix}{layer.name} ({type(layer).__name__})", _layer_output_shapes(model, layer, index),
               _params_text(layer)]
        if not sequential_like:
            row.append(_connections(model, layer) if type(layer).__name__ != "InputLayer" else "-")
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_of(layer, index: int, level: int = 0) -> list[list[str]]:
        rows = [fields(layer, index, "   " * level + "└ " if level else "")]
        if expand_nested and hasattr(layer, "layers") and layer.layers:
            for i, inner in enumerate(layer.layers):
                rows.extend(_nested_rows(layer, inner, i, level + 1))
        return rows

    def _nested_rows(parent, layer, index, level):
        row = [f"{'   ' * level}└ {layer.name} ({type(layer).__name__})",
               _layer_output_shapes(parent, layer, index), _params_text(layer)]
        if not sequential_like:
            row.append("-")
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows = [row]
        if expand_nested and hasattr(layer, "layers") and layer.layers:
            for i, inner in enumerate(layer.layers):
                rows.extend(_nested_rows(layer, inner, i, level + 1))
        return rows

    start, stop = _layer_range(layers, layer_range)
    body = []
    for index in range(start, stop):
        body.extend(rows_of(layers[index], index))

    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    trainable_count, non_trainable_count = count_params(trainable), count_params(non_trainable)
    trainable_size, non_trainable_size = weight_memory_size(trainable), weight_memory_size(non_trainable)
    optimizer_vars = _optimizer_variables(model)
    total_count = trainable_count + non_trainable_count + count_params(optimizer_vars)
    total_size = trainable_size + non_trainable_size + weight_memory_size(optimizer_vars)

    box = _BOX if _can_encode("".join(_BOX.values()), print_fn) else _ASCII
    lines = [f'Model: "{model.name}"']
    lines += _table(header, body, content, align, box)
    lines.append(f" Total params: {total_count:,} ({readable_memory_size(total_size)})")
    lines.append(f" Trainable params: {trainable_count:,} ({readable_memory_size(trainable_size)})")
    lines.append(f" Non-trainable params: {non_trainable_count:,} ({readable_memory_size(non_trainable_size)})")
    if optimizer_vars:
        lines.append(f" Optimizer params: {count_params(optimizer_vars):,} "
                     f"({readable_memory_size(weight_memory_size(optimizer_vars))})")
    emit = print_fn or print
    for line in lines:
        emit(line)


def _optimizer_variables(model) -> list:
    """The optimizer's state once it exists (Keras adds it to the total after training)."""
    optimizer = getattr(model, "optimizer", None)
    variables = list(getattr(optimizer, "variables", None) or [])
    return variables if len(variables) > 1 else []  # just the step counter: not built yet


def _can_encode(text: str, print_fn) -> bool:
    if print_fn is not None:
        return True
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _table(header: list[str], rows: list[list[str]], widths: list[int], align: list[str], box: dict) -> list[str]:
    def rule(kind: str) -> str:
        left, fill, mid, right = box[kind]
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values: list[str], kind: str, alignments: list[str]) -> list[str]:
        wrapped = [textwrap.wrap(v, w, break_on_hyphens=False) or [""] for v, w in zip(values, widths)]
        height = max(len(w) for w in wrapped)
        left, mid, right = box[kind]
        out = []
        for i in range(height):
            parts = []
            for column, (lines, w, a) in enumerate(zip(wrapped, widths, alignments)):
                text = lines[i] if i < len(lines) else ""
                parts.append(" " + (text.rjust(w) if a == "right" else text.center(w) if a == "center"
                                    else text.ljust(w)) + " ")
            out.append(left + mid.join(parts) + right)
        return out

    lines = [rule("top")]
    lines += cells(header, "head", ["right" if a == "right" else "left" for a in align])
    lines.append(rule("head_sep"))
    for i, row in enumerate(rows):
        if i:
            lines.append(rule("row_sep"))
        lines += cells(row, "row", align)
    lines.append(rule("bottom"))
    return lines
