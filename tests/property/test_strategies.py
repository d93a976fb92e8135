"""The strategies downstream repos get: hypothesis' own ``st.from_type`` (through the entry point),
``from_type``'s options and ``mutations``' refusal of invalid input.

The hook runs while hypothesis is imported, so the import orders are tested in fresh
interpreters: hypothesis first, the package first, the strategies module first.
"""

import importlib.metadata
import math
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typeguard import suppress_type_checks

from sagellm_protocol import Request, Timestamps
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol._tree.nodes import TypedDictNode
from sagellm_protocol.responses import (
    ResponsesCompletedEvent,
    ResponsesCreatedEvent,
    ResponsesFailedEvent,
    ResponsesIncompleteEvent,
    ResponsesInProgressEvent,
    ResponsesResponse,
)
from sagellm_protocol.testing import strategies
from sagellm_protocol.testing.strategies import from_type, mutations
from sagellm_protocol.validation import type_by_name, type_names, validate

NAMES = type_names()
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPED_DICT_NAMES = [
    name
    for name in NAMES
    if isinstance(node := analyze(type_by_name(name)), TypedDictNode) and not node.invariants
]
"""TypedDicts without cross-field rules: no key is ever dropped to satisfy one."""


def test_the_hook_is_declared_under_hypothesis_entry_point() -> None:
    hooks = [
        entry.value
        for entry in importlib.metadata.entry_points(group="hypothesis")
        if entry.dist is not None and entry.dist.name == "isagellm-protocol"
    ]
    assert hooks == ["sagellm_protocol._hypothesis:_hypothesis_setup_hook"]


@SETTINGS
@given(st.data())
def test_hypothesis_from_type_draws_only_valid_values(data: st.DataObject) -> None:
    """Every protocol type, TypedDicts and union aliases, through hypothesis' own from_type."""
    tp = type_by_name(data.draw(st.sampled_from(NAMES)))
    value = data.draw(st.from_type(tp))  # type: ignore[arg-type]  # a union alias is no type[]
    assert validate(tp, value) is value


_ORDERS = {
    "hypothesis first": "import hypothesis\nimport sagellm_protocol\n",
    "package first": "from sagellm_protocol import Request\nimport hypothesis\n",
    "strategies module first": "import sagellm_protocol.testing.strategies\n",
}

_PROBE = """
import sys
loaded_early = "sagellm_protocol.testing.strategies" in sys.modules
from hypothesis import given, settings, strategies as st
from sagellm_protocol import Request, StreamEvent, validate

drawn = []

@settings(max_examples=30, database=None)
@given(st.from_type(Request), st.from_type(StreamEvent))
def check(request, event):
    drawn.append((validate(Request, request), validate(StreamEvent, event)))

check()
print(loaded_early, len(drawn))
"""


