"""Values that lie about themselves: only ValidationError (or False, or issues) comes out.

Reproductions from issue #22: non-str keys equal to declared names, a ``__class__`` that
raises, ``Mock(spec=dict)``, a transparent proxy, a dict resized by another thread, and str/int
subclasses whose overrides would make a cross-field rule pass.
"""

import sys
import threading
from collections.abc import Callable
from typing import Any
from unittest.mock import Mock

import pytest
from typeguard import suppress_type_checks

from sagellm_protocol import collect_issues, is_valid, validate
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.core import Request, StreamEvent
from sagellm_protocol.runtime import CHECKS_ENV, CheckViolation, checked, set_checks_mode
from sagellm_protocol.validation import ValidationError, checker, stream_checker
from sagellm_protocol.validation._compile import fast_checker

REQUEST: dict[str, Any] = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 4}


class _EqualKey:
    """Hashes and compares equal to a str, but is no str."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return other == self.text


def test_keys_equal_to_declared_names_are_invalid_for_the_compiled_checker_too() -> None:
    value = {_EqualKey(key): item for key, item in REQUEST.items()}
    assert value == REQUEST  # the lookups the compiled checker makes all succeed
    assert fast_checker(analyze(Request))(value) is False
    assert is_valid(Request, value) is False
    assert checker(Request)(value) is False
    messages = [issue.message for issue in collect_issues(Request, value)]
    assert messages[:3] == ["expected str keys, got the key <_EqualKey object>"] * 3


class _RaisingClass:
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        raise RuntimeError("no class")


class _Proxy:
    """A transparent proxy: claims to be what it wraps, forwards every attribute."""

    def __init__(self, target: object) -> None:
        object.__setattr__(self, "_target", target)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(object.__getattribute__(self, "_target"))

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_target"), name)


_HOSTILE: dict[str, Callable[[], object]] = {
    "mock": lambda: Mock(spec=dict),
    "raising-class": _RaisingClass,
    "proxy": lambda: _Proxy(dict(REQUEST)),
}
"""Made in the test: pytest itself reads the ``__class__`` of parameters."""


@pytest.mark.parametrize("kind", _HOSTILE)
def test_hostile_values_get_only_validation_errors(kind: str) -> None:
    value = _HOSTILE[kind]()
    with suppress_type_checks():  # typeguard's own checks of the package read ``__class__``
        with pytest.raises(ValidationError) as caught:
            validate(Request, value)
        assert caught.value.issues
        assert is_valid(Request, value) is False
        assert collect_issues(Request, value)
        assert checker(Request)(value) is False
        with pytest.raises(ValidationError):
            stream_checker(StreamEvent).feed(value)


@pytest.mark.parametrize("kind", _HOSTILE)
def test_checked_reports_hostile_arguments_as_violations(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = _HOSTILE[kind]()
    monkeypatch.delenv(CHECKS_ENV, raising=False)
    previous = set_checks_mode("on")
    try:

        @checked
        def take(request: Request) -> int:
            return 1

        with suppress_type_checks(), pytest.raises(CheckViolation):
            take(value)  # type: ignore[arg-type]
    finally:
        set_checks_mode(previous)


def test_a_dict_resized_by_another_thread_during_the_walk_is_an_issue_or_valid() -> None:
    """Another thread adds and removes keys while the walk runs: every answer is a verdict."""
    value: dict[str, Any] = {**REQUEST, "max_tokens": 0}  # invalid: the precise pass walks it
    value.update({f"x{index}": index for index in range(200)})
    stop = threading.Event()

    def resize() -> None:
        while not stop.is_set():
            value["late"] = 1
            value.pop("late", None)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    thread = threading.Thread(target=resize)
    thread.start()
    try:
        for _ in range(300):
            assert is_valid(Request, value) is False
            assert collect_issues(Request, value)
            with pytest.raises(ValidationError):
                validate(Request, value)
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


class _EmptyStr(str):
    def __len__(self) -> int:
        return 0


class _AlwaysLess(int):
    def __lt__(self, other: object) -> bool:
        return True


def _only_issue_codes(tp: Any, value: object) -> list[str]:
    return [issue.code for issue in collect_issues(tp, value)]


def test_invariants_see_a_str_subclass_as_the_str_it_is() -> None:
    both = {**REQUEST, "prompt": _EmptyStr("hi"), "messages": [{"role": "user", "content": "x"}]}
    assert is_valid(Request, {**both, "prompt": "hi"}) is False  # the builtin values break it
    assert is_valid(Request, both) is False
    assert "invariant" in _only_issue_codes(Request, both)


def test_invariants_see_an_int_subclass_as_the_int_it_is() -> None:
    assert is_valid(Request, {**REQUEST, "rank": 7, "world_size": 2}) is False
    lying = {**REQUEST, "rank": _AlwaysLess(7), "world_size": 2}
    assert is_valid(Request, lying) is False
    assert "invariant" in _only_issue_codes(Request, lying)
