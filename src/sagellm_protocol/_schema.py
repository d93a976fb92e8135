"""JSON Schema (draft 2020-12) of a type form: one more walk over the analysed type tree.

What JSON Schema cannot say is documented in the schema rather than dropped: cross-field
invariants are listed under ``x-invariants`` of their type, with their docstrings, and the rules
of a stream of the type's events under the document's ``x-stream-rules``.
"""

import json
from collections.abc import Callable
from typing import Any

from typing_extensions import assert_never

from ._registry import STREAM_RULES, Factory
from ._tree.analyse import analyze, documentation
from ._tree.nodes import (
    AnyNode,
    BoolNode,
    ChoiceNode,
    DictNode,
    ListNode,
    Node,
    NoneNode,
    NumberNode,
    StrNode,
    TypedDictNode,
    UnionNode,
    kind_of,
)
from .validation._names import _namespace

__all__ = ["DIALECT", "json_schema", "schema_parts"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"

JSONSchema = dict[str, Any]

_BOUND_KEYWORDS = {
    ">": "exclusiveMinimum",
    ">=": "minimum",
    "<": "exclusiveMaximum",
    "<=": "maximum",
}


def _local_ref(name: str) -> str:
    return f"#/$defs/{name}"


def json_schema(tp: Any) -> JSONSchema:
    """A self-contained JSON Schema (draft 2020-12) of ``tp``: nested types under ``$defs``.

    A TypedDict's own schema is the document itself (``"$ref": "#"`` where it recurs); raises
    ``TypeError`` for a type form validation does not support.
    """
    node = analyze(tp)
    walker = _Walker(_local_ref, root=node if isinstance(node, TypedDictNode) else None)
    body = walker.typed_dict(node) if isinstance(node, TypedDictNode) else walker.schema(node)
    document: JSONSchema = {"$schema": DIALECT, **body}
    try:
        stream = STREAM_RULES.get(tp)
    except TypeError:  # an unhashable type form has no stream rules
        stream = None
    if stream is not None:
        document["x-stream-rules"] = {rule.name: rule.description for rule in stream.rules}
    if walker.defs:
        document["$defs"] = dict(sorted(walker.defs.items()))
    return document


def schema_parts(
    tp: Any, ref: Callable[[str], str] = _local_ref
) -> tuple[JSONSchema, dict[str, JSONSchema]]:
    """``tp``'s schema and the definitions it refers to by name; ``ref(name)`` is each ``$ref``.

    For documents that keep definitions elsewhere (OpenAPI's ``#/components/schemas/…``).
    """
    walker = _Walker(ref, root=None)
    return walker.schema(analyze(tp)), walker.defs


class _Walker:
    def __init__(self, ref: Callable[[str], str], root: TypedDictNode | None) -> None:
        self.make_ref = ref
        self.root = root
        self.defs: dict[str, JSONSchema] = {}
        self.names: dict[TypedDictNode, str] = {}

    def schema(self, node: Node) -> JSONSchema:
        match kind_of(node):
            case AnyNode():
                return {}
            case NoneNode():
                return {"type": "null"}
            case BoolNode():
                return {"type": "boolean"}
            case NumberNode() as number:
                return _number(number)
            case StrNode() as string:
                return _string(string)
            case ChoiceNode() as choice:
                values = [*choice.shown_values, *([None] * choice.none)]
                return {"const": values[0]} if len(values) == 1 else {"enum": values}
            case ListNode() as sequence:
                out: JSONSchema = {"type": "array"}
                if not isinstance(sequence.item, AnyNode):
                    out["items"] = self.schema(sequence.item)
                return _lengths(out, sequence.min_len, sequence.max_len, "Items")
            case DictNode() as mapping:
                out = {"type": "object"}
                if not isinstance(mapping.value, AnyNode):
                    out["additionalProperties"] = self.schema(mapping.value)
                return _lengths(out, mapping.min_len, mapping.max_len, "Properties")
            case TypedDictNode() as typed:
                return {"$ref": self.ref(typed)}
            case UnionNode() as union:
                return self.union(union)
            case unknown:
                assert_never(unknown)

    def ref(self, node: TypedDictNode) -> str:
        if node is self.root:
            return "#"
        name = self.names.get(node)
        if name is None:
            name = self.names[node] = _def_name(node, taken=set(self.names.values()))
            self.defs[name] = {}  # reserved first: a recursive type refers to itself
            self.defs[name] = self.typed_dict(node)
        return self.make_ref(name)

    def typed_dict(self, node: TypedDictNode) -> JSONSchema:
        doc, key_docs = documentation(node)
        out: JSONSchema = {"type": "object", "title": node.name}
        if doc:
            out["description"] = doc
        properties: JSONSchema = {}
        for field in node.fields:
            prop = self.schema(field.node)
            if field.name in key_docs:
                prop = {**prop, "description": key_docs[field.name]}
            default = node.defaults.get(field.name)
            if field.name in node.defaults and not isinstance(default, Factory):
                # Through JSON: enum members become their values, tuples lists.
                prop = {**prop, "default": json.loads(json.dumps(default))}
            properties[field.name] = prop
        out["properties"] = properties
        required = [field.name for field in node.fields if field.required]
        if required:
            out["required"] = required
        if node.extra is None:
            out["additionalProperties"] = False
        elif not isinstance(node.extra, AnyNode):
            out["additionalProperties"] = self.schema(node.extra)
        if node.invariants:
            out["x-invariants"] = {rule.name: rule.description for rule in node.invariants}
        return out

    def union(self, node: UnionNode) -> JSONSchema:
        options = [self.schema(option) for option in node.options]
        if node.tag is not None:
            mapping = {
                tag: self.ref(option)
                for tag, option in node.by_tag.items()
                if type(tag) is str  # str enum members share their value's entry
            }
            out: JSONSchema = {
                "oneOf": options,
                "discriminator": {"propertyName": node.tag, "mapping": mapping},
            }
            return {"anyOf": [out, {"type": "null"}]} if node.nullable else out
        if node.nullable:
            if len(options) == 1 and isinstance(options[0].get("type"), str):
                return {**options[0], "type": [options[0]["type"], "null"]}
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}