@pytest.mark.parametrize("order", sorted(_ORDERS))
def test_the_hook_works_in_every_import_order(order: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _ORDERS[order] + textwrap.dedent(_PROBE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    loaded_early = order == "strategies module first"
    assert done.stdout == f"{loaded_early} 30\n"


def test_the_hook_module_imports_neither_hypothesis_nor_the_strategies() -> None:
    code = (
        "import sys, sagellm_protocol._hypothesis\n"
        "print(sorted(m for m in sys.modules if m.startswith(('hypothesis', 'sagellm'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "['sagellm_protocol', 'sagellm_protocol._hypothesis']\n"


def test_importing_hypothesis_loads_only_the_hook() -> None:
    """Every program with the package installed runs the hook: it must load next to nothing."""
    code = "import sys, hypothesis\nprint(sorted(m for m in sys.modules if 'sagellm' in m))\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "['sagellm_protocol', 'sagellm_protocol._hypothesis']\n"


def test_a_module_imported_after_hypothesis_registers_its_types() -> None:
    code = (
        "import hypothesis.strategies as st\n"
        "from sagellm_protocol.kv.types import KVHandle\n"
        "from sagellm_protocol import validate\n"
        "print(validate(KVHandle, st.from_type(KVHandle).example()) is not None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.stdout, done.stderr) == ("True\n", "")


def test_without_plugins_hypothesis_has_no_strategy_for_our_types() -> None:
    """HYPOTHESIS_NO_PLUGINS skips the hook: hypothesis' own guess fails on ``Any``."""
    code = (
        "from hypothesis import strategies as st\n"
        "from sagellm_protocol import Request\n"
        "try:\n"
        "    st.from_type(Request).example()\n"
        "except Exception as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"HYPOTHESIS_NO_PLUGINS": "1", "PATH": ""},
    )
    assert done.stdout == (
        "Could not resolve typing.Any to a strategy, because there is no such thing as a "
        "runtime instance of typing.Any\n"
    )


def _declared(name: str) -> tuple[set[str], set[str]]:
    node = analyze(type_by_name(name))
    assert isinstance(node, TypedDictNode)
    return {f.name for f in node.fields if f.required}, {f.name for f in node.fields}


@SETTINGS
@given(st.data())
def test_optional_keys_all_and_none(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(TYPED_DICT_NAMES))
    required, declared = _declared(name)
    tp = type_by_name(name)
    everything = data.draw(from_type(tp, optional_keys="all"))
    bare = data.draw(from_type(tp, optional_keys="none"))
    assert validate(tp, everything) is everything
    assert validate(tp, bare) is bare
    assert set(everything) == declared
    assert set(bare) == required


def _nulls(value: object) -> int:
    if isinstance(value, dict):
        return sum(_nulls(item) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_nulls(item) for item in value)
    return value is None


@SETTINGS
@given(st.data())
def test_nulls_false_draws_no_none(data: st.DataObject) -> None:
    tp = type_by_name(data.draw(st.sampled_from(NAMES)))
    value = data.draw(from_type(tp, optional_keys="all", nulls=False))
    assert validate(tp, value) is value
    assert _nulls(value) == 0


def test_nulls_are_drawn_where_allowed() -> None:
    """Request's optional ``temperature`` is ``float | None``: with nulls on, some are null."""
    found: list[Any] = []

    @settings(max_examples=100, database=None)
    @given(from_type(Request, optional_keys="all"))
    def collect(value: Any) -> None:
        found.append(value["temperature"])

    collect()
    assert None in found


def test_unknown_optional_keys_option_is_refused() -> None:
    message = "invalid optional_keys 'any': expected 'some', 'all' or 'none'"
    with suppress_type_checks(), pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        from_type(Request, optional_keys="any")  # type: ignore[arg-type]


def test_mutations_need_a_valid_value() -> None:
    message = (
        f"mutations() needs a valid value of {Timestamps!r}; completed_at: required key is missing"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        mutations(Timestamps, {"queued_at": 1.0, "scheduled_at": 2.0, "executed_at": 3.0})


def test_mutations_of_a_small_value() -> None:
    value: dict[str, object] = {
        "queued_at": 1.0,
        "scheduled_at": 2.0,
        "executed_at": 3.0,
        "completed_at": 4.0,
    }
    keys = list(value)
    expected = [
        ("drop", (key,), "missing", {k: v for k, v in value.items() if k != key}) for key in keys
    ]
    expected.append(("extra", ("zz_unknown",), "extra", {**value, "zz_unknown": 1}))
    for key in keys:
        expected.append(("nan", (key,), "range", {**value, key: math.nan}))
        expected.append(("swap", (key,), "type", {**value, key: None}))
    found = mutations(Timestamps, value)
    assert [m[:3] for m in found] == [e[:3] for e in expected]
    # NaN != NaN: compare the variants by their repr.
    assert [repr(m.value) for m in found] == [repr(e[3]) for e in expected]
    assert value == {"queued_at": 1.0, "scheduled_at": 2.0, "executed_at": 3.0, "completed_at": 4.0}


_LIFECYCLE = [
    ResponsesResponse,
    ResponsesCreatedEvent,
    ResponsesInProgressEvent,
    ResponsesCompletedEvent,
    ResponsesFailedEvent,
    ResponsesIncompleteEvent,
]
"""Types whose rule ties a response's status to the event type (or its details to the status)."""


@pytest.mark.parametrize("tp", _LIFECYCLE, ids=lambda tp: tp.__name__)
def test_responses_lifecycle_values_are_repaired_never_discarded(
    tp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each draw is repaired to keep the status rules, so the strategy's filter discards none
    (it used to discard most draws of a failed event: hypothesis flagged filter_too_much)."""
    broken: list[object] = []
    violations = strategies._violations

    def counted(node: TypedDictNode, value: Any) -> list[tuple[str | int, ...]]:
        found = violations(node, value)
        if found and node.cls in _LIFECYCLE:
            broken.append(found)
        return found

    monkeypatch.setattr(strategies, "_violations", counted)

    @settings(SETTINGS, max_examples=40, database=None)
    @given(from_type(tp))
    def drawn(value: Any) -> None:
        assert validate(tp, value) is value

    drawn()
    assert broken == []
