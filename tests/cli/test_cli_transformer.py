"""``chainrule train --model transformer``: a small Transformer encoder over image rows, with the CNN's outputs."""
import json

import numpy as np
import pytest
from test_cli import dataset, synthetic_digits  # noqa: F401  (the module's fixture and data)

from chainrule.cli import main, zoo
from chainrule.keras.models import load_model


def test_the_transformer_model_encodes_rows_with_learned_positions():
    model = zoo.build("transformer")
    names = [type(layer).__name__ for layer in model.layers]
    assert names[:4] == ["InputLayer", "Reshape", "Dense", "AddPositionEmbedding"]
    assert names.count("MultiHeadAttention") == 2 and names.count("LayerNormalization") == 4
    assert names[-2:] == ["Dropout", "Dense"] and "GlobalAveragePooling1D" in names
    # row projection 28*64+64, positions 28*64, per block attention 4*(64*64+64), two norms 2*128, feed-forward
    # 64*128+128 + 128*64+64; the classifier 64*10+10
    assert model.count_params() == 1856 + 1792 + 2 * (16640 + 256 + 8320 + 8256) + 650
    assert model.output_shape == (None, 10)
    with pytest.raises(ValueError, match="embeds 28 positions but got sequences of 14 steps"):
        zoo.AddPositionEmbedding(28)(np.zeros((1, 14, 4), "float32"))


def test_train_transformer_writes_every_output_and_learns(dataset, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    out = tmp_path / "run"
    assert main(["train", "--model", "transformer", "--dataset", str(dataset), "--epochs", "6", "--limit", "300",
                 "--seed", "0", "--out", str(out)]) == 0
    assert "Training transformer" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model.keras", "history.json", "run.json", "curves.png", "confusion.png", "mistakes.png"])
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 6 and history["loss"][5] < history["loss"][0]
    assert history["accuracy"][5] > 0.3  # six short epochs on 270 images beat chance (0.1)
    model = load_model(out / "model.keras")
    assert type(model.layers[3]).__name__ == "AddPositionEmbedding"
    images, labels = synthetic_digits(60, np.random.default_rng(1))
    x = images[..., None] / np.float32(255)
    loss, _ = model.evaluate(x, labels.astype(np.int64), verbose=0)
    assert np.isfinite(loss)
    assert main(["evaluate", str(out / "model.keras"), "--dataset", str(dataset)]) == 0
