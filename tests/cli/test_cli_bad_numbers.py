"""``chainrule`` refuses numbers that cannot work before it starts (non-finite, zero or negative where that makes no
sense), naming the flag; a run whose loss or weights stop being finite stops with one line, keeps the model file of
the last good epoch and exits non-zero."""
import json

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.keras.models import load_model
from chainrule.keras.saving import read_header

from test_cli import dataset  # noqa: F401 - the synthetic MNIST-format folder, a module fixture

BAD_NUMBERS = [
    ("--lr", "inf", "must be a finite number"), ("--lr", "-inf", "must be a finite number"),
    ("--lr", "nan", "must be a finite number"), ("--lr", "1e400", "must be a finite number"),
    ("--lr", "0", "must be above 0"), ("--lr", "-0.01", "must be above 0"), ("--lr", "fast", "must be a number"),
    ("--epochs", "0", "must be at least 1"), ("--epochs", "-1", "must be at least 1"),
    ("--epochs", "inf", "must be a whole number"), ("--epochs", "nan", "must be a whole number"),
    ("--epochs", "1.5", "must be a whole number"),
    ("--batch-size", "0", "must be at least 1"), ("--batch-size", "nan", "must be a whole number"),
    ("--limit", "0", "must be at least 1"), ("--limit", "-5", "must be at least 1"),
    ("--validation-split", "nan", "must be a finite number"), ("--validation-split", "inf", "must be a finite number"),
    ("--validation-split", "1", "must be in [0, 1)"), ("--validation-split", "-0.1", "must be in [0, 1)"),
    ("--seed", "-1", "must be a whole number from 0 to 2**32 - 1"), ("--seed", "nan", "must be a whole number"),
    ("--seed", str(2**32), "must be a whole number from 0 to 2**32 - 1"),
]


@pytest.mark.parametrize("flag, value, message", BAD_NUMBERS)
def test_bad_numbers_are_refused_up_front_naming_the_flag(flag, value, message, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--dataset", str(tmp_path), f"{flag}={value}", "--out", str(out)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"chainrule train: error: argument {flag}: {message}" in err, err
    assert value in err and "Traceback" not in err
    assert not out.exists()  # nothing was trained or written


def test_evaluate_and_predict_check_their_numbers_too(tmp_path, capsys):
    for argv, flag in ((["evaluate", "m.keras", "--batch-size", "0"], "--batch-size"),
                       (["evaluate", "m.keras", "--limit", "nan"], "--limit"),
                       (["predict", "m.keras", "a.png", "--top", "-1"], "--top")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and f"argument {flag}:" in capsys.readouterr().err


def _train(dataset, out, *flags) -> int:
    return main(["train", "--model", "mlp", "--dataset", str(dataset), "--limit", "64", "--batch-size", "16",
                 "--validation-split", "0", "--seed", "0", "--out", str(out), "--verbose", "0", *flags])


def _all_finite(model) -> bool:
    return all(np.isfinite(w).all() for w in model.get_weights())


def test_a_learning_rate_that_blows_up_stops_with_a_message_and_exit_1(dataset, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "run"
    assert _train(dataset, out, "--optimizer", "sgd", "--lr", "1e30", "--epochs", "3") == 1
    err = capsys.readouterr().err
    assert err.startswith("chainrule train: error: ") and err.count("\n") == 1, err
    assert "became" in err and "training stopped" in err and "learning rate 1e+30 too high" in err
    if (out / "model.keras").exists():  # an epoch may have ended before the weights overflowed
        assert "keeps the model after epoch" in err
        assert _all_finite(load_model(out / "model.keras"))
    else:
        assert "no model file was written" in err
    run = json.loads((out / "run.json").read_text())  # (kept up to date from the start: it says what happened)
    assert run["status"] == "diverged" and "training stopped" in run["failure"] and "test" not in run


def test_a_run_that_diverges_keeps_the_previous_good_file(dataset, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "run"
    assert _train(dataset, out, "--epochs", "1") == 0
    good = (out / "model.keras").read_bytes()
    capsys.readouterr()
    assert _train(dataset, out, "--optimizer", "sgd", "--lr", "1e30", "--epochs", "2") == 1
    err = capsys.readouterr().err
    if "keeps the model after epoch" not in err:
        assert f"{out / 'model.keras'} was left as it was" in err
        assert (out / "model.keras").read_bytes() == good
    assert _all_finite(load_model(out / "model.keras"))


class _Poison:
    """Wraps ``Trainer.fit`` to make a weight NaN at a chosen point of training, as an overflow would."""

    def __init__(self, monkeypatch, epoch: int, where: str):
        from chainrule.keras import callbacks
        from chainrule.keras.training.trainer import Trainer

        original = Trainer.fit
        poison_epoch = epoch

        class PoisonWeights(callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.epoch = epoch
                if where == "epoch start" and epoch == poison_epoch:
                    self.model.weights[0].data[...] = np.nan

            def on_train_batch_end(self, batch, logs=None):
                last = batch + 1 == self.params["steps"]
                if where == "after the last batch" and self.epoch == poison_epoch and last:
                    self.model.weights[0].data[...] = np.nan

        def fit(model, *args, callbacks=None, **kwargs):
            return original(model, *args, callbacks=[PoisonWeights(), *(callbacks or [])], **kwargs)

        monkeypatch.setattr(Trainer, "fit", fit)


@pytest.mark.parametrize("where, cause", [("epoch start", "the loss became nan in epoch 2, batch 1"),
                                          ("after the last batch", "became non-finite in epoch 2")])
def test_the_model_file_keeps_the_last_epoch_with_finite_weights(dataset, tmp_path, capsys, monkeypatch,  # noqa
                                                                 where, cause):
    out = tmp_path / "run"
    _Poison(monkeypatch, epoch=1, where=where)
    assert _train(dataset, out, "--epochs", "3") == 1
    err = capsys.readouterr().err
    assert cause in err and f"{out / 'model.keras'} keeps the model after epoch 1" in err, err
    model = load_model(out / "model.keras")
    assert _all_finite(model) and int(model.optimizer.iterations) == 4  # 64 images, batches of 16: one epoch
    assert read_header(out / "model.keras")["metadata"]["class_names"] == [str(i) for i in range(10)]


def test_a_good_run_still_writes_everything(dataset, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    assert _train(dataset, out, "--epochs", "2") == 0
    assert {"model.keras", "history.json", "run.json"} <= {p.name for p in out.iterdir()}
    assert int(load_model(out / "model.keras").optimizer.iterations) == 8
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 2
