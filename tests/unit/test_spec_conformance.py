"""Every type, enum, constant and function of the Protocol v0.1 reference, with its exact shape.

The reference (``tests/data/protocol-v0.1.md``, copied from the project's shared specification)
was read off the original package; this test parses it and compares each entry with ours:
keys, required keys, nullability, annotated-types bounds, defaults and enum values.
"""

import ast
import dataclasses
import importlib
import re
import time
import typing
import uuid
from typing import Any

import annotated_types
import pytest
from spec_reference import ENTRIES, MODULES, SPEC, SpecEntry, SpecField
from typing_extensions import get_type_hints, is_typeddict

from sagellm_protocol import defaults

# Deliberate departures from the reference, each for a reason given in the type's module.
TAG_KEYS_REQUIRED = {
    "StreamEventStart": "event",
    "StreamEventDelta": "event",
    "StreamEventEnd": "event",
}
"""Stream event tags are required: the union is discriminated by them (the original emits them)."""
EXTENSION_KEYS = {"Metrics": ("prefill_tokens", "decode_tokens")}
"""Optional keys beyond the reference, with defaults, that the engine's packages send
(docs/migrating.md, "Keys real callers send")."""
EXTENSION_VALUES = {"KernelKind": {"EMBEDDING": "embedding"}}
"""Enum values beyond the reference, after its values (docs/migrating.md, "Keys real callers
send")."""
UNVALIDATED_KINDS = {"TypedDict", "dataclass"}
"""Reference types that were never validated (plain TypedDicts, dataclasses) had no bounds; ours
bound counts, sizes and durations at >= 0 and rates at [0, 1], as documented per key."""
DATACLASSES = {"ProtocolVersion", "OperatorRegistryEntry"}
"""Kept as dataclasses: ProtocolVersion must be ordered and hashable, the entry holds a callable."""
OPENAI = "openai_types"
"""The OpenAI-compatible types follow OpenAI's API and SDK where the original was narrower: they
keep every key of the reference (in its order; new keys may come between) and its defaults,
accept every value the reference allows, and add what real OpenAI and vLLM traffic carries."""
OPENAI_OPTIONAL = {
    "ChatMessage": {"content"},  # assistant messages with tool_calls carry none (OpenAI, vLLM)
    "ChatCompletionResponse": {"usage"},  # optional in OpenAI's schema and the SDK
    "CompletionResponse": {"usage"},  # streamed chunks carry none
}
"""Keys the reference requires that OpenAI lets be absent."""
OPENAI_NULLABLE = {
    ("ChatMessage", "content"),  # assistant messages: content null with tool_calls / refusal
    ("ChatCompletionRequest", "temperature"),  # nullable in OpenAI's spec (and the SDK's)
    ("ChatCompletionRequest", "stream"),
    ("ChatCompletionRequest", "n"),
    ("ChatCompletionRequest", "presence_penalty"),
    ("ChatCompletionRequest", "frequency_penalty"),
    ("ChatCompletionResponse", "usage"),
    ("CompletionRequest", "prompt"),  # the SDK's prompt is Optional (the document separator)
    ("CompletionRequest", "temperature"),
    ("CompletionRequest", "stream"),
    ("CompletionRequest", "n"),
    ("CompletionResponse", "usage"),
}
"""Keys the reference makes non-nullable that OpenAI's spec makes nullable."""
OPENAI_BOUNDS = {
    ("ChatCompletionRequest", "n"): {">= 1", "<= 128"},
    ("ChatCompletionRequest", "top_p"): {">= 0", "<= 1"},  # OpenAI accepts 0 (vLLM does not)
    ("ChatCompletionRequest", "max_tokens"): {">= 0"},
    ("CompletionRequest", "n"): {">= 1", "<= 128"},
    ("CompletionRequest", "top_p"): {">= 0", "<= 1"},
    ("CompletionRequest", "max_tokens"): {">= 0"},
    ("EmbeddingRequest", "dimensions"): {"> 0"},
}
"""Ranges OpenAI documents where the reference has other bounds or none."""


def ours(entry: SpecEntry) -> Any:
    module = importlib.import_module(MODULES[entry.module])
    assert hasattr(module, entry.name), f"{MODULES[entry.module]} lacks {entry.name}"
    return getattr(module, entry.name)


