"""json_schema(): every keyword it emits, on small local types and on the protocol's own."""

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

import pytest
from annotated_types import Ge, Gt, Le, Len, Lt, MaxLen, MinLen, MultipleOf
from jsonschema import Draft202012Validator
from typing_extensions import NotRequired, TypedDict

from sagellm_protocol import (
    ChatCompletionRequest,
    DType,
    DTypeName,
    KVHandle,
    StreamEvent,
    json_schema,
    type_by_name,
    type_names,
)
from sagellm_protocol._registry import (
    Factory,
    InvariantViolation,
    register_defaults,
    register_invariant,
)
from sagellm_protocol._schema import DIALECT, schema_parts
from sagellm_protocol.constraints import DeviceStr, UUIDStr


class Span(TypedDict, closed=True):
    """A half-open range of token positions."""

    start: Annotated[int, Ge(0)]
    """First position."""
    end: Annotated[int, Ge(0)]
    """One past the last position."""
    label: NotRequired[str | None]
    """What the span covers; ``None`` when unlabelled."""
    tags: NotRequired[list[str]]
    weight: NotRequired[Annotated[float, Gt(0), Lt(1), MultipleOf(0.25)]]


register_defaults(Span, {"label": None, "tags": Factory(list)})


@register_invariant(Span)
def _span_ordered(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """``start <= end``."""
    if value["start"] > value["end"]:
        yield ("end",), "expected end >= start"


class Node(TypedDict):
    """A tree: open, so unknown keys pass."""

    name: Annotated[str, MinLen(1), MaxLen(8)]
    children: NotRequired[list["Node"]]


def test_a_closed_type_with_bounds_docs_defaults_and_invariants() -> None:
    assert json_schema(Span) == {
        "$schema": DIALECT,
        "type": "object",
        "title": "Span",
        "description": "A half-open range of token positions.",
        "properties": {
            "start": {"type": "integer", "minimum": 0, "description": "First position."},
            "end": {"type": "integer", "minimum": 0, "description": "One past the last position."},
            "label": {
                "type": ["string", "null"],
                "description": "What the span covers; ``None`` when unlabelled.",
                "default": None,
            },
            # A computed default (Factory) is made per use: the schema names none.
            "tags": {"type": "array", "items": {"type": "string"}},
            "weight": {
                "type": "number",
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 1,
                "multipleOf": 0.25,
            },
        },
        "required": ["start", "end"],
        "additionalProperties": False,
        "x-invariants": {"_span_ordered": "``start <= end``."},
    }


def test_a_recursive_open_type_refers_to_the_document() -> None:
    assert json_schema(Node) == {
        "$schema": DIALECT,
        "type": "object",
        "title": "Node",
        "description": "A tree: open, so unknown keys pass.",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 8},
            "children": {"type": "array", "items": {"$ref": "#"}},
        },
        "required": ["name"],
    }


def test_nested_types_go_to_defs_and_are_referenced() -> None:
    schema = json_schema(list[Annotated[list[Span], Len(1, 3)]] | None)
    assert {key: value for key, value in schema.items() if key != "$defs"} == {
        "$schema": DIALECT,
        "type": ["array", "null"],
        "items": {
            "type": "array",
            "items": {"$ref": "#/$defs/Span"},
            "minItems": 1,
            "maxItems": 3,
        },
    }
    assert list(schema["$defs"]) == ["Span"]
    assert schema["$defs"]["Span"]["title"] == "Span"


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (Any, {}),
        (None, {"type": "null"}),
        (bool, {"type": "boolean"}),
        (
            Annotated[int, Ge(1), Ge(3), Le(9), Le(5)],
            {"type": "integer", "minimum": 3, "maximum": 5},
        ),
        (Literal["a"], {"const": "a"}),
        (Literal["a", 2, True] | None, {"enum": ["a", 2, True, None]}),
        (DTypeName | DType, {"enum": [d.value for d in DType]}),
        (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (Annotated[dict[str, Any], MinLen(1)], {"type": "object", "minProperties": 1}),
        (int | str, {"anyOf": [{"type": "integer"}, {"type": "string"}]}),
        (
            DeviceStr,
            {"type": "string", "pattern": "^(?:[a-z][a-z0-9_]*(?::(?:0|[1-9][0-9]*))?)$"},
        ),
        (
            UUIDStr | None,
            {
                "type": ["string", "null"],
                "pattern": "^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
            },
        ),
        (list[Span] | None, {"type": ["array", "null"], "items": {"$ref": "#/$defs/Span"}}),
        (Span | None, {"anyOf": [{"$ref": "#/$defs/Span"}, {"type": "null"}]}),
    ],
)
def test_each_form(tp: Any, expected: dict[str, Any]) -> None:
    schema = json_schema(tp)
    assert {key: value for key, value in schema.items() if key != "$defs"} == {
        "$schema": DIALECT,
        **expected,
    }


def test_stream_event_is_one_of_its_events_by_their_tag() -> None:
    schema = json_schema(StreamEvent)
    refs = {name: f"#/$defs/StreamEvent{name.title()}" for name in ("start", "delta", "end")}
    assert schema["oneOf"] == [{"$ref": ref} for ref in refs.values()]
    assert schema["discriminator"] == {"propertyName": "event", "mapping": refs}
    assert schema["$defs"]["StreamEventDelta"]["properties"]["event"] == {
        "const": "delta",
        "description": "Event tag.",
    }
    assert sorted(schema["$defs"]) == [
        "Error",
        "Metrics",
        "StreamEventDelta",
        "StreamEventEnd",
        "StreamEventStart",
        "Timestamps",
    ]


def test_protocol_types_closed_and_open() -> None:
    assert json_schema(KVHandle)["additionalProperties"] is False
    assert json_schema(KVHandle)["properties"]["device"]["pattern"].startswith("^(?:[a-z]")
    assert "additionalProperties" not in json_schema(ChatCompletionRequest)


def test_the_two_kv_handles_keep_their_wire_names() -> None:
    _, defs = schema_parts(list[KVHandle | type_by_name("kv.KVHandle")])
    assert sorted(defs) == ["KVHandle", "kv.KVHandle"]


def test_schema_parts_puts_definitions_where_the_caller_says() -> None:
    schema, defs = schema_parts(Span, lambda name: f"#/components/schemas/{name}")
    assert schema == {"$ref": "#/components/schemas/Span"}
    assert defs == {"Span": {k: v for k, v in json_schema(Span).items() if k != "$schema"}}


@pytest.mark.parametrize("name", type_names())
def test_every_type_passes_the_metaschema_and_documents_every_key(name: str) -> None:
    schema = json_schema(type_by_name(name))
    Draft202012Validator.check_schema(schema)
    for definition in [schema, *schema.get("$defs", {}).values()]:
        if definition.get("type") == "object" and "title" in definition:
            assert definition["description"], definition["title"]
            for key, prop in definition["properties"].items():
                assert prop["description"], (definition["title"], key)


def test_unsupported_forms_raise_type_error() -> None:
    with pytest.raises(TypeError, match="fixed-length tuples"):
        json_schema(tuple[int, str])
