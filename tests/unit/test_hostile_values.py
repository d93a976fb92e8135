"""Values that lie about themselves: only ValidationError (or False, or issues) comes out.

Reproductions from issue #22: non-str keys equal to declared names, a ``__class__`` that
raises, ``Mock(spec=dict)``, a transparent proxy, a dict resized by another thread, and str/int
subclasses whose overrides would make a cross-field rule pass.
"""

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import Mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typeguard import suppress_type_checks
from typing_extensions import NotRequired, TypedDict

from sagellm_protocol import collect_issues, is_valid, validate
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol._tree.rules import builtin_view
from sagellm_protocol.comm import CommGroupInfo, P2PSendRequest
from sagellm_protocol.core import Request, StreamEvent
from sagellm_protocol.openai import ChatCompletionRequest
from sagellm_protocol.responses import ResponsesInputMessage
from sagellm_protocol.runtime import CHECKS_ENV, CheckViolation, checked, set_checks_mode
from sagellm_protocol.validation import Issue, ValidationError, checker, stream_checker
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


# Lying values at any depth: every comparison, size and lookup a rule could make is a lie.


class _LyingStr(str):
    def __eq__(self, other: object) -> bool:
        return True

    def __ne__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0

    def __len__(self) -> int:
        return 0


class _LyingInt(int):
    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return id(self)

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True


class _LyingList(list[Any]):
    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __contains__(self, item: object) -> bool:
        return True


class _LyingDict(dict[Any, Any]):
    def __getitem__(self, key: object) -> Any:
        return "input_text"

    def get(self, key: object, default: object = None) -> Any:
        return "user"

    def __contains__(self, key: object) -> bool:
        return True

    def __len__(self) -> int:
        return 1


class _ShortKey(str):
    """A key that hashes and compares as its str (a dict of them is the same dict), but lies
    about its length."""

    def __len__(self) -> int:
        return 0


_LIARS: dict[type, type] = {str: _LyingStr, int: _LyingInt, list: _LyingList, dict: _LyingDict}


@st.composite
def _disguised(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with some of its strs, ints, lists and dicts, at any depth, made liars."""
    if type(value) is list:
        value = [draw(_disguised(item)) for item in value]
    elif type(value) is dict:
        keys = [_ShortKey(key) if draw(st.booleans()) else key for key in value]
        value = {
            key: draw(_disguised(item)) for key, item in zip(keys, value.values(), strict=True)
        }
    liar = _LIARS.get(type(value))
    return liar(value) if liar is not None and draw(st.booleans()) else value


class _Nest(TypedDict):
    """Rules' types two and three levels down."""

    groups: list[CommGroupInfo]
    sends: dict[str, P2PSendRequest]
    requests: list[Request]
    chat: NotRequired[ChatCompletionRequest]
    inputs: NotRequired[list[ResponsesInputMessage]]


_small = st.integers(0, 3)
_text = st.sampled_from(["", "a", "bc"])
_nests = st.fixed_dictionaries(
    {
        "groups": st.lists(
            st.fixed_dictionaries(
                {
                    "group_id": _text,
                    "backend": st.just("nccl"),
                    "world_size": st.integers(1, 3),
                    "ranks": st.lists(_small, max_size=4),
                }
            ),
            max_size=2,
        ),
        "sends": st.dictionaries(
            _text,
            st.fixed_dictionaries(
                {
                    "request_id": _text,
                    "trace_id": _text,
                    "group_id": _text,
                    "src_rank": _small,
                    "dst_rank": _small,
                    "nbytes": st.integers(1, 3),
                }
            ),
            max_size=2,
        ),
        "requests": st.lists(
            st.fixed_dictionaries(
                {"request_id": _text, "trace_id": _text, "max_tokens": _small},
                optional={
                    "prompt": _text,
                    "messages": st.lists(st.just({"role": "user", "content": "x"}), max_size=2),
                    "rank": _small,
                    "world_size": st.integers(1, 3),
                },
            ),
            max_size=2,
        ),
    },
    optional={
        "chat": st.fixed_dictionaries(
            {
                "model": _text,
                "messages": st.lists(
                    st.fixed_dictionaries(
                        {"role": st.sampled_from(["system", "user", "assistant", "tool"])},
                        optional={"content": st.none() | _text, "tool_call_id": st.none() | _text},
                    ),
                    min_size=1,
                    max_size=3,
                ),
            }
        ),
        "inputs": st.lists(
            st.fixed_dictionaries(
                {
                    "role": st.sampled_from(["user", "assistant", "system"]),
                    "content": st.lists(
                        st.fixed_dictionaries(
                            {"type": st.sampled_from(["input_text", "output_text"]), "text": _text}
                        ),
                        max_size=2,
                    ),
                }
            ),
            max_size=2,
        ),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=_nests)
def test_lying_subclasses_at_any_depth_change_no_verdict(data: st.DataObject, value: Any) -> None:
    """Every issue, invariants' included, is the one the builtin values get."""
    disguised = data.draw(_disguised(value))
    assert collect_issues(_Nest, disguised) == collect_issues(_Nest, value)
    assert is_valid(_Nest, disguised) is is_valid(_Nest, value)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (
            {**REQUEST, "prompt": "hi", "messages": _LyingList([{"role": "user", "content": "x"}])},
            ("messages",),
        ),
        (
            {"model": "m", "messages": [_LyingDict({"role": "user"})]},
            ("messages", 0, "content"),
        ),
        (
            {"role": "user", "content": [_LyingDict({"type": "output_text", "text": "x"})]},
            ("content", 0, "type"),
        ),
        (
            {"model": "m", "messages": [{"role": _LyingStr("tool"), "content": "x"}]},
            ("messages", 0, "tool_call_id"),
        ),
    ],
)
def test_nested_liars_break_the_rules_their_builtin_values_break(
    value: dict[str, Any], path: tuple[object, ...]
) -> None:
    tp = (
        Request
        if "request_id" in value
        else ChatCompletionRequest
        if "model" in value
        else ResponsesInputMessage
    )
    assert [issue.path for issue in collect_issues(tp, value) if issue.code == "invariant"] == [
        path
    ]


