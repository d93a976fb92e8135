"""@checked: every callable kind, nested protocol types, streams, errors and the switch."""

import asyncio
import pickle
import subprocess
import sys
import threading
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from typing import Annotated, Any

import pytest
from beartype.roar import (
    BeartypeCallHintParamViolation,
    BeartypeCallHintReturnViolation,
    BeartypeCallHintViolation,
)
from beartype.vale import Is

from sagellm_protocol.core import Request, Response, StreamEvent
from sagellm_protocol.kv.types import KVHandle
from sagellm_protocol.runtime import (
    CHECKS_ENV,
    CheckViolation,
    checked,
    checks_mode,
    override_checks,
    set_checks_mode,
)
from sagellm_protocol.validation import Issue, ValidationError

REQUEST: Request = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 4}
BAD_REQUEST: Any = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 0}
METRICS: Any = {"ttft_ms": 1.0, "throughput_tps": 2.0, "peak_mem_mb": 3, "error_rate": 0.0}
RESPONSE: Response = {
    "request_id": "r-1",
    "trace_id": "t-1",
    "output_text": "hi",
    "output_tokens": [1],
    "finish_reason": "stop",
    "metrics": METRICS,
}


def _event(kind: str, **extra: Any) -> Any:
    return {"event": kind, "request_id": "r-1", "trace_id": "t-1", "engine_id": "e-1", **extra}


START = _event("start")
DELTA = _event("delta", content="hi", content_tokens=[1])
BAD_DELTA = _event("delta", content="hi", content_tokens=[-1.5])
END_1, END_2 = (
    _event("end", content="hi" * n, output_tokens=[1] * n, finish_reason="stop", metrics=METRICS)
    for n in (1, 2)
)
"""The ends of a stream of one and of two deltas: @checked holds streams to their rules."""


@pytest.fixture(autouse=True)
def _checks_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(CHECKS_ENV, raising=False)
    previous = set_checks_mode("on")  # process-wide, so a test may remove it
    yield
    set_checks_mode(previous)


def _raises(call: Any) -> CheckViolation:
    with pytest.raises(CheckViolation) as caught:
        call()
    return caught.value


# --- callable kinds ---------------------------------------------------------------------------


def test_function_argument_and_return() -> None:
    @checked
    def generate(request: Request) -> Response:
        return RESPONSE if request["max_tokens"] > 1 else {**RESPONSE, "finish_reason": "nope"}  # type: ignore[typeddict-item]

    assert generate(REQUEST) is RESPONSE
    error = _raises(lambda: generate(BAD_REQUEST))
    assert str(error) == (
        "test_function_argument_and_return.<locals>.generate() parameter 'request' is invalid:\n"
        "  max_tokens: expected an int > 0, got 0"
    )
    assert error.issues == [Issue(("max_tokens",), "range", "expected an int > 0, got 0")]
    assert (error.function, error.where) == (
        "test_function_argument_and_return.<locals>.generate",
        "parameter 'request'",
    )
    assert isinstance(error, ValidationError)
    assert isinstance(error, BeartypeCallHintParamViolation)

    error = _raises(lambda: generate({**REQUEST, "max_tokens": 1}))
    assert error.where == "return"
    assert isinstance(error, BeartypeCallHintReturnViolation)
    assert [str(issue) for issue in error.issues] == [
        "finish_reason: expected one of 'stop', 'length', 'error', got 'nope'"
    ]


class Backend:
    def __init__(self) -> None:
        self.calls = 0

    @checked
    def generate(self, request: Request) -> Response:
        self.calls += 1
        return RESPONSE

    @checked
    @classmethod
    def build(cls, request: Request) -> "Backend":
        return cls()

    @checked
    @staticmethod
    def echo(request: Request) -> Request:
        return request

    @checked
    async def execute(self, request: Request) -> Response:
        await asyncio.sleep(0)
        return RESPONSE

    @checked
    def stream(self, request: Request) -> Iterator[StreamEvent]:
        yield START
        yield DELTA
        yield BAD_DELTA if request["request_id"] == "bad" else DELTA
        yield END_2

    @checked
    async def astream(self, request: Request) -> AsyncIterator[StreamEvent]:
        yield START
        yield BAD_DELTA if request["request_id"] == "bad" else DELTA
        yield END_1


