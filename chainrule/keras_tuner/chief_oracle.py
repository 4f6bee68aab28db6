"""KerasTuner's distributed tuning: the same program started several times, told its part by three environment
variables, as KerasTuner's guide "Distributed hyperparameter tuning" sets them.

``KERASTUNER_TUNER_ID`` is ``"chief"`` for one process and a name of its own (``"tuner0"``, ``"tuner1"``, ...) for
each worker; ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT`` are where the chief listens. The chief keeps
the oracle: its ``search`` serves it until the search is over and every worker has stopped. Each worker's
``search`` asks the chief for trials, trains them and reports their metrics; models and trial files go to the
search's folder, which all the processes must share (one machine, or a shared file system). KerasTuner speaks
gRPC; here the calls are XML-RPC (the standard library's :mod:`xmlrpc` server and client), each carrying its
arguments and result as JSON text (no pickles: a call can only reach the oracle's methods), so a chainrule chief
serves chainrule workers only. For trials over the ranks of one ``mpiexec`` instead, see ``workers="mpi"``
(:mod:`chainrule.keras_tuner.mpi_search`).

>>> import os
>>> has_chief_oracle() == ("KERASTUNER_ORACLE_IP" in os.environ)
True
"""
from __future__ import annotations

import json
import os
import threading
import time
from socketserver import ThreadingMixIn
from xmlrpc.client import ServerProxy
from xmlrpc.server import SimpleXMLRPCServer

from chainrule.keras_tuner.hyperparameters import HyperParameters
from chainrule.keras_tuner.trial import Trial, TrialStatus

TUNER_ID, ORACLE_IP, ORACLE_PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"
CONNECT_TIMEOUT_S = 120.0  # how long a worker waits for the chief to start listening
_ERRORS = {"ValueError": ValueError, "TypeError": TypeError, "KeyError": KeyError}


def has_chief_oracle() -> bool:
    """Whether this process is part of a distributed search (``KERASTUNER_ORACLE_IP`` is set)."""
    if ORACLE_IP not in os.environ:
        return False
    if ORACLE_PORT not in os.environ:
        raise RuntimeError('Environment variable "KERASTUNER_ORACLE_IP" was set, but "KERASTUNER_ORACLE_PORT" was '
                           'not. Please specify a port.')
    if TUNER_ID not in os.environ:
        raise RuntimeError('Environment variable "KERASTUNER_ORACLE_IP" was set, but "KERASTUNER_TUNER_ID" was not. '
                           'Please specify an ID for each tuner.')
    return True


def is_chief_oracle() -> bool:
    """Whether this process is the chief of a distributed search (its tuner id contains "chief")."""
    return has_chief_oracle() and "chief" in os.environ[TUNER_ID]


def _address() -> tuple[str, int]:
    port = os.environ[ORACLE_PORT]
    if not port.isdigit():
        raise ValueError(f"KERASTUNER_ORACLE_PORT must be a port number, got {port!r}")
    return os.environ[ORACLE_IP], int(port)


