"""The "Testing your backend" page's example (docs/testing.md): shown verbatim, and it
passes when run as a downstream repo would run it (its own pytest process)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent.parent
EXAMPLE = ROOT / "examples" / "test_backend_contract.py"


def test_the_testing_page_shows_the_example_verbatim() -> None:
    page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    assert f"```python\n{EXAMPLE.read_text(encoding='utf-8')}```" in page


def test_the_example_passes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1].startswith("4 passed in ")
