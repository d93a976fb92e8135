"""The repo's own formatter over what the codemod touched: where the repo configures ruff and a
file passed ``ruff check --select I`` / ``ruff format --check`` before the rewrite, the
rewritten file is sorted / formatted by it (an already formatted file only changes where the
codemod wrote)."""

import functools
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

__all__ = ["Ruff"]

_CONFIGS: Final = ("ruff.toml", ".ruff.toml")


def _configures_ruff(folder: Path) -> bool:
    if any((folder / name).is_file() for name in _CONFIGS):
        return True
    pyproject = folder / "pyproject.toml"
    return pyproject.is_file() and "[tool.ruff" in pyproject.read_text(encoding="utf-8")


@functools.cache
def _command() -> tuple[str, ...] | None:
    found = shutil.which("ruff")
    if found:
        return (found,)
    if importlib.util.find_spec("ruff") is not None:
        return (sys.executable, "-m", "ruff")
    return None


class Ruff:
    """ruff as the repo at ``root`` configures it (``None`` where it does not)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.missing = False  # configured, but ruff is not installed here

    def _config_root(self, path: Path) -> Path | None:
        for folder in path.parents:
            if _configures_ruff(folder):
                return folder
            if folder == self.root or folder.parent == folder:
                return None
        return None

    def _run(self, folder: Path, path: Path, text: str, *args: str) -> tuple[int, str]:
        command = _command()
        assert command is not None
        done = subprocess.run(
            [*command, *args, "--stdin-filename", str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            cwd=folder,
            check=False,
        )
        return done.returncode, done.stdout

    def tidy(self, path: Path, before: str, after: str) -> str:
        """``after`` (the rewrite of ``before``) with its imports sorted and its code
        formatted, each only if ``before`` passed that check."""
        folder = self._config_root(path)
        if folder is None:
            return after
        if _command() is None:
            self.missing = True
            return after
        sort = ("check", "--select", "I", "--quiet")
        if self._run(folder, path, before, *sort)[0] == 0:
            status, fixed = self._run(folder, path, after, *sort, "--fix")
            after = fixed if status == 0 and fixed else after
        if self._run(folder, path, before, "format", "--check", "--quiet")[0] == 0:
            status, formatted = self._run(folder, path, after, "format", "--quiet")
            after = formatted if status == 0 and formatted else after
        return after
