"""``chainrule train --model lstm``: Keras's RNN-guide model on images read row by row, with the CNN's outputs."""
import json

import numpy as np
from test_cli import dataset, synthetic_digits  # noqa: F401  (the module's fixture and data)

from chainrule.cli import main, zoo
from chainrule.keras.models import load_model


def test_the_lstm_model_is_the_rnn_guides():
    model = zoo.build("lstm")
    assert [type(layer).__name__ for layer in model.layers] == ["Reshape", "LSTM", "BatchNormalization", "Dense"]
    assert model.layers[1].units == 64 and model.count_params() == 24_714  # the guide's 23,808 + 256 + 650
    assert model.output_shape == (None, 10)


def test_train_lstm_writes_every_output_and_learns(dataset, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.setenv("CHAINRULE_HOME", str(tmp_path / "home"))
    out = tmp_path / "run"
    assert main(["train", "--model", "lstm", "--dataset", str(dataset), "--epochs", "3", "--limit", "300",
                 "--seed", "0", "--out", str(out)]) == 0
    assert "Training lstm" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["model.keras", "history.json", "run.json", "curves.png", "confusion.png", "mistakes.png"])
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 3 and history["loss"][2] < history["loss"][0]
    assert history["accuracy"][2] > 0.3  # three short epochs on 270 images beat chance (0.1)
    model = load_model(out / "model.keras")
    images, labels = synthetic_digits(60, np.random.default_rng(1))
    loss, _ = model.evaluate(images[..., None] / np.float32(255), labels.astype(np.int64), verbose=0)
    assert np.isfinite(loss)
