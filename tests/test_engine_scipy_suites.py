"""SciPy's own test suites for its convolutions, answered by imconv through a thin shim.

SciPy's installed test modules ``scipy/signal/tests/test_signaltools.py`` and
``scipy/ndimage/tests/test_filters.py`` run in a subprocess with the plugin
``tests/scipy_shim/imconv_scipy_shim.py``, which answers ``scipy.signal.convolve`` and
``correlate`` and ``scipy.ndimage.correlate`` and ``convolve`` with imconv: every call runs
all four algorithms, answers with ``direct``'s result and fails when another algorithm
differs from it beyond the contract's tolerance (see the plugin). Nothing is downloaded:
where the installed SciPy wheel does not ship its tests, the module is skipped with that
reason.

The selection: every convolution and correlation test class of ``test_signaltools``, and
every test of ``test_filters``'s filter classes whose name says ``correlate`` or
``convolve`` (SciPy 1.17.1: 1,511 tests, 1,753 calls answered by imconv with each of the
four algorithms, the others left to SciPy: integer outputs, ``output=``, empty arrays;
about 30 s on the 2-core development machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHIM = Path(__file__).resolve().parent / "scipy_shim"
SIGNAL = "signal/tests/test_signaltools.py"
NDIMAGE = "ndimage/tests/test_filters.py"
SUITES = (SIGNAL, NDIMAGE)
# Test classes named as pytest node ids: only they are collected (the modules hold 15,000).
CLASSES = (
    *(f"{SIGNAL}::{name}" for name in ("TestConvolve", "TestConvolve2d", "TestCorrelate")),
    *(f"{SIGNAL}::{name}" for name in ("TestCorrelateReal", "TestCorrelateComplex")),
    f"{SIGNAL}::TestCorrelate2d",
    f"{NDIMAGE}::TestNdimageFilters",
    f"{NDIMAGE}::TestThreading",
)
SELECTION = "test_signaltools or correlate or convolve"


def _installed_suites() -> list[str]:
    """The node ids of the selected classes in the installed SciPy (or skip)."""
    import scipy

    root = Path(scipy.__file__).resolve().parent
    missing = [str(root / suite) for suite in SUITES if not (root / suite).is_file()]
    if missing:
        pytest.skip(f"the installed SciPy wheel does not ship its tests: no {', '.join(missing)}")
    return [str(root / node) for node in CLASSES]


def test_scipys_convolution_suites_pass_with_every_algorithm(tmp_path: Path) -> None:
    suites = _installed_suites()
    report = tmp_path / "calls.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SHIM), os.environ.get("PYTHONPATH", "")]),
        "IMCONV_SHIM_ALGORITHM": "every",
        "IMCONV_SHIM_REPORT": str(report),
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "imconv_scipy_shim",
        "-p",
        "no:cacheprovider",
        "-q",
        "-W",
        "ignore",  # SciPy's own deprecations are not what is tested here
        "-k",
        SELECTION,
        *suites,
    ]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    calls = json.loads(report.read_text(encoding="utf-8"))
    assert calls["imconv"] >= 1000, calls  # imconv answered, not SciPy's fallback
