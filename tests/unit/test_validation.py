"""validate(), is_valid(), checker(), collect_issues(), ValidationError and the name lookup."""

import copy
import enum
import math
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any, Literal

import pytest
from annotated_types import Ge, Gt, Interval, Len, Lt, MaxLen, MinLen, MultipleOf, Predicate
from typing_extensions import NotRequired, ReadOnly, TypedDict

from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol.backend import DType
from sagellm_protocol.constraints import DeviceStr, UUIDStr
from sagellm_protocol.core import (
    Metrics,
    Request,
    Response,
    StreamEvent,
    StreamEventDelta,
    Timestamps,
)
from sagellm_protocol.kv.operations import KVCacheMigrateResponse
from sagellm_protocol.openai import ChatCompletionRequest
from sagellm_protocol.validation import (
    CODES,
    Issue,
    ValidationError,
    checker,
    collect_issues,
    format_path,
    is_valid,
    short_repr,
    type_by_name,
    type_names,
    validate,
    validate_by_name,
)
from sagellm_protocol.validation._compile import _COMPILED, Generator, fast_checker, native_lists


class Tree(TypedDict, closed=True):
    """A self-referencing type: validation must not loop on it."""

    name: str
    children: list["Tree"]
    parent: NotRequired["Tree | None"]


class Frozen(TypedDict, closed=True):
    """ReadOnly keys validate like any other."""

    key: ReadOnly[int]
    note: NotRequired[ReadOnly[str]]


class Itl(TypedDict):
    itl_list: list[Annotated[float, Ge(0)]]


class Outer(TypedDict):
    metrics: Itl
    n: int


class Fresh(TypedDict, closed=True):
    """Validated first by 16 threads at once."""

    a: Annotated[int, Ge(0)]
    b: list[str]


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def _request(**extra: Any) -> dict[str, Any]:
    return {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 16, **extra}


def _metrics(**extra: Any) -> dict[str, Any]:
    return {"ttft_ms": 1.5, "throughput_tps": 10, "peak_mem_mb": 0, "error_rate": 0.0, **extra}


def _response(**extra: Any) -> dict[str, Any]:
    base = {
        "request_id": "r-1",
        "trace_id": "t-1",
        "output_text": "hi",
        "output_tokens": [1, 2],
        "finish_reason": "stop",
        "metrics": _metrics(),
    }
    return {**base, **extra}


def _with_key(value: dict[str, Any], key: object) -> dict[object, Any]:
    widened: dict[object, Any] = dict(value.items())
    widened[key] = 1
    return widened