def by_kind(*kinds: str) -> list[Any]:
    return [pytest.param(e, id=e.id) for e in ENTRIES if e.kind in kinds]


def test_spec_parsed() -> None:
    kinds = {e.kind for e in ENTRIES}
    assert kinds == {"object", "dataclass", "TypedDict", "enum", "constant", "function", "class"}
    assert len(by_kind("object")) == 78
    assert {e.module for e in ENTRIES} == set(MODULES)


@pytest.mark.parametrize("entry", by_kind("enum"))
def test_enum_values(entry: SpecEntry) -> None:
    enum_class = ours(entry)
    values = {**entry.values, **EXTENSION_VALUES.get(entry.name, {})}
    assert {member.name: member.value for member in enum_class} == values
    assert all(member == member.value == str(member) == f"{member}" for member in enum_class)
    literal = getattr(importlib.import_module(enum_class.__module__), f"{entry.name}Name")
    assert typing.get_args(literal) == tuple(values.values())


@pytest.mark.parametrize("entry", by_kind("function"))
def test_function_exists(entry: SpecEntry) -> None:
    assert callable(ours(entry))


@pytest.mark.parametrize("entry", by_kind("constant"))
def test_constant(entry: SpecEntry) -> None:
    value = ours(entry)
    printed = entry.constant
    if printed.startswith(("{'", "{<", "[")) or printed[:1].isdigit() or printed.startswith("'"):
        expected = ast.literal_eval(re.sub(r"<\w+\.\w+: ('[^']*')>", r"\1", printed))
        if isinstance(expected, dict) and not isinstance(value, dict):
            value = dict(value)
        if isinstance(expected, dict):
            value = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in value.items()}
        if isinstance(expected, set):
            value = set(value)
        assert value == expected
    else:
        assert value is not None


@pytest.mark.parametrize("entry", by_kind("class"))
def test_port_classes(entry: SpecEntry) -> None:
    cls = ours(entry)
    line = next(
        line
        for line in SPEC.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"### class `{entry.name}`")
    )
    for name, port in re.findall(r"(\w+)=(\d+)", line):
        assert getattr(cls, name) == int(port)


