import sys
from pathlib import Path

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