# (type, value, [(path, code, message), ...]): every issue, exactly, in order.
ISSUES: list[tuple[object, object, list[tuple[tuple[str | int, ...], str, str]]]] = [
    (Request, _request(request_id=None), [(("request_id",), "type", "expected a str, got None")]),
    (
        Request,
        {"trace_id": "t", "max_tokens": 1},
        [(("request_id",), "missing", "required key is missing")],
    ),
    (
        Request,
        _request(bogus=1),
        [(("bogus",), "extra", "unknown key (Request is closed)")],
    ),
    (
        Request,
        _request(max_tokens=True),
        [(("max_tokens",), "type", "expected an int > 0, got True")],
    ),
    (
        Request,
        _request(max_tokens="3"),
        [(("max_tokens",), "type", "expected an int > 0, got '3'")],
    ),
    (Request, _request(max_tokens=0), [(("max_tokens",), "range", "expected an int > 0, got 0")]),
    (
        Request,
        _request(temperature=math.nan),
        [(("temperature",), "range", "expected a finite number in [0, 2], got nan")],
    ),
    (
        Request,
        _request(top_p=-math.inf),
        [(("top_p",), "range", "expected a finite number in (0, 1], got -inf")],
    ),
    (
        Request,
        _request(phase="both"),
        [(("phase",), "literal", "expected one of 'prefill', 'decode' or None, got 'both'")],
    ),
    (
        Request,
        _request(rank=2, world_size=2),
        [(("rank",), "invariant", "expected rank < world_size (2), got 2")],
    ),
    # Invariants run over the valid keys: a range issue elsewhere hides no rule.
    (
        Request,
        _request(rank=2, world_size=2, max_tokens=0),
        [
            (("max_tokens",), "range", "expected an int > 0, got 0"),
            (("rank",), "invariant", "expected rank < world_size (2), got 2"),
        ],
    ),
    # A rule that reads an invalid key is skipped, not guessed.
    (
        Request,
        _request(rank=2, world_size="2"),
        [(("world_size",), "type", "expected an int > 0 or None, got '2'")],
    ),
    (Request, _with_key(_request(), 7), [((), "type", "expected str keys, got the key 7")]),
    (
        Request,
        "x" * 100,
        [((), "type", "expected a Request object, got '" + "x" * 58 + "…")],
    ),
    (
        Request,
        _request(metadata={"a": 1, 2: 3}),
        [(("metadata",), "type", "expected str keys, got the key 2")],
    ),
    (
        Response,
        _response(metrics=_metrics(itl_list=[1.0, 2, 3.5, -1.0, math.inf, True])),
        [
            (("metrics", "itl_list", 4), "range", "expected a finite number, got inf"),
            (("metrics", "itl_list", 5), "type", "expected a finite number, got True"),
        ],
    ),
    (
        Response,
        _response(finish_reason="error"),
        [(("error",), "invariant", "expected an error when finish_reason is 'error', got None")],
    ),
    (
        Response,
        _response(
            metrics=_metrics(
                timestamps={"queued_at": 2, "scheduled_at": 1, "executed_at": 3, "completed_at": 4}
            )
        ),
        [
            (
                ("metrics", "timestamps", "scheduled_at"),
                "invariant",
                "expected scheduled_at >= queued_at (2), got 1",
            )
        ],
    ),
    (
        StreamEvent,
        {"event": "middle"},
        [(("event",), "literal", "expected one of 'start', 'delta', 'end', got 'middle'")],
    ),
    (
        StreamEvent,
        {"request_id": "r"},
        [
            (
                ("event",),
                "missing",
                "required tag key is missing: expected one of 'start', 'delta', 'end'",
            )
        ],
    ),
    (
        StreamEvent,
        [],
        [
            (
                (),
                "type",
                "expected a StreamEventStart | StreamEventDelta | StreamEventEnd object, got []",
            )
        ],
    ),
    (
        StreamEvent,
        {"event": "delta", "request_id": "r", "trace_id": "t", "engine_id": "e", "content": "x"},
        [(("content_tokens",), "missing", "required key is missing")],
    ),
    (
        ChatCompletionRequest,
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": 3},
        [(("stop",), "type", "expected a str or a list[str] of length in [1, 4] or None, got 3")],
    ),
    (
        ChatCompletionRequest,
        {"model": "m", "messages": [{"role": "robot", "content": "x", "vendor_key": 1}]},
        [
            (
                ("messages", 0, "role"),
                "literal",
                "expected one of 'system', 'user', 'assistant', 'function', 'tool', 'developer', "
                "got 'robot'",
            )
        ],
    ),
    (
        DeviceStr,
        "CUDA:0",
        [
            (
                (),
                "format",
                "expected a device string ('type' or 'type:index', lower-case type, index >= 0),"
                " got 'CUDA:0'",
            )
        ],
    ),
    (
        UUIDStr,
        "nope",
        [((), "format", "expected a UUID string (lower-case, hyphenated), got 'nope'")],
    ),
    (
        KVCacheMigrateResponse,
        {"request_id": "r", "trace_id": "t", "success": True, "handle_mapping": {"a.b": "x"}},
        [
            (
                ("handle_mapping", "a.b"),
                "format",
                "expected a UUID string (lower-case, hyphenated), got 'x'",
            )
        ],
    ),
    (
        Annotated[str, MinLen(2)],
        "a",
        [((), "length", "expected a str of length >= 2, got a str of length 1")],
    ),
    (
        Annotated[list[int], MaxLen(1)],
        [1, 2],
        [((), "length", "expected a list[int] of length <= 1, got a list of length 2")],
    ),
    (
        Annotated[dict[str, int], Len(1, 1)],
        {},
        [((), "length", "expected a dict[str, int] of length 1, got an object of 0 keys")],
    ),
    (
        Annotated[int, MultipleOf(4)],
        6,
        [((), "range", "expected an int that is a multiple of 4, got 6")],
    ),
    (
        Annotated[float, Interval(gt=0, lt=1)],
        1.0,
        [((), "range", "expected a finite number in (0, 1), got 1.0")],
    ),
    (Annotated[int, Ge(1), Lt(10)], 10, [((), "range", "expected an int in [1, 10), got 10")]),
    (int | str, 1.5, [((), "type", "expected an int or a str, got 1.5")]),
    (
        list[int] | list[str],
        [1, "a"],
        [((), "union", "expected a list[int] or a list[str], got [1, 'a']")],
    ),
    (tuple[int, ...], [1], [((), "type", "expected a tuple[int, ...], got [1]")]),
    (
        DType,
        "fp61",
        [
            (
                (),
                "literal",
                "expected one of 'fp32', 'fp16', 'bf16', 'fp8', 'int8', 'int4', got 'fp61' "
                "(did you mean 'fp16'?)",
            )
        ],
    ),
    (Literal[1, 2], True, [((), "literal", "expected one of 1, 2, got True")]),
    (Color, "green", [((), "literal", "expected one of 'red', 'blue', got 'green'")]),
    (None, 0, [((), "type", "expected None, got 0")]),
    (bool, 1, [((), "type", "expected a bool, got 1")]),
    (float, "1.0", [((), "type", "expected a finite number, got '1.0'")]),
    (
        Tree,
        {"name": "a", "children": [{"name": "b", "children": [{"name": 3, "children": []}]}]},
        [(("children", 0, "children", 0, "name"), "type", "expected a str, got 3")],
    ),
]