def test_method_classmethod_staticmethod() -> None:
    backend = Backend()
    assert backend.generate(REQUEST) is RESPONSE
    assert isinstance(Backend.build(REQUEST), Backend)
    assert Backend.echo(REQUEST) is REQUEST
    assert backend.echo(REQUEST) is REQUEST
    assert _raises(lambda: backend.generate(BAD_REQUEST)).where == "parameter 'request'"
    assert _raises(lambda: Backend.build(BAD_REQUEST)).function == "Backend.build"
    assert _raises(lambda: Backend.echo(BAD_REQUEST)).function == "Backend.echo"


def test_async_function() -> None:
    backend = Backend()
    assert asyncio.run(backend.execute(REQUEST)) is RESPONSE
    error = _raises(lambda: asyncio.run(backend.execute(BAD_REQUEST)))
    assert str(error) == (
        "Backend.execute() parameter 'request' is invalid:\n"
        "  max_tokens: expected an int > 0, got 0"
    )


def test_generator_items_are_checked() -> None:
    assert list(Backend().stream(REQUEST)) == [START, DELTA, DELTA, END_2]
    stream = Backend().stream({**REQUEST, "request_id": "bad"})
    assert next(stream) == START
    assert next(stream) == DELTA
    error = _raises(lambda: next(stream))
    assert str(error) == (
        "Backend.stream() yield #3 is invalid:\n  content_tokens[0]: expected an int, got -1.5"
    )
    assert error.where == "yield #3"
    assert isinstance(error, BeartypeCallHintViolation)
    # raised at the yield that produced the item: the generator is finished
    assert list(stream) == []


def test_generator_arguments_are_checked_when_iteration_starts() -> None:
    stream = Backend().stream(BAD_REQUEST)
    assert _raises(lambda: next(stream)).where == "parameter 'request'"


def test_async_generator_items_are_checked() -> None:
    async def collect(request: Request) -> list[Any]:
        return [event async for event in Backend().astream(request)]

    assert asyncio.run(collect(REQUEST)) == [START, DELTA, END_1]
    error = _raises(lambda: asyncio.run(collect({**REQUEST, "request_id": "bad"})))
    assert str(error) == (
        "Backend.astream() yield #2 is invalid:\n  content_tokens[0]: expected an int, got -1.5"
    )
    assert _raises(lambda: asyncio.run(collect(BAD_REQUEST))).where == "parameter 'request'"


def test_the_producing_generator_sees_the_error_at_its_yield() -> None:
    seen: list[str] = []

    @checked
    def stream() -> Generator[StreamEvent, None, str]:
        try:
            yield BAD_DELTA
        except CheckViolation as error:
            seen.append(error.where)
            raise
        return "done"

    assert _raises(lambda: list(stream())).where == "yield #1"
    assert seen == ["yield #1"]


def test_generator_send_throw_and_return_value_pass_through() -> None:
    @checked
    def echo() -> Generator[int, int, str]:
        received = yield 1
        try:
            yield received
        except KeyError:
            yield 99
        return "end"

    stream = echo()
    assert next(stream) == 1
    assert stream.send(5) == 5
    assert stream.throw(KeyError("k")) == 99
    with pytest.raises(StopIteration) as stop:
        next(stream)
    assert stop.value.value == "end"

    stream = echo()
    next(stream)
    error = _raises(lambda: stream.send("x"))  # type: ignore[arg-type]
    assert str(error) == (
        "test_generator_send_throw_and_return_value_pass_through.<locals>.echo() yield #2 is "
        "invalid:\n  expected an int, got 'x'"
    )


def test_async_generator_asend_and_athrow_pass_through() -> None:
    @checked
    async def echo() -> AsyncGenerator[int, int]:
        received = yield 1
        try:
            yield received
        except KeyError:
            yield 99

    async def drive() -> list[int]:
        stream = echo()
        first = await stream.asend(None)  # type: ignore[arg-type]
        second = await stream.asend(7)
        third = await stream.athrow(KeyError("k"))
        await stream.aclose()
        return [first, second, third]

    assert asyncio.run(drive()) == [1, 7, 99]


def test_items_of_an_iterable_return_are_checked() -> None:
    @checked
    def iterable() -> Iterable[int]:
        yield "x"  # type: ignore[misc]

    assert str(_raises(lambda: list(iterable()))) == (
        "test_items_of_an_iterable_return_are_checked.<locals>.iterable() yield #1 is "
        "invalid:\n  expected an int, got 'x'"
    )


