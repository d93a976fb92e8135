"""Properties of validate() over every protocol type, with values generated from the types.

- Generated values always validate (and come back as the same object).
- A single mutation (drop a required key, add an unknown key, break a range, swap a type,
  break an invariant) always fails, and the mutated path is reported with the expected code.
- Differential: pydantic's ``TypeAdapter(T).validate_python(v, strict=True)`` agrees on the same
  generated and mutated values, except for these documented differences:
  * invariants: pydantic does not know our cross-field rules, so it accepts a value whose only
    fault is a broken invariant;
  * NaN and ±inf: pydantic's float accepts them (``allow_inf_nan`` defaults to true), we reject
    them (they are not JSON);
  * formats: pydantic ignores our ``StringFormat`` markers (device strings, UUIDs);
  * unknown keys on closed types: no difference with pydantic >= 2.11, which reads PEP 728
    ``closed=True`` and forbids them too (asserted below).
"""

import copy
import functools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from sagellm_protocol import with_defaults
from sagellm_protocol._tree.analyse import analyze
from sagellm_protocol._tree.nodes import (
    AnyNode,
    ChoiceNode,
    DictNode,
    ListNode,
    Node,
    NumberNode,
    StrNode,
    TypedDictNode,
    UnionNode,
)
from sagellm_protocol.testing.strategies import _Builder, from_type
from sagellm_protocol.validation import (
    ValidationError,
    collect_issues,
    is_valid,
    type_by_name,
    type_names,
    validate,
)
from sagellm_protocol.validation._compile import fast_checker
from sagellm_protocol.validation._precise import collect

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = type_names()

Path = tuple[str | int, ...]


@functools.cache
def _strategy(name: str) -> st.SearchStrategy[Any]:
    return from_type(type_by_name(name))


@functools.cache
def _adapter(name: str) -> TypeAdapter[Any]:
    return TypeAdapter(type_by_name(name))


def _pydantic_accepts(name: str, value: object) -> bool:
    try:
        _adapter(name).validate_python(value, strict=True)
    except PydanticError:
        return False
    return True


class _Opaque:
    """A value no protocol type accepts (except Any)."""


def _sites(node: Node, value: object, path: Path) -> list[tuple[Path, Node, object]]:
    """(path, node, value) of every position of ``value`` a mutation may target.

    Positions under an ambiguous (untagged, several-member) union are left out: an issue
    there is reported at the union, not at the mutated path.
    """
    out: list[tuple[Path, Node, object]] = [(path, node, value)]
    if isinstance(node, UnionNode):
        if value is None:
            return out
        if node.tag is not None and isinstance(value, dict):
            member = node.by_tag.get(value.get(node.tag))  # type: ignore[arg-type]
            return out + _sites(member, value, path)[1:] if member is not None else out
        if len(node.options) == 1:
            return out + _sites(node.options[0], value, path)[1:]
        return out
    if isinstance(node, TypedDictNode) and isinstance(value, dict):
        for field in node.fields:
            if field.name in value:
                out += _sites(field.node, value[field.name], (*path, field.name))
    elif isinstance(node, ListNode) and isinstance(value, list | tuple):
        for index, item in enumerate(value):
            out += _sites(node.item, item, (*path, index))
    elif isinstance(node, DictNode) and isinstance(value, dict):
        for key, item in value.items():
            out += _sites(node.value, item, (*path, key))
    return out


def _set(root: Any, path: Path, new: object) -> Any:
    if not path:
        return new
    target = root
    for key in path[:-1]:
        target = target[key]
    if isinstance(target, tuple):  # tuples are immutable: rebuild the parent
        items = list(target)
        items[int(path[-1])] = new
        return _set(root, path[:-1], tuple(items))
    target[path[-1]] = new
    return root


def _get(root: Any, path: Path) -> Any:
    for key in path:
        root = root[key]
    return root


def _out_of_range(node: NumberNode) -> int | float:
    op, bound = node.bounds[0]
    step = 1 if not node.is_float else max(1.0, abs(bound))
    return {">=": bound - step, ">": bound, "<=": bound + step, "<": bound}[op]