class OracleServer:
    """The chief's side: answers the workers' calls on ``oracle``, one at a time."""

    def __init__(self, oracle):
        self.oracle = oracle
        self._lock = threading.Lock()
        self._stopped = False  # the oracle has said STOPPED to some worker: no new trials
        self._asking: set[str] = set()  # workers that have asked for trials and not yet been told STOPPED
        self.failure: str | None = None

    def handle(self, request: dict) -> dict:
        method, args = request["method"], request.get("args", {})
        with self._lock:
            try:
                return {"result": self._call(method, args)}
            except Exception as error:  # sent back to the worker, which raises it
                if isinstance(error, RuntimeError):  # the oracle gave up (too many consecutive failures)
                    self.failure = str(error)
                return {"error": type(error).__name__, "message": str(error)}

    def _call(self, method: str, args: dict):
        oracle = self.oracle
        if method == "create_trial":
            trial = oracle.create_trial(args["tuner_id"])
            if trial.status == TrialStatus.STOPPED:
                self._stopped = True
                self._asking.discard(args["tuner_id"])
            else:
                self._asking.add(args["tuner_id"])
            return trial.get_state()
        if method == "update_trial":
            return oracle.update_trial(args["trial_id"], args["metrics"], step=args["step"])
        if method == "end_trial":
            return oracle.end_trial(Trial.from_state(args["trial"]))
        if method == "get_space":
            return oracle.get_space().get_config()
        if method == "update_space":
            return oracle.update_space(HyperParameters.from_config(args["hyperparameters"]))
        if method == "get_trial":
            return oracle.get_trial(args["trial_id"]).get_state()
        if method == "get_trials":
            return {trial_id: trial.get_state() for trial_id, trial in oracle.trials.items()}
        if method == "get_best_trials":
            return [trial.get_state() for trial in oracle.get_best_trials(args["num_trials"])]
        raise ValueError(f"the chief oracle has no method {method!r}")

    def done(self) -> bool:
        with self._lock:
            return ((self._stopped or self.failure is not None) and not self.oracle.ongoing_trials
                    and not self._asking)

    def _call_json(self, method: str, arguments: str) -> str:
        """The XML-RPC entry point: one oracle call, its arguments and its answer as JSON text."""
        return json.dumps(self.handle({"method": method, "args": json.loads(arguments)}), default=float)

    def serve(self) -> None:
        """Listen at KERASTUNER_ORACLE_IP:PORT until the search is over and no worker is still asking."""
        with _ThreadingXMLRPCServer(_address(), allow_none=True, logRequests=False) as server:
            server.register_function(self._call_json, "call")
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
            try:
                while not self.done():
                    time.sleep(0.1)
            finally:
                server.shutdown()
        if self.failure is not None:
            raise RuntimeError(self.failure)


class _ThreadingXMLRPCServer(ThreadingMixIn, SimpleXMLRPCServer):
    """The standard library's XML-RPC server answering each worker's call in a thread of its own."""

    daemon_threads = True


class OracleClient:
    """A worker's oracle: the calls that change or read the search go to the chief; the rest (the objective, the
    folder) are this process's copy's."""

    def __init__(self, oracle):
        self._local = oracle
        self._proxy = None
        self._answered = False  # whether the chief has answered once (until then, a refused call is retried)

    def __getattr__(self, name):
        return getattr(self._local, name)

    def _request(self, method: str, **args):
        if self._proxy is None:
            host, port = _address()
            self._proxy = ServerProxy(f"http://{host}:{port}/", allow_none=True)
        arguments = json.dumps(args, default=float)
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while True:
            try:
                reply = json.loads(self._proxy.call(method, arguments))
                self._answered = True
                break
            except ConnectionRefusedError:
                if self._answered or time.monotonic() > deadline:
                    raise ConnectionError(f"no chief oracle answered at {':'.join(map(str, _address()))} within "
                                          f"{CONNECT_TIMEOUT_S:.0f} s (is the process with KERASTUNER_TUNER_ID="
                                          f"'chief' running?)") from None
                time.sleep(0.2)
        if "error" in reply:
            raise _ERRORS.get(reply["error"], RuntimeError)(reply["message"])
        return reply["result"]

    def create_trial(self, tuner_id: str) -> Trial:
        return Trial.from_state(self._request("create_trial", tuner_id=tuner_id))

    def update_trial(self, trial_id: str, metrics: dict, step: int = 0) -> None:
        self._request("update_trial", trial_id=trial_id, metrics=metrics, step=step)

    def end_trial(self, trial: Trial) -> None:
        self._request("end_trial", trial=trial.get_state())

    def get_space(self) -> HyperParameters:
        return HyperParameters.from_config(self._request("get_space"))

    def update_space(self, hyperparameters: HyperParameters) -> None:
        self._request("update_space", hyperparameters=hyperparameters.get_config())

    def get_trial(self, trial_id: str) -> Trial:
        return Trial.from_state(self._request("get_trial", trial_id=trial_id))

    @property
    def trials(self) -> dict[str, Trial]:
        return {trial_id: Trial.from_state(state) for trial_id, state in self._request("get_trials").items()}

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        return [Trial.from_state(state) for state in self._request("get_best_trials", num_trials=num_trials)]

    def save(self) -> None:
        """The chief saves the search's state; a worker has none of its own."""