@pytest.mark.parametrize(("tp", "value", "expected"), ISSUES)
def test_every_issue_is_reported_exactly(
    tp: Any, value: object, expected: list[tuple[tuple[str | int, ...], str, str]]
) -> None:
    with pytest.raises(ValidationError) as caught:
        validate(tp, value)
    assert [tuple(issue) for issue in caught.value.issues] == expected
    assert collect_issues(tp, value) == caught.value.issues
    assert is_valid(tp, value) is False
    assert checker(tp)(value) is False
    assert {issue.code for issue in caught.value.issues} <= CODES


VALID: list[tuple[object, object]] = [
    (Request, _request()),
    (Request, _request(temperature=0, top_p=1, rank=0, world_size=1, metadata={"k": [1, {}]})),
    (Request, _request(phase=None, messages=None, sampling_params=None)),
    (Request, OrderedDict(_request())),  # a dict subclass is a dict
    (Request, _request(request_id=DType.FP16)),  # a str enum member is a str
    (Response, _response(finish_reason=DType.FP16.__class__("fp16") and "length")),
    (Response, _response(metrics=_metrics(itl_list=[1, 2.5, 0.0], timestamps=None))),
    (Metrics, _metrics(ttft_ms=2**1023)),  # an int is fine for a float that a double holds
    (StreamEvent, {"event": "start", "request_id": "r", "trace_id": "t", "engine_id": "e"}),
    (Timestamps, {"queued_at": 1, "scheduled_at": 1, "executed_at": 2.5, "completed_at": 3}),
    (
        ChatCompletionRequest,
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "vendor": {"top_k": 3}},
    ),
    (DType, DType.BF16),
    (DType, "bf16"),
    (Color, Color.RED),
    (Color, "red"),
    (Literal["a"], "a"),
    (float, 3),
    (int | None, None),
    (list[Any], [object(), [1]]),
    (tuple[int, ...], (1, 2)),
    (dict[str, Any], {"a": object()}),
    (Any, object()),
    (object, 1),
    (Frozen, {"key": 1, "note": "n"}),
    (Tree, {"name": "a", "children": [{"name": "b", "children": []}], "parent": None}),
]


@pytest.mark.parametrize(("tp", "value"), VALID)
def test_valid_values_come_back_as_the_same_object(tp: Any, value: object) -> None:
    assert validate(tp, value) is value
    assert is_valid(tp, value) is True
    assert checker(tp)(value) is True
    assert collect_issues(tp, value) == []


def test_error_text_and_protocol_error() -> None:
    value = {"metrics": {"itl_list": [0.5, 1.0, 2.0, -1.0]}}
    with pytest.raises(ValidationError) as caught:
        validate(Outer, value)
    error = caught.value
    assert isinstance(error, ValueError)
    assert str(error) == (
        "metrics.itl_list[3]: expected a finite number >= 0, got -1.0\nn: required key is missing"
    )
    assert repr(error) == "ValidationError(2 issues)"
    assert error.to_error() == {
        "code": "invalid_argument",
        "message": str(error),
        "retryable": False,
    }
    assert str(Issue((), "type", "expected an int, got 'x'")) == "expected an int, got 'x'"


