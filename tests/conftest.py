import os
import sys
from pathlib import Path

# Kernels compile on their first call, in the test's thread: a test comparing the numba and NumPy paths runs the
# kernel, and no test's result depends on what compiled in the background before it.
os.environ.setdefault("CHAINRULE_KERNELS", "wait")

sys.path.insert(0, str(Path(__file__).parent / "oracle"))


import pytest  # noqa: E402


@pytest.fixture
def replays(monkeypatch):
    """A list that gets one item per replayed call of a traced function (chainrule/engine/tracer.py's Program.run)."""
    from chainrule.engine.tracer import Program

    count = []
    run = Program.run
    monkeypatch.setattr(Program, "run", lambda self, leaves: count.append(1) or run(self, leaves))
    return count
