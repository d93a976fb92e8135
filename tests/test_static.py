"""The static gates, run from pytest: mypy --strict (src and the typing tests) and ruff.

``tests/typing/check_*.py`` are never executed. They hold ``assert_type`` calls that must
type-check and ``# type: ignore[code]`` lines that must fail; with ``warn_unused_ignores``
an expected error that disappears fails this suite.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.static


def run_mypy(*args: str) -> tuple[str, int]:
    stdout, stderr, status = mypy_api.run(["--config-file", str(ROOT / "mypy.ini"), *args])
    return stdout + stderr, status


def test_mypy_strict_src_and_typing_tests() -> None:
    output, status = run_mypy(str(ROOT / "src"), str(ROOT / "tests" / "typing"))
    assert status == 0, output


def test_typing_tests_exist_for_expected_errors() -> None:
    checks = sorted((ROOT / "tests" / "typing").glob("check_*.py"))
    assert checks
    for check in checks:
        text = check.read_text(encoding="utf-8")
        assert "assert_type(" in text or "# type: ignore[" in text, check.name


def test_disappearing_expected_error_fails(tmp_path: Path) -> None:
    """The mechanism itself: an ignore on a line that type-checks is reported."""
    check = tmp_path / "check_no_error.py"
    check.write_text(
        textwrap.dedent(
            """
            from sagellm_protocol.core import Error

            error: Error = {"code": "unavailable", "message": "ok"}  # type: ignore[typeddict-item]
            """
        ),
        encoding="utf-8",
    )
    output, status = run_mypy(str(check))
    assert status == 1
    assert 'Unused "type: ignore" comment' in output


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_check() -> None:
    result = ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