def test_format_path_and_short_repr() -> None:
    assert format_path(("metrics", "itl_list", 3)) == "metrics.itl_list[3]"
    assert format_path(("errors", "a-b", "code")) == "errors['a-b'].code"
    assert format_path((0, "x")) == "[0].x"
    assert short_repr("p" * 1000) == "'" + "p" * 58 + "…"
    assert (
        short_repr(list(range(100)))
        == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, …"
    )
    assert short_repr(list(range(3))) == "[0, 1, 2]"
    assert short_repr(object()) == "<object object>"
    assert short_repr(2**1000) == "<int of 1001 bits>"
    assert short_repr([[[[[1]]]]]) == "[[[[…]]]]"
    assert short_repr({"k": math.nan}) == "{'k': nan}"


def test_unsupported_type_forms_raise_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match=r"does not support the type form <class 'bytes'>"):
        validate(bytes, b"")
    with pytest.raises(TypeError, match=r"fixed-length tuples"):
        validate(tuple[int, str], (1, "a"))
    with pytest.raises(TypeError, match=r"dict\[str, T\] only"):
        validate(dict[int, int], {})
    with pytest.raises(TypeError, match=r"the constraint Ge\(ge=0\) does not apply"):
        validate(Annotated[str, Ge(0)], "x")
    with pytest.raises(TypeError, match=r"does not support the constraint Predicate"):
        validate(Annotated[int, Predicate(bool)], 1)
    with pytest.raises(TypeError, match=r"use validate_by_name\(\) for names"):
        validate("Request", {})
    with pytest.raises(TypeError, match=r"Literal value b'x'"):
        is_valid(Literal[b"x"], b"x")


def test_other_annotated_metadata_is_ignored() -> None:
    assert validate(Annotated[int, "documentation", Gt(0)], 1) == 1


def test_names() -> None:
    names = type_names()
    assert names == sorted(names)
    for name in ("Request", "StreamEvent", "KVHandle", "kv.KVHandle", "ChatCompletionRequest"):
        assert name in names
    assert type_by_name("Request") is Request
    assert type_by_name("StreamEvent") == StreamEvent
    assert type_by_name("KVHandle") is not type_by_name("kv.KVHandle")
    assert type_by_name("KVHandle").__module__ == "sagellm_protocol.kv.hooks"
    assert type_by_name("kv.KVHandle").__module__ == "sagellm_protocol.kv.types"
    value = _request()
    assert validate_by_name("Request", value) is value
    with pytest.raises(KeyError, match="no protocol type named 'Nope'"):
        type_by_name("Nope")
    with pytest.raises(ValidationError):
        validate_by_name("Request", {})


def test_str_enum_members_pass_where_their_value_does() -> None:
    class Other(str, enum.Enum):  # noqa: UP042 -- the pre-3.11 idiom, still common
        FP16 = "fp16"

    value = {
        "transfer_status": "completed",
        "request_id": "r",
        "trace_id": "t",
        "success": False,
    }
    assert validate(KVCacheMigrateResponse, value) is value
    member: object = Other.FP16
    assert validate(DType, member) is member
    assert validate(Literal["fp16"], member) is member
    assert not is_valid(Color, Other.FP16)


def test_sixteen_threads_share_one_compiled_validator() -> None:
    barrier = threading.Barrier(16)
    results: list[tuple[bool, bool, object]] = []

    def work() -> None:
        barrier.wait()
        results.append(
            (
                is_valid(Fresh, {"a": 1, "b": ["x"]}),
                is_valid(Fresh, {"a": -1, "b": []}),
                checker(Fresh),
            )
        )

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [(ok, bad) for ok, bad, _ in results] == [(True, False)] * 16
    assert len({id(check) for _, _, check in results}) == 1
    assert _COMPILED.peek(analyze(Fresh)) is not None