def _number(node: NumberNode) -> JSONSchema:
    out: JSONSchema = {"type": "number" if node.is_float else "integer"}
    for op, bound in node.bounds:
        keyword = _BOUND_KEYWORDS[op]
        if keyword in out:  # two bounds on one side: the tighter one holds
            tighter = max if op in (">", ">=") else min
            bound = tighter(out[keyword], bound)
        out[keyword] = bound
    if node.multiple_of is not None:
        out["multipleOf"] = node.multiple_of
    return out


def _string(node: StrNode) -> JSONSchema:
    out = _lengths({"type": "string"}, node.min_len, node.max_len, "Length")
    # A format's pattern is a full match; JSON Schema's ``pattern`` searches, hence anchors.
    patterns = [f"^(?:{fmt.pattern})$" for fmt in node.formats]
    if len(patterns) == 1:
        out["pattern"] = patterns[0]
    elif patterns:
        out["allOf"] = [{"pattern": pattern} for pattern in patterns]
    return out


def _lengths(out: JSONSchema, low: int | None, high: int | None, what: str) -> JSONSchema:
    if low is not None:
        out[f"min{what}"] = low
    if high is not None:
        out[f"max{what}"] = high
    return out


def _def_name(node: TypedDictNode, taken: set[str]) -> str:
    """The type's wire name (``"Request"``, ``"kv.KVHandle"``); module-qualified if taken."""
    namespace = _namespace(node.cls.__module__)
    name = f"{namespace}.{node.name}" if namespace else node.name
    return name if name not in taken else f"{node.cls.__module__}.{node.cls.__qualname__}"
