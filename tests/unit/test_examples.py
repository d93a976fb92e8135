"""The bundled example payloads: the valid ones pass, each broken one shows what its name says."""

import json
from pathlib import Path

import pytest

from sagellm_protocol.validation import collect_issues, type_by_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _records(path: Path) -> list[object]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def _type_name(path: Path) -> str:
    """``kv.KVCacheAllocateRequest.json`` names ``kv.KVCacheAllocateRequest``."""
    stem = path.name.rsplit(".", 1)[0]
    parts = stem.split(".")
    return ".".join(parts[:2]) if parts[0] == "kv" else parts[0]


@pytest.mark.parametrize("path", sorted((EXAMPLES / "payloads").iterdir()), ids=lambda p: p.name)
def test_bundled_valid_payloads_pass(path: Path) -> None:
    for record in _records(path):
        assert collect_issues(type_by_name(_type_name(path)), record) == []


BROKEN = {
    "Request.broken.json": [
        "max_tokens: expected an int > 0, got '64'",
        "temperature: expected a finite number in [0, 2], got 2.5",
        "prefill_tokens: unknown key (Request is closed)",
        "messages: expected prompt or messages, not both, got a prompt (2 characters) and "
        "messages (1)",
        "rank: expected rank < world_size (2), got 3",
    ],
    "Request.invariants.json": [
        "messages: expected prompt or messages, not both, got a prompt (2 characters) and "
        "messages (1)",
        "rank: expected rank < world_size (2), got 3",
    ],
    "Response.error-mismatch.json": [
        "metrics.itl_list[2]: expected a finite number, got nan",
        "metrics.timestamps.scheduled_at: expected scheduled_at >= queued_at (10.0), got 9.0",
        "finish_reason: expected 'error' when error is set, got 'stop'",
    ],
}


def test_every_broken_example_is_listed() -> None:
    assert sorted(path.name for path in (EXAMPLES / "invalid").iterdir()) == sorted(BROKEN)


@pytest.mark.parametrize(("name", "expected"), BROKEN.items())
def test_broken_examples_report_type_errors_and_invariant_breaks_together(
    name: str, expected: list[str]
) -> None:
    path = EXAMPLES / "invalid" / name
    (record,) = _records(path)
    assert [str(issue) for issue in collect_issues(type_by_name(_type_name(path)), record)] == (
        expected
    )