def _count_calls(check: Callable[[object], bool], names: tuple[str, ...]) -> dict[str, int]:
    """Counts of the calls ``check`` makes to the helpers ``names`` of its namespace, by name,
    once it has checked a valid Response (the helpers are restored after)."""
    counts = dict.fromkeys(names, 0)
    namespace = check.__globals__  # type: ignore[attr-defined]
    saved = {name: namespace[name] for name in names if name in namespace}

    def counting(name: str) -> Callable[..., object]:
        def call(*args: object) -> object:
            counts[name] += 1
            return saved[name](*args)

        return call

    namespace.update({name: counting(name) for name in saved})
    try:
        assert check(_response())
    finally:
        namespace.update(saved)
    return counts


def test_the_checker_uses_the_c_list_checks_where_built() -> None:
    check = Generator().compile(analyze(Response))[0]
    counts = _count_calls(check, ("_all_of_type", "_all_finite_numbers", "_count_of"))
    if native_lists() is None:
        assert counts["_all_of_type"] == counts["_all_finite_numbers"] == 0
        assert counts["_count_of"] > 0
    else:
        assert counts["_all_of_type"] > 0
        assert counts["_count_of"] == 0


def test_the_inlined_invariant_is_not_called() -> None:
    """Response's quick predicate is one expression of the package: inlined, never called."""
    check = Generator().compile(analyze(Response))[0]
    holds = [name for name in check.__globals__ if name.startswith("_holds")]  # type: ignore[attr-defined]
    assert holds == []
    rules = [name for name in check.__globals__ if name.startswith("_inv")]  # type: ignore[attr-defined]
    assert _count_calls(check, tuple(rules)) == dict.fromkeys(rules, 0)


class _Sparse(TypedDict, closed=True):  # type: ignore[call-arg]
    a: NotRequired[int]
    b: NotRequired[int]
    c: NotRequired[int]
    d: NotRequired[int]
    e: NotRequired[int]
    f: int


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ({"f": 1}, True),
        ({"a": 1, "f": 1}, True),
        ({"e": 1, "f": 1}, True),
        ({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6}, True),
        ({"a": "x", "f": 1}, False),
        ({"e": "x", "f": 1}, False),
        # Once the size is accounted for the optional groups are skipped; the required key is not.
        ({"a": 1}, False),
        ({"z": 1}, False),
        ({"a": 1, "z": 1}, False),
        ({"f": 1, "z": 1}, False),
        ({}, False),
    ],
)
def test_optional_key_groups_are_skipped_only_when_every_key_is_accounted_for(
    value: dict[str, object], valid: bool
) -> None:
    assert fast_checker(analyze(_Sparse))(value) is valid
    assert (collect_issues(_Sparse, value) == []) is valid


class _Trailing(TypedDict, closed=True):  # type: ignore[call-arg]
    f: int
    a: NotRequired[int]
    b: NotRequired[int]
    c: NotRequired[int]
    d: NotRequired[int]
    e: NotRequired[int]
    g: NotRequired[int]
    h: NotRequired[int]
    i: NotRequired[int]
    j: NotRequired[int]


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ({"f": 1}, True),
        ({"f": 1, "a": 1}, True),
        ({"f": 1, "j": 1}, True),
        ({"f": 1, "a": 1, "e": 1, "j": 1}, True),
        ({"f": 1, **dict.fromkeys("abcdeghij", 1)}, True),
        ({"f": 1, "j": "x"}, False),
        ({"f": 1, "a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "i": "x"}, False),
        ({"f": 1, "z": 1}, False),
        ({"f": 1, "\ud800": 1}, False),  # a key of no Unicode text
        ({"f": 1, "a": 1, "j": 1, "z": 1}, False),
        ({"f": 1, **dict.fromkeys("abcdeghij", 1), "z": 1}, False),
        # As many keys as declared, every key read: one declared key missing, or a bad value.
        ({"f": 1, **dict.fromkeys("abcdeghi", 1), "z": 1}, False),
        ({"f": 1, **dict.fromkeys("abcdeghi", 1), "j": "x"}, False),
        ({"f": "x", **dict.fromkeys("abcdeghij", 1)}, False),
        ({"a": 1}, False),
    ],
)
def test_optional_keys_after_the_last_required_one_are_all_checked(
    value: dict[str, object], valid: bool
) -> None:
    assert fast_checker(analyze(_Trailing))(value) is valid
    assert (collect_issues(_Trailing, value) == []) is valid