def strip(hint: Any) -> tuple[Any, list[Any]]:
    """The hint without Annotated/NotRequired wrappers, and the metadata collected on the way."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(hint)
        if origin is typing.Annotated:
            metadata.extend(hint.__metadata__)
            hint = hint.__origin__
        elif origin is not None and getattr(origin, "_name", "") in {
            "NotRequired",
            "Required",
            "ReadOnly",
        }:
            hint = typing.get_args(hint)[0]
        else:
            return hint, metadata


def union_members(hint: Any) -> list[Any]:
    if typing.get_origin(hint) in (typing.Union, __import__("types").UnionType):
        return list(typing.get_args(hint))
    return [hint]


def bounds_of(metadata: list[Any]) -> set[str]:
    found = set()
    for item in metadata:
        for attr, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            bound = getattr(item, attr, None)
            if isinstance(item, annotated_types.BaseMetadata) and bound is not None:
                found.add(f"{symbol} {float(bound):g}")
    return found


def spec_bounds(wire_type: str) -> set[str]:
    match = re.search(r"\(([^)]*[<>]=?[^)]*)\)", wire_type)
    if not match:
        return set()
    return {
        f"{op} {float(number):g}" for op, number in re.findall(r"([<>]=?) (-?[\d.]+)", match[1])
    }


def typeddict_fields(entry: SpecEntry) -> list[Any]:
    return [pytest.param(entry, f, id=f"{entry.id}.{f.name}") for f in entry.fields]


TYPED_ENTRIES = [
    e
    for e in ENTRIES
    if e.kind in {"object", "TypedDict"} or (e.kind == "dataclass" and e.name not in DATACLASSES)
]
FIELDS = [param for e in TYPED_ENTRIES for param in typeddict_fields(e)]


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.id) for e in TYPED_ENTRIES])
def test_typeddict_keys(entry: SpecEntry) -> None:
    tp = ours(entry)
    assert is_typeddict(tp)
    openai = entry.module == OPENAI
    if openai:
        keys = iter(get_type_hints(tp))
        assert all(f.name in keys for f in entry.fields), "reference keys kept, in order"
    else:
        extension = EXTENSION_KEYS.get(entry.name, ())
        assert [key for key in get_type_hints(tp) if key not in extension] == [
            f.name for f in entry.fields
        ]
        assert not set(extension) & tp.__required_keys__
    expected_required = {f.name for f in entry.fields if f.default == "REQUIRED"}
    expected_required -= OPENAI_OPTIONAL.get(entry.name, set()) if openai else set()
    expected_required |= (
        {TAG_KEYS_REQUIRED[entry.name]} if entry.name in TAG_KEYS_REQUIRED else set()
    )
    assert tp.__required_keys__ == expected_required
    assert tp.__optional_keys__ == set(get_type_hints(tp)) - expected_required
    # Every optional key has its original default, and nothing else does; the original's
    # total=False TypedDicts had no defaults (an absent metric is "not measured"). Keys the
    # OpenAI types add have none (absent means OpenAI's default).
    has_defaults = entry.kind != "TypedDict"
    if openai:
        spec_optional = {f.name for f in entry.fields} - expected_required
        assert spec_optional - OPENAI_OPTIONAL.get(entry.name, set()) <= set(defaults(tp))
        assert set(defaults(tp)) <= tp.__optional_keys__
    else:
        assert set(defaults(tp)) == (tp.__optional_keys__ if has_defaults else set())
    assert (getattr(tp, "__closed__", None) is True) is not openai


@pytest.mark.parametrize(("entry", "spec_field"), FIELDS)
def test_field(entry: SpecEntry, spec_field: SpecField) -> None:
    tp = ours(entry)
    hint, metadata = strip(get_type_hints(tp, include_extras=True)[spec_field.name])
    members = [strip(member) for member in union_members(hint)]
    nullable = any(member is type(None) for member, _ in members)
    wire = spec_field.wire_type
    spec_nullable = " or null" in wire or wire.endswith("| None")
    key = (entry.name, spec_field.name)
    if entry.module == OPENAI and key in OPENAI_NULLABLE:
        spec_nullable = True
    assert nullable == spec_nullable, f"nullability of {spec_field.name}: {hint}"
    collected = set(bounds_of(metadata))
    for _, member_metadata in members:
        collected |= bounds_of(member_metadata)
    expected_bounds = spec_bounds(wire)
    if entry.module == OPENAI:
        expected_bounds = OPENAI_BOUNDS.get(key, expected_bounds)
    if expected_bounds or entry.kind not in UNVALIDATED_KINDS:
        assert collected == expected_bounds, f"bounds of {spec_field.name}"
    if literal := re.search(r"Literal\[(.*?)\]", wire):
        literal_values = tuple(
            value
            for member, _ in members
            if typing.get_origin(member) is typing.Literal
            for value in typing.get_args(member)
        )
        spec_values = ast.literal_eval(f"({literal[1]},)")
        if entry.module == OPENAI:  # OpenAI's newer values come after the reference's
            literal_values = literal_values[: len(spec_values)]
        assert literal_values == spec_values, spec_field.name
    tag_key = TAG_KEYS_REQUIRED.get(entry.name)
    if spec_field.default in {"REQUIRED", ""} or spec_field.name == tag_key:
        return
    assert_default(tp, spec_field)


def assert_default(tp: Any, spec_field: SpecField) -> None:
    registered = defaults(tp)
    assert spec_field.name in registered, f"no default for {spec_field.name}"
    value = registered[spec_field.name]
    printed = spec_field.default
    if printed == "fresh uuid4":
        assert str(uuid.UUID(value)) == value
        assert defaults(tp)[spec_field.name] != value
    elif printed.startswith("now"):
        assert type(value) is int
        assert abs(value - time.time()) < 5
    elif printed.endswith("() defaults"):
        nested_name = printed.split("(")[0]
        nested = getattr(importlib.import_module(tp.__module__), nested_name)
        assert value == defaults(nested)
    else:
        expected = ast.literal_eval(printed)
        assert value == expected
        assert type(value) is type(expected)


@pytest.mark.parametrize(
    "entry", [pytest.param(e, id=e.id) for e in ENTRIES if e.name in DATACLASSES]
)
def test_dataclass_fields(entry: SpecEntry) -> None:
    cls = ours(entry)
    assert [f.name for f in dataclasses.fields(cls)] == [f.name for f in entry.fields]
