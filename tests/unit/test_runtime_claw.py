"""checked_package() on a package made in the test, and @checked under postponed annotations."""

import importlib
import pickle
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from beartype.roar import BeartypeCallHintParamViolation, BeartypeCallHintReturnViolation

from sagellm_protocol.runtime import CHECKS_ENV, CheckViolation, override_checks

BAD_REQUEST: Any = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 0}
GOOD_REQUEST: Any = {"request_id": "r-1", "trace_id": "t-1", "max_tokens": 2}

_BACKEND = """
from __future__ import annotations

from collections.abc import Iterator
from typing import Optional, Union

from sagellm_protocol.core import (
    Request,
    StreamEvent,
    StreamEventDelta,
    StreamEventEnd,
    StreamEventStart,
)
from sagellm_protocol.runtime import checked


@checked
class Later:
    def spawn(self, request: Request) -> Later:
        return Later()

    def clone(self, other: Later) -> Later:
        return other


@checked
def first(requests: list[Request]) -> Reply:
    return Reply()


@checked
def events(request: Request) -> Iterator[StreamEvent]:
    yield {"event": "nope"}


class Reply:
    pass


def hooked(request: Request) -> int:
    return request["max_tokens"]


def hooked_count(requests: list[Request]) -> str:
    return len(requests)


def hooked_maker():
    def nested(count: int) -> int:
        return count

    return nested


def hooked_pair(first: Request, second: Request) -> None:
    pass


def hooked_batch(requests: Optional[list[Request]]) -> int:
    return len(requests or [])


def hooked_event(event: Union[StreamEventStart, StreamEventDelta, StreamEventEnd]) -> str:
    return event["event"]
"""


@pytest.fixture
def make_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.delenv(CHECKS_ENV, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def make(name: str, init: str) -> None:
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text(textwrap.dedent(init))
        (package / "backend.py").write_text(_BACKEND)
        created.append(name)

    yield make
    for name in created:
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]
    from beartype.claw._clawstate import claw_state  # beartype's own test reset

    claw_state.reinit()


def test_postponed_annotations_and_forward_references(make_package: Any) -> None:
    make_package("rt_future_pkg", "")
    with override_checks("on"):
        backend = importlib.import_module("rt_future_pkg.backend")
    later = backend.Later()
    assert isinstance(later.spawn(GOOD_REQUEST), backend.Later)
    assert later.clone(later) is later
    with pytest.raises(CheckViolation) as caught:
        later.clone("not later")
    assert caught.value.where == "parameter 'other'"
    assert isinstance(backend.first([GOOD_REQUEST]), backend.Reply)
    with pytest.raises(CheckViolation) as caught:
        backend.first([GOOD_REQUEST, BAD_REQUEST])
    assert str(caught.value) == (
        "first() parameter 'requests' is invalid:\n  [1].max_tokens: expected an int > 0, got 0"
    )
    with pytest.raises(CheckViolation) as caught:
        list(backend.events(GOOD_REQUEST))
    assert caught.value.where == "yield #1"


def test_checked_package_hooks_every_function(make_package: Any) -> None:
    with override_checks("on"):
        make_package(
            "rt_hooked_pkg",
            """
            from sagellm_protocol.runtime import checked_package
            HOOKED = checked_package(__name__)
            """,
        )
        package = importlib.import_module("rt_hooked_pkg")
    assert package.HOOKED is True
    backend = importlib.import_module("rt_hooked_pkg.backend")
    assert backend.hooked(GOOD_REQUEST) == 2
    with pytest.raises(CheckViolation) as caught:
        backend.hooked(BAD_REQUEST)
    error = caught.value
    assert str(error) == (
        "rt_hooked_pkg.backend.hooked() parameter 'request' is invalid:\n"
        "  max_tokens: expected an int > 0, got 0"
    )
    assert (error.function, error.where) == ("rt_hooked_pkg.backend.hooked", "parameter 'request'")
    assert isinstance(error, BeartypeCallHintParamViolation)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.issues) == (type(error), str(error), error.issues)

    with pytest.raises(CheckViolation) as caught:
        backend.hooked_count([GOOD_REQUEST])
    assert str(caught.value) == (
        "rt_hooked_pkg.backend.hooked_count() return is invalid:\n  expected a str, got 1"
    )
    assert isinstance(caught.value, BeartypeCallHintReturnViolation)

    # Found on the stack, not by name: a nested function gets the validator's account too.
    with pytest.raises(CheckViolation) as caught:
        backend.hooked_maker()("x")
    assert str(caught.value) == (
        "rt_hooked_pkg.backend.hooked_maker.nested() parameter 'count' is invalid:\n"
        "  expected an int, got 'x'"
    )

    # The parameter is the one passed the rejected object, by position, keyword or *args.
    for call in (
        lambda: backend.hooked_pair(GOOD_REQUEST, BAD_REQUEST),
        lambda: backend.hooked_pair(GOOD_REQUEST, second=BAD_REQUEST),
        lambda: backend.hooked_pair(*[GOOD_REQUEST, BAD_REQUEST]),
    ):
        with pytest.raises(CheckViolation) as caught:
            call()
        assert (caught.value.function, caught.value.where) == (
            "rt_hooked_pkg.backend.hooked_pair",
            "parameter 'second'",
        )


def test_checked_package_checks_union_and_optional_spellings_in_full(make_package: Any) -> None:
    # beartype alone checks one random item of a list, and a TypedDict only as a dict: only the
    # validator's override, keyed by ``A | None`` and ``A | B``, catches these.
    with override_checks("on"):
        make_package(
            "rt_spelled_pkg",
            """
            from sagellm_protocol.runtime import checked_package
            checked_package(__name__)
            """,
        )
        backend = importlib.import_module("rt_spelled_pkg.backend")
    assert backend.hooked_batch(None) == 0
    with pytest.raises(CheckViolation) as caught:
        backend.hooked_batch([GOOD_REQUEST, BAD_REQUEST])
    assert caught.value.where == "parameter 'requests'"
    assert [str(issue) for issue in caught.value.issues] == [
        "[1].max_tokens: expected an int > 0, got 0"
    ]
    delta = {"event": "delta", "request_id": "r", "trace_id": "t", "engine_id": "e"}
    with pytest.raises(CheckViolation) as caught:
        backend.hooked_event({**delta, "content": "hi", "content_tokens": [-1.5]})
    assert [str(issue) for issue in caught.value.issues] == [
        "content_tokens[0]: expected an int, got -1.5"
    ]


@pytest.mark.parametrize("mode", ["off", "sample:10"])
def test_checked_package_is_not_installed_unless_on(make_package: Any, mode: str) -> None:
    with override_checks(mode):
        make_package(
            f"rt_unhooked_pkg_{mode.replace(':', '_')}",
            """
            from sagellm_protocol.runtime import checked_package
            HOOKED = checked_package(__name__)
            """,
        )
        package = importlib.import_module(f"rt_unhooked_pkg_{mode.replace(':', '_')}")
        backend = importlib.import_module(package.__name__ + ".backend")
    assert package.HOOKED is False
    assert backend.hooked(BAD_REQUEST) == 0