def _deep_and_wide(depth: int) -> Any:
    """``depth`` TypedDicts, each of one required key, 200 optional ones and the next inside."""
    make: Any = TypedDict  # its functional form, with names made at run time
    tp: Any = int
    for level in range(depth):
        fields: dict[str, Any] = {"required": int}
        fields |= {f"k{index}": NotRequired[int] for index in range(200)}
        fields["child"] = NotRequired[tp]
        tp = make(f"Level{level}", fields, closed=True)
    return tp


def test_types_deep_and_wide_compile_and_check_at_every_level() -> None:
    tp = _deep_and_wide(9)  # eight inlined levels below the top one
    some = {f"k{index}": index for index in range(0, 200, 3)}
    value: Any = 1
    for _ in range(9):
        value = {"required": 0, **some, "child": value}
    assert fast_checker(analyze(tp))(value) is True
    deepest = value
    for _ in range(8):
        deepest = deepest["child"]
    deepest["k199"] = "x"
    assert fast_checker(analyze(tp))(value) is False
    (issue,) = collect_issues(tp, value)
    assert issue.path == ("child",) * 8 + ("k199",)


class _Hostile:
    """Raises from every comparison and hash."""

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        raise RuntimeError("hash")

    def __repr__(self) -> str:
        raise RuntimeError("repr")


class _Dict(dict[Any, Any]):
    """A dict subclass whose overrides must not run."""

    def get(self, *args: object) -> object:
        raise RuntimeError("get")

    def __getitem__(self, key: object) -> object:
        raise RuntimeError("getitem")

    def keys(self) -> Any:
        raise RuntimeError("keys")

    def items(self) -> Any:
        raise RuntimeError("items")


def test_hostile_inputs_give_issues_not_exceptions() -> None:
    hostile = {"request_id": _Hostile(), "trace_id": "t", "max_tokens": _Hostile()}
    assert [tuple(i) for i in collect_issues(Request, hostile)] == [
        (("request_id",), "type", "expected a str, got <_Hostile object>"),
        (("max_tokens",), "type", "expected an int > 0, got <_Hostile object>"),
    ]
    subclass = _Dict(_request(rank=3, world_size=2))
    assert [tuple(i) for i in collect_issues(Request, subclass)] == [
        (("rank",), "invariant", "expected rank < world_size (2), got 3")
    ]
    assert validate(Request, _Dict(_request())) is not None
    assert not is_valid(DType, _Hostile())
    assert not is_valid(StreamEvent, {"event": _Hostile()})


def test_cycles_and_deep_nesting() -> None:
    cyclic: dict[str, Any] = {"name": "a", "children": []}
    cyclic["children"].append(cyclic)
    assert [tuple(i) for i in collect_issues(Tree, cyclic)] == [
        (("children", 0), "type", "expected a Tree object, got a reference cycle")
    ]
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    assert validate(Request, _request(metadata={"deep": deep}))
    tree: dict[str, Any] = {"name": "leaf", "children": []}
    for _ in range(5_000):
        tree = {"name": "n", "children": [tree]}
    assert is_valid(Tree, tree)
    tree["children"][0]["name"] = 1
    assert [i.path[:3] for i in collect_issues(Tree, tree)] == [("children", 0, "name")]
    looped: list[Any] = []
    looped.append(looped)
    assert [tuple(i) for i in collect_issues(list[list[int]], looped)] == [
        ((0, 0), "type", "expected an int, got [[[[…]]]]")
    ]
    assert sys.getrecursionlimit() >= 1000


def test_huge_token_list_is_checked_in_one_pass() -> None:
    tokens: list[object] = list(range(10_000_000))
    value: dict[str, object] = {
        "event": "delta",
        "request_id": "r",
        "trace_id": "t",
        "engine_id": "e",
        "content": "",
        "content_tokens": tokens,
    }
    assert validate(StreamEventDelta, value) is value
    tokens[-1] = "x"
    assert [tuple(i) for i in collect_issues(StreamEventDelta, value)] == [
        (("content_tokens", 9_999_999), "type", "expected an int, got 'x'")
    ]


def test_the_input_is_never_mutated() -> None:
    value = _response(metrics=_metrics(itl_list=[1.0, -1, "x"]), extra={"k": [1]})
    before = copy.deepcopy(value)
    collect_issues(Response, value)
    is_valid(Response, value)
    assert value == before