@SETTINGS
@given(st.data())
def test_generated_values_are_valid(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    value = data.draw(_strategy(name))
    assert validate(type_by_name(name), value) is value
    assert _pydantic_accepts(name, value)


def _mutations(node: Node, value: object) -> list[tuple[str, Path, object, str]]:
    """(kind, path, new value at path, expected code) for every single mutation of ``value``."""
    out: list[tuple[str, Path, object, str]] = []
    for path, site, current in _sites(node, value, ()):
        if isinstance(site, TypedDictNode) and isinstance(current, dict):
            for field in site.fields:
                if field.required:
                    dropped = {k: v for k, v in current.items() if k != field.name}
                    out.append(("drop", (*path, field.name), dropped, "missing"))
            if site.extra is None:
                out.append(("extra", (*path, "zz_unknown"), {**current, "zz_unknown": 1}, "extra"))
        if isinstance(site, NumberNode) and site.bounds:
            out.append(("range", path, _out_of_range(site), "range"))
        if path and not isinstance(site, AnyNode):
            code = "literal" if isinstance(site, ChoiceNode) else "type"
            out.append(("swap", path, _Opaque(), code))
        if isinstance(site, NumberNode) and site.is_float:
            out.append(("nan", path, math.nan, "range"))
        if isinstance(site, StrNode) and site.formats:
            out.append(("format", path, "NOT A FORMAT", "format"))
    return out


@SETTINGS
@given(st.data())
def test_single_mutations_fail_at_the_mutated_path(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(NAMES))
    tp = type_by_name(name)
    value = data.draw(_strategy(name))
    candidates = _mutations(analyze(tp), value)
    if not candidates:
        return
    kind, path, new, code = data.draw(st.sampled_from(candidates))
    mutated = copy.deepcopy(value)
    if kind in ("drop", "extra"):
        mutated = _set(mutated, path[:-1], new)
    else:
        mutated = _set(mutated, path, new)
    with pytest.raises(ValidationError) as caught:
        validate(tp, mutated)
    reported = {(issue.path, issue.code) for issue in caught.value.issues}
    if kind == "swap":  # an opaque object in a union of choices and others is a type issue
        assert (path, "type") in reported or (path, "literal") in reported
    else:
        assert (path, code) in reported, caught.value.issues
    if kind in ("nan", "format"):  # documented differences: pydantic accepts these
        return
    assert not _pydantic_accepts(name, mutated), (kind, path)


INVARIANT_TYPES = [name for name in NAMES if getattr(analyze(type_by_name(name)), "invariants", ())]


@SETTINGS
@given(st.data())
def test_broken_invariants_are_reported(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(INVARIANT_TYPES))
    tp = type_by_name(name)
    node = analyze(tp)
    assert isinstance(node, TypedDictNode)
    value = data.draw(_strategy(name))
    # Redraw a few fields (each stays structurally valid); some draws break a rule.
    fields = data.draw(st.lists(st.sampled_from(node.fields), min_size=1, max_size=3))
    mutated = {**value, **{f.name: data.draw(from_type_of(f.node)) for f in fields}}
    issues = collect_issues(tp, mutated)
    if issues and all(issue.code == "invariant" for issue in issues):
        event(f"broke an invariant of {name}")
        expected = {
            (tuple(path), "invariant") for check in node.invariants for path, _ in check(mutated)
        }
        assert {(issue.path, issue.code) for issue in issues} == expected
        assert not is_valid(tp, mutated)
        assert _pydantic_accepts(name, mutated)  # documented difference: no invariants there


def from_type_of(node: Node) -> st.SearchStrategy[Any]:
    """A strategy for one field's node."""
    return _Builder().build(node)


def test_pydantic_forbids_unknown_keys_on_closed_types_too() -> None:
    value = {"request_id": "r", "trace_id": "t", "max_tokens": 1, "zz": 1}
    assert not _pydantic_accepts("Request", value)
    assert not is_valid(type_by_name("Request"), value)


def _untrusting(node: Node, value: object) -> list[Any]:
    """The issues found by the precise pass when it runs no compiled code at all."""
    return collect(node, value, trust_compiled=False)


@SETTINGS
@given(st.data())
def test_compiled_checker_agrees_with_the_untrusting_pass(data: st.DataObject) -> None:
    """An independent check of the compiler: on generated values and each single-fault mutation,
    the compiled checker says valid exactly when the interpreted rules find no issue, and the
    precise pass reports the same issues whether it trusts the compiled code or not."""
    name = data.draw(st.sampled_from(NAMES))
    node = analyze(type_by_name(name))
    value = data.draw(_strategy(name))
    candidates = [(value, "none", ())] + [
        (new, kind, path) for kind, path, new, _ in _mutations(node, value) if kind != "swap"
    ]
    mutated, kind, path = data.draw(st.sampled_from(candidates))
    if kind != "none":
        mutated = _set(
            copy.deepcopy(value), path[:-1] if kind in ("drop", "extra") else path, mutated
        )
    independent = _untrusting(node, mutated)
    assert fast_checker(node)(mutated) is (not independent), (kind, path, independent)
    assert collect(node, mutated) == independent


TYPED_DICT_NAMES = [
    name for name in NAMES if isinstance(analyze(type_by_name(name)), TypedDictNode)
]


@SETTINGS
@given(st.data())
def test_with_defaults_of_a_valid_value_is_valid(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(TYPED_DICT_NAMES))
    tp = type_by_name(name)
    value = data.draw(_strategy(name))
    before = copy.deepcopy(value)
    completed = with_defaults(tp, value)
    assert collect_issues(tp, completed) == []
    assert value == before
    assert set(completed) >= set(value)
