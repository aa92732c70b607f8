"""Malloc tuning happens when training starts, never on import (issue 19: importing the
package changes nothing process-wide)."""

import subprocess
import sys
import textwrap

import pytest

RECORD_MALLOPT = textwrap.dedent(
    """
    import ctypes
    calls = []

    class Recording:
        def __init__(self, *args, **kwargs):
            pass

        def mallopt(self, option, value):
            calls.append((option, value))
            return 1

    ctypes.CDLL = Recording
    """
)


def run(code: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", RECORD_MALLOPT + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={"PATH": "", **env},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_package_leaves_malloc_alone():
    assert run("import tinygrad_cnn, tinygrad_cnn.memory; print(calls)") == "[]"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_fit_keeps_freed_memory_and_the_variable_opts_out():
    code = """
        import numpy as np
        import tinygrad_cnn as tc
        from tinygrad_cnn.train import fit
        model = tc.nn.Sequential(tc.nn.Flatten(), tc.nn.Linear(4, 2))
        data = (np.ones((4, 1, 2, 2), np.float32), np.array([0, 1, 0, 1]))
        fit(model, tc.optim.SGD(model.parameters(), lr=0.1), data, data, 1, quiet=True)
        print(calls)
    """
    assert run(code) == str([(-3, 32 * 1024 * 1024), (-1, 1 << 30)])
    assert run(code, TINYGRAD_CNN_KEEP_MEMORY="0") == "[]"
