"""KerasTuner guide "Distributed hyperparameter tuning", run on chainrule: the guide's program
(kerastuner_distributed_program.py) started three times, as the guide's shell scripts start it, with
KERASTUNER_TUNER_ID="chief", "tuner0" and "tuner1", KERASTUNER_ORACLE_IP="127.0.0.1" and a free
KERASTUNER_ORACLE_PORT. The workers train the trials the chief hands out; all three share one results folder."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

PROGRAM = Path(__file__).with_name("kerastuner_distributed_program.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_distributed_tuning(tmp_path):
    port = str(_free_port())
    processes = {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        env = dict(os.environ, KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP="127.0.0.1",
                   KERASTUNER_ORACLE_PORT=port, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        processes[tuner_id] = subprocess.Popen([sys.executable, str(PROGRAM), str(tmp_path)], env=env,
                                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs = {}
    for tuner_id, process in processes.items():
        try:
            outputs[tuner_id] = process.communicate(timeout=300)[0]
        finally:
            process.kill()
    for tuner_id, process in processes.items():
        assert process.returncode == 0, f"{tuner_id}:\n{outputs[tuner_id][-3000:]}"
    chief = json.loads((tmp_path / "chief.json").read_text())
    assert chief and all(t["status"] == "COMPLETED" for t in chief.values())
    workers = [json.loads((tmp_path / f"tuner{i}.json").read_text()) for i in range(2)]
    assert all(worker == chief for worker in workers)  # the workers read the chief's trials
    assert all("Search: Running Trial" in outputs[f"tuner{i}"] for i in range(2)), outputs  # both trained some
    assert "Search: Running Trial" not in outputs["chief"]  # the chief only serves
    for trial_id in chief:
        assert (tmp_path / "results_dir" / "mnist" / f"trial_{trial_id}" / "model.keras").exists()
    assert (tmp_path / "results_dir" / "mnist" / "oracle.json").exists()