def test_yields_false_skips_items() -> None:
    @checked(yields=False)
    def stream() -> Iterator[StreamEvent]:
        yield BAD_DELTA

    assert list(stream()) == [BAD_DELTA]


def test_class_decorator_checks_every_method() -> None:
    @checked
    class Engine:
        def __init__(self, request: Request) -> None:
            self.request = request

        def run(self, request: Request) -> Response:
            return RESPONSE

        @classmethod
        def make(cls, request: Request) -> "Engine":
            return cls(request)

        @staticmethod
        def helper(request: Request) -> None:
            pass

        @property
        def first(self) -> Request:
            return BAD_REQUEST  # type: ignore[no-any-return]

        async def go(self, request: Request) -> Response:
            return RESPONSE

    engine = Engine(REQUEST)
    assert engine.run(REQUEST) is RESPONSE
    assert _raises(lambda: Engine(BAD_REQUEST)).function.endswith("Engine.__init__")
    assert _raises(lambda: engine.run(BAD_REQUEST)).function.endswith("Engine.run")
    assert _raises(lambda: Engine.make(BAD_REQUEST)).function.endswith("Engine.make")
    assert _raises(lambda: Engine.helper(BAD_REQUEST)).function.endswith("Engine.helper")
    assert _raises(lambda: engine.first).where == "return"
    assert _raises(lambda: asyncio.run(engine.go(BAD_REQUEST))).function.endswith("Engine.go")


def test_non_function_is_refused() -> None:
    with pytest.raises(TypeError) as caught:
        checked(len)
    assert str(caught.value) == (
        "@checked takes a function, method or class, got <built-in function len>"
    )


# --- nested protocol types in annotations -------------------------------------------------


def test_protocol_types_are_checked_fully_wherever_they_stand() -> None:
    handle: Any = {"handle_id": "h"}

    @checked
    def batch(requests: list[Request], previous: Response | None = None) -> dict[str, Request]:
        return {request["request_id"]: request for request in requests}

    many: Any = [REQUEST] * 5 + [{**REQUEST, "max_tokens": -1, "extra": 1}]
    error = _raises(lambda: batch(many))
    assert [str(issue) for issue in error.issues] == [
        "[5].max_tokens: expected an int > 0, got -1",
        "[5].extra: unknown key (Request is closed)",
    ]
    bad_response: Any = {"request_id": 1}
    assert _raises(lambda: batch([REQUEST], bad_response)).where == "parameter 'previous'"
    assert batch([REQUEST], None) == {"r-1": REQUEST}

    @checked
    def handles(table: dict[str, KVHandle]) -> int:
        return len(table)

    assert "table" in _raises(lambda: handles({"a": handle})).where


def test_other_annotations_get_beartypes_checks() -> None:
    @checked
    def scale(factor: int, label: str = "x") -> float:
        return factor * 1.5

    assert scale(2) == 3.0
    error = _raises(lambda: scale("2"))  # type: ignore[arg-type]
    assert str(error) == (
        "test_other_annotations_get_beartypes_checks.<locals>.scale() parameter 'factor' is "
        "invalid:\n  expected an int, got '2'"
    )


def test_the_argument_is_the_one_beartype_rejected() -> None:
    @checked
    def call(a: int, b: str, *rest: int, key: str = "", **more: int) -> None:
        pass

    def where(call: Any) -> str:
        return _raises(call).where

    assert where(lambda: call(1, 1)) == "parameter 'b'"  # the very object, but fine for a
    assert where(lambda: call(1, "b", 2, "x")) == "parameter 'rest'"
    assert where(lambda: call(1, "b", key=3)) == "parameter 'key'"
    assert where(lambda: call(1, "b", other="x")) == "parameter 'more'"
    assert where(lambda: call(1, 2, 3, 4, b="twice")) == "parameter 'b'"  # does not bind
    assert str(_raises(lambda: call(1, "b", 2, "x"))) == (
        "test_the_argument_is_the_one_beartype_rejected.<locals>.call() parameter 'rest' is "
        "invalid:\n  expected an int, got 'x'"
    )