def test_a_list_of_groups_reads_each_rank_as_the_int_it_is() -> None:
    group = {"group_id": "g", "backend": "nccl", "world_size": 2}
    nest = {
        "groups": [{**group, "ranks": [_LyingInt(0), _LyingInt(0)]}],
        "sends": {
            "s": {
                **{k: "x" for k in ("request_id", "trace_id", "group_id")},
                "src_rank": _LyingInt(1),
                "dst_rank": 1,
                "nbytes": 1,
            }
        },
        "requests": [],
    }
    assert [(issue.path, issue.message) for issue in collect_issues(_Nest, nest)] == [
        (("groups", 0, "ranks", 1), "expected distinct ranks, got 0 again"),
        (("sends", "s", "dst_rank"), "expected dst_rank != src_rank (1), got 1"),
    ]


def test_a_stream_rule_reads_a_lying_event_as_its_builtin_values() -> None:
    identity = {"request_id": "r", "trace_id": "t", "engine_id": "e"}
    checker = stream_checker(StreamEvent)
    checker.feed({"event": "start", **identity, "request_id": _LyingStr("r")})
    other = {"event": "delta", **identity, "request_id": "z", "content": "", "content_tokens": []}
    with pytest.raises(ValidationError) as caught:
        checker.feed(other)  # the start's lying id equals every id; its builtin value is "r"
    assert caught.value.issues == [
        Issue((1, "request_id"), "sequence", "expected 'r' as in [0], got 'z'")
    ]


def test_the_builtin_view_of_builtin_values_is_the_value_itself() -> None:
    value = {"a": [1, 2.5, "x", None, True, (3, {"b": []})]}
    assert builtin_view(value, {}) is value


def test_the_builtin_view_copies_only_what_holds_a_subclass() -> None:
    clean = {"c": [1, 2]}
    lying: dict[str, Any] = {
        "messages": [clean, _LyingList([{"role": _LyingStr("user")}])],
        _ShortKey("k"): 1,
    }
    view: Any = builtin_view(lying, {})
    assert view == {"messages": [clean, [{"role": "user"}]], "k": 1}
    assert view["messages"][0] is clean
    kinds = [type(view["messages"][1]), type(view["messages"][1][0]["role"]), *map(type, view)]
    assert kinds == [list, str, str, str]
    assert type(lying["messages"][1]) is _LyingList  # the caller's data is left as it was


def test_the_builtin_view_of_deep_or_cyclic_values_ends() -> None:
    deep: list[Any] = [_LyingInt(1)]
    for _ in range(100_000):
        deep = [deep]
    view: Any = builtin_view(deep, {})
    for _ in range(100_000):
        view = view[0]
    assert view == [1]
    assert type(view[0]) is int
    cycle: list[Any] = _LyingList([_LyingStr("x")])
    cycle.append(cycle)
    assert type(builtin_view(cycle, {})) is list
