"""Work bounded by the size of the value (issue #22): ambiguous unions in recursive types,
the number of issues kept and of "did you mean" searches, the length of strings compared."""

import difflib
import re
import sys
from types import FrameType
from typing import Any, NotRequired, TypedDict

import pytest

from sagellm_protocol import collect_issues, is_valid, validate, validate_json
from sagellm_protocol._tree.describe import MAX_SUGGESTED_LENGTH, closest
from sagellm_protocol.core import Request, StreamEvent
from sagellm_protocol.validation import Issue, ValidationError
from sagellm_protocol.validation._compile import _FormatMemo
from sagellm_protocol.validation._precise import MAX_ISSUES, MAX_SUGGESTIONS

REQUEST: dict[str, Any] = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 4}


class Left(TypedDict):
    child: NotRequired["Left | Right"]
    left: NotRequired[int]


class Right(TypedDict):
    child: NotRequired["Left | Right"]
    right: NotRequired[int]


def _nested(depth: int, leaf: dict[str, Any]) -> dict[str, Any]:
    value = leaf
    for _ in range(depth):
        value = {"child": value}
    return value


def _calls(check: Any, value: object) -> int:
    """Python function calls made by ``check(Left, value)``: the work, without a clock."""
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        count += event == "call"

    sys.setprofile(profile)
    try:
        check(Left, value)
    finally:
        sys.setprofile(None)
    return count


INVALID_LEAF = {"left": "x", "right": "x"}
"""Invalid for both options: each level's union must try both."""


def test_an_ambiguous_recursive_union_costs_the_same_work_per_level() -> None:
    for check in (is_valid, collect_issues):
        check(Left, _nested(2, INVALID_LEAF))  # caches warm
        steps = [
            _calls(check, _nested(depth + 1, INVALID_LEAF))
            - _calls(check, _nested(depth, INVALID_LEAF))
            for depth in (6, 12, 18)
        ]
        assert steps[0] == steps[1] == steps[2], (check.__name__, steps)


def test_ambiguous_recursive_unions_keep_their_verdicts() -> None:
    assert is_valid(Left, _nested(30, {"left": 1}))
    assert is_valid(Left, _nested(30, {"right": 1}))
    assert not is_valid(Left, _nested(30, INVALID_LEAF))
    issues = collect_issues(Left, _nested(30, INVALID_LEAF))
    assert [(issue.path, issue.code) for issue in issues] == [(("child",), "union")]


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """One item per "did you mean" search (a call of ``difflib.get_close_matches``)."""
    made: list[object] = []
    search = difflib.get_close_matches

    def counted(*args: Any, **kwargs: Any) -> list[str]:
        made.append(args[0])
        return search(*args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counted)
    return made


def test_issues_are_capped_with_a_last_issue_counting_the_rest(searches: list[object]) -> None:
    value = {**REQUEST, **{f"promp{index}": 1 for index in range(5_000)}}
    issues = collect_issues(Request, value)
    assert len(issues) == MAX_ISSUES + 1
    assert issues[-1] == Issue((), "more", f"and {5_000 - MAX_ISSUES} more issues")
    assert {issue.code for issue in issues[:-1]} == {"extra"}
    assert len(searches) == MAX_SUGGESTIONS
    hinted = [issue for issue in issues if "did you mean" in issue.message]
    assert len(hinted) == MAX_SUGGESTIONS
    with pytest.raises(ValidationError) as caught:
        validate(Request, value)
    assert str(caught.value).endswith("\nand 4900 more issues")


def test_a_json_body_of_short_unknown_keys_keeps_capped_issues_and_searches(
    searches: list[object],
) -> None:
    """The hostile body of the issue, smaller: counts, not memory or time (see
    benchmarks/hostile_memory.py for those)."""
    keys = ", ".join(f'"promp{index}": 1' for index in range(50_000))
    body = '{"request_id": "r", "trace_id": "t", "max_tokens": 1, ' + keys + "}"
    with pytest.raises(ValidationError) as caught:
        validate_json(Request, body)
    assert len(caught.value.issues) == MAX_ISSUES + 1
    assert caught.value.issues[-1] == Issue((), "more", f"and {50_000 - MAX_ISSUES} more issues")
    assert len(searches) == MAX_SUGGESTIONS


def test_did_you_mean_compares_only_short_strings() -> None:
    near = "max_tokenz"
    assert closest(near, {"max_tokens"}, {}) == "max_tokens"
    long = near + " " * (MAX_SUGGESTED_LENGTH - len(near) + 1)
    assert closest(long, {"max_tokens", long.strip()}, {}) is None
    huge_tag = {"event": "delta" * 1_000_000}
    messages = [issue.message for issue in collect_issues(StreamEvent, huge_tag)]
    assert messages
    assert not any("did you mean" in message for message in messages)


def test_the_format_memo_holds_bounded_bytes() -> None:
    memo = _FormatMemo(re.compile(r"cuda:\d+").fullmatch)
    for index in range(3 * _FormatMemo.LIMIT):
        assert memo(f"cuda:{index}{'0' * 1_000}")  # long: matched, not remembered
        assert memo(f"cuda:{index}")
    assert not memo("CUDA:0")
    assert len(memo.seen) == _FormatMemo.LIMIT
    assert max(map(len, memo.seen)) <= _FormatMemo.LONGEST