def test_a_container_beartype_sampled_is_explained_in_full() -> None:
    @checked
    def total(values: tuple[int, ...]) -> None:
        pass

    # beartype checks one random item per call, and re-checking may pick another: the
    # argument is found as the one beartype named, then the validator checks every item.
    values: Any = (1,) * 99 + ("x",)

    def first_violation() -> CheckViolation:
        for _ in range(5000):
            try:
                total(values)
            except CheckViolation as error:
                return error
        pytest.fail("beartype never sampled the bad item")

    assert str(first_violation()) == (
        "test_a_container_beartype_sampled_is_explained_in_full.<locals>.total() "
        "parameter 'values' is invalid:\n  [99]: expected an int, got 'x'"
    )


def _positive(value: int) -> bool:
    return value > 0


def test_what_only_beartype_rejects_is_named_by_the_hint() -> None:
    @checked
    def scale(factor: Annotated[int, Is[_positive]]) -> None:
        pass

    assert str(_raises(lambda: scale(-1))) == (
        "test_what_only_beartype_rejects_is_named_by_the_hint.<locals>.scale() parameter "
        "'factor' is invalid:\n  expected Annotated[int, Is[_positive]], got -1"
    )


def test_violations_of_nested_checked_calls_are_not_misattributed() -> None:
    @checked
    def inner(request: Request) -> None:
        pass

    @checked
    def outer(request: Request) -> None:
        inner(BAD_REQUEST)

    assert _raises(lambda: outer(REQUEST)).function.endswith("inner")


def test_violation_pickles() -> None:
    @checked
    def generate(request: Request) -> None:
        pass

    error = _raises(lambda: generate(BAD_REQUEST))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (str(copy), copy.issues, copy.where) == (str(error), error.issues, error.where)


# --- the switch ---------------------------------------------------------------------------


def _plain(request: Request) -> Request:
    return request


def test_off_returns_the_function_itself() -> None:
    with override_checks("off"):
        assert checked(_plain) is _plain
        assert checked(default_mode="on")(_plain) is _plain
        assert checked(Backend) is Backend


def test_env_is_read_when_decorating(monkeypatch: pytest.MonkeyPatch) -> None:
    set_checks_mode(None)
    monkeypatch.setenv(CHECKS_ENV, "off")
    assert checked(_plain) is _plain
    monkeypatch.setenv(CHECKS_ENV, " ON ")
    assert checks_mode() == "on"
    wrapped = checked(_plain)
    monkeypatch.setenv(CHECKS_ENV, "off")
    assert _raises(lambda: wrapped(BAD_REQUEST)).where == "parameter 'request'"
    monkeypatch.setenv(CHECKS_ENV, "")
    assert checks_mode() == "on"
    assert checked(default_mode="off")(_plain) is _plain


def test_sample_checks_one_call_in_n() -> None:
    set_checks_mode(None)  # the calls below follow the decorated mode, no override
    with override_checks("sample:3"):
        assert checks_mode() == "sample:3"
        wrapped = checked(_plain)
    outcomes = []
    for _ in range(7):
        try:
            wrapped(BAD_REQUEST)
            outcomes.append("passed")
        except CheckViolation as error:
            outcomes.append(error.where)
    assert outcomes == ["parameter 'request'", "passed", "passed"] * 2 + ["parameter 'request'"]


def _every_kind() -> dict[str, Callable[[], object]]:
    """A call with a bad argument or item of a checked function of each kind, decorated now."""

    @checked
    def plain(request: Request) -> None:
        pass

    @checked
    async def run(request: Request) -> None:
        pass

    @checked
    def stream() -> Iterator[Request]:
        yield BAD_REQUEST

    @checked
    async def astream() -> AsyncIterator[Request]:
        yield BAD_REQUEST

    async def drain() -> list[Any]:
        return [item async for item in astream()]

    return {
        "function": lambda: plain(BAD_REQUEST),
        "coroutine": lambda: asyncio.run(run(BAD_REQUEST)),
        "generator": lambda: list(stream()),
        "async generator": lambda: asyncio.run(drain()),
    }


def test_sample_for_every_kind() -> None:
    set_checks_mode(None)
    with override_checks("sample:2"):
        calls = _every_kind()
    del calls["function"]  # test_sample_checks_one_call_in_n
    assert [_raises(call).where for call in calls.values()] == [
        "parameter 'request'",
        "yield #1",
        "yield #1",
    ]
    assert [call() for call in calls.values()] == [None, [BAD_REQUEST], [BAD_REQUEST]]


