"""chainrule keeps freed arrays in the process's heap (chainrule/backend/allocator.py): a training step's arrays of a
few MB, freed and made again, cost no new pages; users' own malloc settings win."""
import os
import subprocess
import sys

import pytest

from chainrule.backend import allocator

PROGRAM = r"""
import resource, sys
import numpy as np
if sys.argv[1] == "chainrule":
    import chainrule
arrays = []
for step in range(3):  # a step's worth of arrays, made and freed: the first step pays for its pages
    arrays = [np.ones(2_000_000, np.float32) for _ in range(4)]
    arrays = []
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for step in range(20):
    arrays = [np.ones(2_000_000, np.float32) for _ in range(4)]
    arrays = []
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str, **env) -> int:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True,
                         env=environment)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_arrays_serve_the_next_step_without_new_pages():
    plain, kept = _faults("numpy"), _faults("chainrule")
    assert plain > 20 * 4 * 100  # 20 steps of 4 arrays of 8 MB: hundreds of new pages each without chainrule
    assert kept < plain / 50


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_the_users_settings_win():
    assert _faults("chainrule", CHAINRULE_MALLOC="system") > 20 * 4 * 100


def test_a_bad_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("CHAINRULE_MALLOC", "fast")
    with pytest.raises(ValueError, match=r"CHAINRULE_MALLOC='fast': expected 'keep' \(the default\) or 'system'"):
        allocator.keep_freed_memory()
    monkeypatch.setenv("CHAINRULE_MALLOC", "keep")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000")
    assert allocator.keep_freed_memory() is False
