"""conformance() and assert_conforms(): reference implementations pass, broken classes don't."""

import importlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sagellm_protocol.backend import BackendProvider, Event, Stream
from sagellm_protocol.comm import CommBackend
from sagellm_protocol.core import Request, Response, StreamEvent
from sagellm_protocol.engine import Engine
from sagellm_protocol.kv.protocols import (
    EvictionStrategy,
    KVCacheManager,
    KVHook,
    LifetimePredictor,
    SchedulerPolicy,
)
from sagellm_protocol.operators import OperatorRegistry
from sagellm_protocol.runtime import (
    ConformanceError,
    ConformanceProblem,
    assert_conforms,
    checked,
    conformance,
    override_checks,
)
from sagellm_protocol.testing.backend import CPUBackendProvider, CPUEvent, CPUStream
from sagellm_protocol.testing.comm import LoopbackCommBackend
from sagellm_protocol.testing.engine import EchoEngine
from sagellm_protocol.testing.kv import (
    ConstantLifetimePredictor,
    FCFSSchedulerPolicy,
    FIFOEvictionStrategy,
    InMemoryKVCache,
    LFUEvictionStrategy,
    LRUEvictionStrategy,
)
from sagellm_protocol.testing.operators import InMemoryOperatorRegistry


@pytest.mark.parametrize(
    ("implementation", "protocol"),
    [
        (EchoEngine, Engine),
        (CPUBackendProvider, BackendProvider),
        (CPUStream, Stream),
        (CPUEvent, Event),
        (InMemoryKVCache, KVCacheManager),
        (LRUEvictionStrategy, EvictionStrategy),
        (LFUEvictionStrategy, EvictionStrategy),
        (FIFOEvictionStrategy, EvictionStrategy),
        (ConstantLifetimePredictor, LifetimePredictor),
        (FCFSSchedulerPolicy, SchedulerPolicy),
        (LoopbackCommBackend, CommBackend),
        (InMemoryOperatorRegistry, OperatorRegistry),
    ],
)
def test_reference_implementations_conform(implementation: type, protocol: type) -> None:
    assert conformance(implementation, protocol) == []
    assert_conforms(implementation, protocol)


def test_instances_and_generic_protocols() -> None:
    assert conformance(EchoEngine(), Engine) == []
    assert conformance(LoopbackCommBackend, CommBackend[Any]) == []


class BrokenEngine:
    engine_id = 3

    async def start(self) -> None: ...

    def stop(self) -> None: ...

    async def execute(self, req: Request) -> Response:
        raise NotImplementedError

    async def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    async def prefill(self, request: Request, extra: int) -> Response:
        raise NotImplementedError

    async def decode(self) -> Response:
        raise NotImplementedError

    health_check = "yes"


BROKEN = [
    ConformanceProblem("stop", "async", "is a plain def; the protocol's is async def"),
    ConformanceProblem("health_check", "not_callable", "is not callable (a str)"),
    ConformanceProblem(
        "execute", "name", "parameter 1 is named 'req'; the protocol's is 'request'"
    ),
    ConformanceProblem(
        "stream",
        "async",
        "is async def; the protocol's is an async generator or a def returning an async iterator",
    ),
    ConformanceProblem(
        "prefill", "arity", "requires 2 positional arguments; the protocol passes 1"
    ),
    ConformanceProblem("decode", "arity", "accepts 0 positional arguments; the protocol passes 1"),
]


def test_broken_engine_reports_each_problem() -> None:
    assert sorted(conformance(BrokenEngine, Engine), key=str) == sorted(BROKEN, key=str)


def test_assert_conforms_lists_the_problems() -> None:
    class Half:
        async def start(self) -> None: ...

    with pytest.raises(ConformanceError) as caught:
        assert_conforms(Half(), Engine)
    assert str(caught.value) == (
        "test_assert_conforms_lists_the_problems.<locals>.Half object does not conform to Engine:\n"
        "  engine_id: missing\n"
        "  stop: missing\n"
        "  health_check: missing\n"
        "  execute: missing\n"
        "  stream: missing\n"
        "  prefill: missing\n"
        "  decode: missing"
    )
    assert isinstance(caught.value, TypeError)
    assert [problem.code for problem in caught.value.problems] == ["missing"] * 7


def test_keyword_and_default_rules() -> None:
    class Registry:
        def register(self, mapping: Any, *, force: bool) -> None: ...

        def unregister(self, mapping: Any) -> None: ...

        def lookup(self, query: Any) -> None: ...

        def snapshot(self) -> Any: ...

        def list(self, query: Any) -> Any: ...

    problems = [str(problem) for problem in conformance(Registry, OperatorRegistry)]
    assert "list: parameter 'query' is required; optional in the protocol" in problems
    assert any(p.startswith("register: ") for p in problems)


def test_functions_as_callable_protocols() -> None:
    def hook(payload: Any, /) -> None: ...

    def needy(payload: Any, more: int) -> None: ...

    assert conformance(hook, KVHook) == []
    assert [str(p) for p in conformance(needy, KVHook)] == [
        "__call__: requires 2 positional arguments; the protocol passes 1"
    ]
    assert [str(p) for p in conformance(object(), KVHook)] == ["__call__: missing"]


def test_checked_methods_keep_their_kind_and_signature() -> None:
    with override_checks("on"):
        checked_engine = checked(type("CheckedEcho", (EchoEngine,), {}))
        for name in ("execute", "stream", "prefill", "decode", "start", "stop", "health_check"):
            setattr(checked_engine, name, checked(getattr(EchoEngine, name)))
    assert conformance(checked_engine, Engine) == []


def test_not_a_protocol() -> None:
    with pytest.raises(TypeError) as caught:
        conformance(EchoEngine, dict)
    assert str(caught.value) == "conformance() takes a typing.Protocol class, got <class 'dict'>"


def test_the_name_is_the_function_not_a_module() -> None:
    import sagellm_protocol.runtime as runtime

    assert runtime.conformance is conformance
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("sagellm_protocol.runtime.conformance")