@pytest.mark.parametrize("value", ["maybe", "sample", "sample:0", "sample:-1", "sample:x", "1"])
def test_invalid_switch_values(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    set_checks_mode(None)
    monkeypatch.setenv(CHECKS_ENV, value)
    with pytest.raises(ValueError, match="SAGELLM_PROTOCOL_CHECKS=") as caught:
        checked(_plain)
    assert str(caught.value) == (
        f"SAGELLM_PROTOCOL_CHECKS={value!r} is not a valid checks mode: use 'off', 'on' or "
        "'sample:N' (check one call in N, N an integer >= 1)"
    )
    with pytest.raises(ValueError, match="mode=") as caught:
        set_checks_mode(value)
    assert str(caught.value).startswith(f"mode={value!r} is not a valid checks mode")


def test_set_checks_mode_returns_the_previous_override() -> None:
    assert set_checks_mode("sample:10") == "on"
    assert set_checks_mode(None) == "sample:10"
    assert set_checks_mode("on") is None


def test_overlapping_blocks_in_two_threads_leave_the_mode_as_it_was() -> None:
    # Issue 22: A enters, B enters, A exits, B exits; one process-wide value restored out of
    # order left A's "off" in force after both.
    set_checks_mode(None)
    a_entered, b_entered, a_exited = (threading.Event() for _ in range(3))
    seen: dict[str, list[str]] = {"a": [], "b": []}

    def a() -> None:
        with override_checks("off"):
            a_entered.set()
            b_entered.wait(5)
            seen["a"].append(checks_mode())  # B's block does not reach here
        a_exited.set()

    def b() -> None:
        a_entered.wait(5)
        with override_checks("sample:5"):
            b_entered.set()
            a_exited.wait(5)
            seen["b"].append(checks_mode())  # nor A's exit
        seen["b"].append(checks_mode())

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"a": ["off"], "b": ["sample:5", "on"]}
    assert checks_mode() == "on"


def test_blocks_in_overlapping_asyncio_tasks_stay_in_their_task() -> None:
    set_checks_mode(None)

    async def task(mode: str, mine: list[asyncio.Event], theirs: list[asyncio.Event]) -> str:
        with override_checks(mode):
            mine[0].set()  # entered
            await theirs[0].wait()
            seen = checks_mode()
            mine[1].set()  # read: neither exits before both read
            await theirs[1].wait()
        return seen

    async def both() -> list[str]:
        first, second = [asyncio.Event(), asyncio.Event()], [asyncio.Event(), asyncio.Event()]
        return list(
            await asyncio.gather(task("off", first, second), task("sample:2", second, first))
        )

    assert asyncio.run(both()) == ["off", "sample:2"]
    assert checks_mode() == "on"


def test_a_function_checked_when_decorated_is_silenced_by_an_off_block() -> None:
    calls = _every_kind()
    with override_checks("off"):
        assert checks_mode() == "off"
        silenced = {kind: call() for kind, call in calls.items()}
    assert silenced == {
        "function": None,
        "coroutine": None,
        "generator": [BAD_REQUEST],
        "async generator": [BAD_REQUEST],
    }
    for call in calls.values():  # after the block, each checks again
        assert isinstance(_raises(call), CheckViolation)
    set_checks_mode("off")  # process-wide: also at call time, and a block wins over it
    assert calls["function"]() is None
    with override_checks("on"):
        assert _raises(calls["function"]).where == "parameter 'request'"


def test_a_block_sets_the_sampling_of_a_sampled_function() -> None:
    set_checks_mode(None)
    with override_checks("sample:1000"):
        wrapped = checked(_plain)
    with override_checks("on"):
        assert [_raises(lambda: wrapped(BAD_REQUEST)).where for _ in range(3)] == [
            "parameter 'request'"
        ] * 3


# --- laziness -----------------------------------------------------------------------------


def test_import_does_not_import_beartype() -> None:
    code = (
        "import sys, sagellm_protocol, sagellm_protocol.runtime as r\n"
        "assert 'beartype' not in sys.modules\n"
        "r.set_checks_mode('off')\n"
        "r.checked(lambda: None)\n"
        "assert 'beartype' not in sys.modules\n"
        "r.set_checks_mode('on')\n"
        "def f(x: int) -> int: return x\n"
        "r.checked(f)\n"
        "assert 'beartype' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
