# SPDX-License-Identifier: LGPL-2.1-or-later
"""The type hints: mypy --strict over the package and over typing_sample.py, code written
against the public API. Skipped only when mypy is not installed (Debian: apt-get install
mypy)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

BINDING = Path(__file__).resolve().parents[1]


def test_py_typed_marker_is_shipped():
    assert (BINDING / "pidtuple" / "py.typed").is_file()
    assert '"py.typed"' in (BINDING / "pyproject.toml").read_text()


def test_mypy_strict(tmp_path):
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (Debian: apt-get install mypy)")
    # The oldest Python the package supports (pyproject.toml's requires-python).
    cmd = [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.9",
           "--cache-dir", str(tmp_path / "cache"), "--no-error-summary",
           "pidtuple", str(BINDING / "tests" / "typing_sample.py")]
    env = dict(os.environ, MYPYPATH=str(BINDING))
    out = subprocess.run(cmd, cwd=BINDING, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, f"mypy --strict:\n{out.stdout}{out.stderr}"
