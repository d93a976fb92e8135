"""Behaviour does not depend on the ``.py`` files being installed: the notes written from the
source at build time (``_source_notes``) are current, trusted only when they match, and a
``.pyc``-only copy of the package gives the same schemas, issues and checkers."""

import compileall
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sagellm_protocol
from sagellm_protocol import _source_notes
from sagellm_protocol._registry import INVARIANTS
from sagellm_protocol.validation._compile import _returned_expression

ROOT = Path(__file__).parent.parent.parent
GENERATOR = ROOT / "scripts" / "generate_source_notes.py"
PACKAGE = Path(sagellm_protocol.__file__).parent


def test_the_committed_notes_match_the_generator(tmp_path: Path) -> None:
    fresh = tmp_path / "_source_notes.py"
    subprocess.run([sys.executable, str(GENERATOR), str(fresh)], check=True, capture_output=True)
    committed = (PACKAGE / "_source_notes.py").read_text(encoding="utf-8")
    regenerate = "regenerate: python scripts/regenerate.py"
    assert fresh.read_text(encoding="utf-8") == committed, regenerate


def _package_predicates() -> list[Any]:
    sagellm_protocol.validation.type_names()  # loads every protocol module
    return [
        rule.holds
        for rules in list(INVARIANTS.values())
        for rule in rules
        if rule.holds is not None and rule.holds.__module__.startswith("sagellm_protocol")
    ]


def test_every_recorded_predicate_is_inlined() -> None:
    recorded = {
        holds
        for holds in _package_predicates()
        if f"{holds.__module__}:{holds.__qualname__}" in _source_notes.INLINABLE_FUNCTIONS
    }
    assert len(recorded) >= 7
    assert all(_returned_expression(holds) is not None for holds in recorded)


@pytest.mark.parametrize(
    "stale",
    [
        lambda line, source: (line + 1, source),  # the function moved
        lambda line, source: (line, source.replace("value", "v")),  # another parameter
        lambda line, source: (line, source.replace('value.get("prompt")', "_PROMPT")),  # names
        lambda line, source: (line, source.replace("return", "if value: return")),  # no longer
    ],
)
def test_a_note_is_used_only_for_its_own_function(
    monkeypatch: pytest.MonkeyPatch, stale: Any
) -> None:
    from sagellm_protocol.core import _single_input

    key = f"{_single_input.__module__}:{_single_input.__qualname__}"
    assert _returned_expression(_single_input) is not None
    changed = stale(*_source_notes.INLINABLE_FUNCTIONS[key])
    monkeypatch.setitem(_source_notes.INLINABLE_FUNCTIONS, key, changed)
    assert _returned_expression(_single_input) is None


def test_a_function_outside_the_notes_is_called_not_inlined() -> None:
    def holds(value: Any) -> bool:
        return "a" in value

    assert _returned_expression(holds) is None


_REPORT = """
import json, sys
from pathlib import Path
import sagellm_protocol
from sagellm_protocol import json_schema
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.validation import collect_issues, type_by_name, type_names
from sagellm_protocol.validation._compile import source_of

examples = Path(sys.argv[1])
report = {"package": str(Path(sagellm_protocol.__file__).parent)}
for name in type_names():
    tp = type_by_name(name)
    report[name] = {
        "schema": json_schema(tp),
        "issues of {}": collect_issues(tp, {}),
        "checker": source_of(analyze(tp)),
        "__doc__": getattr(tp, "__doc__", None),  # a TypedDict's lists its keys
    }
for path in sorted(examples.glob("*.json")):
    tp = type_by_name(path.name.split(".")[0])
    report[path.name] = collect_issues(tp, json.loads(path.read_text()))
print(json.dumps(report, sort_keys=True))
"""


def _report(python_path: Path | None) -> dict[str, Any]:
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    shown = subprocess.run(
        [sys.executable, "-c", _REPORT, str(ROOT / "examples" / "invalid")],
        capture_output=True,
        text=True,
        check=True,
        env={**_inherited(), **env},
    )
    report: dict[str, Any] = json.loads(shown.stdout)
    return report


def _inherited() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def test_a_pyc_only_copy_behaves_as_the_source(tmp_path: Path) -> None:
    copy = tmp_path / "site" / "sagellm_protocol"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert compileall.compile_dir(copy, legacy=True, quiet=1)
    for source in copy.rglob("*.py"):
        source.unlink()
    assert not list(copy.rglob("*.py"))

    from_source = _report(None)
    compiled_only = _report(copy.parent)
    assert compiled_only.pop("package") == str(copy)
    assert from_source.pop("package") == str(PACKAGE)
    assert compiled_only == from_source
    described = from_source["Request"]["schema"]["properties"]["request_id"]
    assert described["description"] == "Unique request identifier."
    assert "\n    request_id: Unique request identifier.\n" in from_source["Request"]["__doc__"]
