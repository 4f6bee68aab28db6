"""KerasTuner's distributed mode (chainrule/keras_tuner/chief_oracle.py): the environment variables, and a chief's
oracle served over a real socket to clients in this process."""
import socket
import threading

import pytest

from chainrule import keras_tuner as kt
from chainrule.keras_tuner import chief_oracle
from chainrule.keras_tuner.chief_oracle import OracleClient, OracleServer


@pytest.fixture
def address(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", str(port))
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    return port


def test_environment_variables(monkeypatch):
    monkeypatch.delenv("KERASTUNER_ORACLE_IP", raising=False)
    assert not chief_oracle.has_chief_oracle() and not chief_oracle.is_chief_oracle()
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.delenv("KERASTUNER_ORACLE_PORT", raising=False)
    with pytest.raises(RuntimeError, match="KERASTUNER_ORACLE_PORT"):
        chief_oracle.has_chief_oracle()
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.delenv("KERASTUNER_TUNER_ID", raising=False)
    with pytest.raises(RuntimeError, match="KERASTUNER_TUNER_ID"):
        chief_oracle.has_chief_oracle()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert chief_oracle.is_chief_oracle()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner3")
    assert chief_oracle.has_chief_oracle() and not chief_oracle.is_chief_oracle()


def test_a_served_oracle_hands_out_trials_relays_errors_and_ends(address, tmp_path):
    hp = kt.HyperParameters()
    hp.Choice("units", [8, 16, 32])
    oracle = kt.RandomSearchOracle("val_loss", max_trials=3, hyperparameters=hp, seed=1)
    oracle._set_project_dir(tmp_path)
    server = OracleServer(oracle)
    serving = threading.Thread(target=server.serve)
    serving.start()
    workers = [OracleClient(kt.RandomSearchOracle("val_loss", hyperparameters=hp)) for _ in range(2)]
    a, b = (w.create_trial(f"tuner{i}") for i, w in enumerate(workers))
    assert a.status == b.status == "RUNNING" and a.trial_id != b.trial_id
    with pytest.raises(ValueError, match="Objective value missing"):
        workers[0].update_trial(a.trial_id, {"loss": 1.0})  # the chief's error, raised in the worker
    workers[0].update_trial(a.trial_id, {"val_loss": 0.5}, step=0)
    workers[0].end_trial(a)
    assert set(workers[1].trials) == {a.trial_id, b.trial_id} and workers[1].get_trial(a.trial_id).score == 0.5
    assert workers[1].get_space().values == {"units": 8} and workers[0].objective.name == "val_loss"
    c = workers[0].create_trial("tuner0")
    assert workers[0].create_trial("tuner0").trial_id == c.trial_id  # its running trial again
    for worker, trial, score in ((workers[1], b, 0.25), (workers[0], c, 0.75)):
        worker.update_trial(trial.trial_id, {"val_loss": score})
        worker.end_trial(trial)
    assert [t.score for t in workers[0].get_best_trials(3)] == [0.25, 0.5, 0.75]
    assert not server.done()  # no worker has been told the search is over yet
    assert workers[0].create_trial("tuner0").status == "STOPPED"
    assert not server.done()  # tuner1 is still asking
    assert workers[1].create_trial("tuner1").status == "STOPPED"
    serving.join(timeout=10)
    assert not serving.is_alive() and len(oracle.trials) == 3
    assert (tmp_path / "oracle.json").exists()  # the chief saved the search


def test_a_worker_without_a_chief_says_so(address, monkeypatch):
    monkeypatch.setattr(chief_oracle, "CONNECT_TIMEOUT_S", 0.3)
    client = OracleClient(kt.RandomSearchOracle("val_loss"))
    with pytest.raises(ConnectionError, match="no chief oracle answered"):
        client.create_trial("tuner0")
