"""The engine is pure numerics: importing it loads neither Pillow nor the terminal stack."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import imconv.engine

FORBIDDEN = ("PIL", "typer", "rich")
ENGINE = Path(imconv.engine.__file__).resolve().parent


def _modules_after(statement: str) -> list[str]:
    """Names in sys.modules after running ``statement`` in a fresh interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _forbidden_in(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in FORBIDDEN]


@pytest.mark.parametrize(
    "statement",
    ["import imconv.engine", "from imconv.engine import convolve, correlate, toeplitz"],
)
def test_importing_the_engine_loads_neither_pillow_nor_typer_nor_rich(statement: str) -> None:
    modules = _modules_after(statement)
    assert "imconv.engine" in modules
    assert _forbidden_in(modules) == []


def test_a_convolution_loads_neither_pillow_nor_typer_nor_rich() -> None:
    statement = (
        "import numpy as np\n"
        "from imconv.engine import convolve\n"
        "for algorithm in ('direct', 'matmul', 'fft', 'separable', 'auto'):\n"
        "    convolve(np.ones((5, 5)), np.ones((3, 3)), algorithm=algorithm)"
    )
    assert _forbidden_in(_modules_after(statement)) == []


def _imported_roots(path: Path) -> set[str]:
    """Top-level packages a module imports (absolute imports only; relative ones stay in)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module)
    return roots


@pytest.mark.parametrize("path", sorted(ENGINE.glob("*.py")), ids=lambda p: p.name)
def test_engine_modules_import_only_numpy_scipy_and_the_standard_library(path: Path) -> None:
    # These import the standard library only.
    allowed_own = {"imconv.errors", "imconv.choices", "imconv.environment"}
    outside = set()
    for name in _imported_roots(path):
        root = name.split(".")[0]
        if root in ("numpy", "scipy") or root in sys.stdlib_module_names:
            continue
        if name in allowed_own or name.startswith("imconv.engine"):
            continue
        outside.add(name)
    assert outside == set()
