"""model.summary(): Keras 3's table (Layer (type) | Output Shape | Param #), totals with sizes, print_fn."""
import io
import sys

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import layers


def seed_cnn():
    return keras.models.Sequential([
        keras.layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation='relu'),
        keras.layers.Dense(10, activation='softmax')
    ])


def summary_lines(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def test_seed_cnn_summary_matches_keras():
    keras.backend.clear_session()
    lines = summary_lines(seed_cnn(), line_length=76)
    assert lines == [
        'Model: "sequential"',
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┓",
        "┃ Layer (type)                    ┃ Output Shape            ┃      Param # ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━┩",
        "│ conv2d (Conv2D)                 │ (None, 26, 26, 32)      │          320 │",
        "├─────────────────────────────────┼─────────────────────────┼──────────────┤",
        "│ max_pooling2d (MaxPooling2D)    │ (None, 13, 13, 32)      │            0 │",
        "├─────────────────────────────────┼─────────────────────────┼──────────────┤",
        "│ flatten (Flatten)               │ (None, 5408)            │            0 │",
        "├─────────────────────────────────┼─────────────────────────┼──────────────┤",
        "│ dense (Dense)                   │ (None, 128)             │      692,352 │",
        "├─────────────────────────────────┼─────────────────────────┼──────────────┤",
        "│ dense_1 (Dense)                 │ (None, 10)              │        1,290 │",
        "└─────────────────────────────────┴─────────────────────────┴──────────────┘",
        " Total params: 693,962 (2.65 MB)",
        " Trainable params: 693,962 (2.65 MB)",
        " Non-trainable params: 0 (0.00 B)",
    ]
    assert all(len(line) == 76 for line in lines[1:14])


def test_default_width_follows_the_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert len(summary_lines(seed_cnn())[1]) == 88  # Keras's default for sequential models
    monkeypatch.setenv("COLUMNS", "60")
    assert len(summary_lines(seed_cnn())[1]) == 56


def test_summary_prints_to_stdout_by_default(capsys):
    seed_cnn().summary()
    out = capsys.readouterr().out
    assert "Total params: 693,962 (2.65 MB)" in out and "Layer (type)" in out


def test_ascii_table_when_the_output_cannot_encode_box_characters(monkeypatch):
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
    seed_cnn().summary()
    sys.stdout.flush()
    text = raw.getvalue().decode("ascii")
    assert "| dense" in text and "693,962" in text


def test_non_trainable_weights_and_optimizer_state_are_counted():
    model = seed_cnn()
    model.layers[0].trainable = False
    lines = summary_lines(model)
    assert " Trainable params: 693,642 (2.65 MB)" in lines
    assert " Non-trainable params: 320 (1.25 KB)" in lines
    model.compile("adam", "categorical_crossentropy")
    model.fit(np.zeros((4, 28, 28, 1)), np.eye(10)[:4], verbose=0)
    lines = summary_lines(model)
    optimizer_line = next(line for line in lines if line.startswith(" Optimizer params:"))
    assert optimizer_line.startswith(f" Optimizer params: {2 * 693642 + 1:,}")
    total = next(line for line in lines if line.startswith(" Total params:"))
    assert total.startswith(f" Total params: {693962 + 2 * 693642 + 1:,}")


def test_unbuilt_model_shows_question_marks_and_unbuilt():
    model = keras.Sequential([layers.Dense(3), layers.Dense(2)])
    lines = summary_lines(model, line_length=80)
    rows = [line for line in lines if "(Dense)" in line]
    assert len(rows) == 2 and all("?" in row and "0 (unbuilt)" in row for row in rows)
    assert " Total params: 0 (0.00 B)" in lines


def test_functional_summary_has_input_rows_and_connections():
    keras.backend.clear_session()
    a = keras.Input(shape=(8,), name="left")
    b = keras.Input(shape=(8,), name="right")
    out = layers.Dense(2, name="head")(layers.Add(name="sum")([a, b]))
    lines = summary_lines(keras.Model([a, b], out, name="two_inputs"), line_length=108)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "two_inputs"'
    assert "Connected to" in lines[2]
    assert "left (InputLayer)" in text and "(None, 8)" in text
    sum_row = next(line for line in lines if "sum (Add)" in line)
    assert "left[0][0], right[0][0]" in sum_row
    assert "sum[0][0]" in next(line for line in lines if "head (Dense)" in line)
    assert " Total params: 18 (72.00 B)" in lines


def test_chain_shaped_functional_model_uses_the_sequential_layout():
    x = keras.Input(shape=(4,))
    model = keras.Model(x, layers.Dense(2)(x))
    lines = summary_lines(model, line_length=80)
    assert "Connected to" not in lines[2]
    assert any("(InputLayer)" in line for line in lines)


def test_show_trainable_and_layer_range_and_expand_nested():
    model = seed_cnn()
    conv, pool, flatten, dense, _ = model.layers
    dense.trainable = False
    lines = summary_lines(model, show_trainable=True, line_length=100)
    assert "Trainable" in lines[2]
    assert next(line for line in lines if f"{dense.name} (Dense)" in line).rstrip("│ ").endswith("N")
    assert next(line for line in lines if f"{conv.name} (Conv2D)" in line).rstrip("│ ").endswith("Y")
    assert next(line for line in lines if f"{flatten.name} (Flatten)" in line).rstrip("│ ").endswith("-")
    ranged = summary_lines(model, layer_range=[pool.name, flatten.name], line_length=80)
    rows = [line.split()[1] for line in ranged if line.startswith("│") and "(" in line]
    assert rows == [pool.name, flatten.name]
    outer = keras.Sequential([model, layers.Dense(2)])
    nested = summary_lines(outer, expand_nested=True, line_length=90)
    assert any(f"└ {conv.name} (Conv2D)" in line for line in nested)


def test_too_narrow_is_an_error():
    with pytest.raises(ValueError, match="width"):
        seed_cnn().summary(line_length=8, print_fn=lambda line: None)
