"""The linters, the type checker and the import contracts pass on the whole repository.

Each tool runs as a subprocess from the repo root with its configuration from pyproject.toml,
taken from the same environment as the interpreter running the tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = Path(sys.executable).parent


def run_tool(tool: str, *args: str, timeout: float = 600) -> None:
    executable = BIN_DIR / tool
    if not executable.exists():
        pytest.fail(f"{tool} is not installed next to {sys.executable}: pip install -e '.[test]'")
    result = subprocess.run(
        [str(executable), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        pytest.fail(
            f"`{tool} {' '.join(args)}` exited with {result.returncode}:\n{output}", pytrace=False
        )


def test_ruff_check() -> None:
    run_tool("ruff", "check", "--no-fix", "--output-format", "concise", ".")


def test_ruff_format() -> None:
    run_tool("ruff", "format", "--check", ".")


def test_mypy() -> None:
    # The packages (shared, services) and the options come from [tool.mypy].
    run_tool("mypy")


def test_import_contracts() -> None:
    # --no-cache: contracts must be judged on the code as it is now.
    run_tool("lint-imports", "--no-cache", "--no-logo")
