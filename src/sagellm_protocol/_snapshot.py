"""The wire snapshot of the protocol and the breaking-change check between two snapshots.

The snapshot is one more walk over the analysed type tree: every protocol type by wire name,
each key with its required-ness, nullability, value type (constraints, formats, literal values),
default, whether the type is closed, the names of its invariants, and the side of the wire the
type travels on. :func:`diff` compares two snapshots and classifies every change by that side.
"""

import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, get_args

from typing_extensions import assert_never, is_protocol

from ._registry import WIRE_SIDES, Factory, WireSideName
from ._schema import _def_name
from ._tree.analyse import analyze, documentation
from ._tree.functions import type_hints
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
    children,
    kind_of,
)
from .validation._names import type_by_name, type_names
from .version import BACKWARD_COMPATIBLE_SINCE, FROZEN_INTERFACES, PROTOCOL_VERSION

__all__ = ["SNAPSHOT_FORMAT", "Change", "declared_sides", "diff", "reference", "snapshot"]

SNAPSHOT_FORMAT = 1
"""The version of the snapshot's own shape; bumped only if the shape changes."""

Snapshot = dict[str, Any]


def _named_nodes() -> tuple[dict[str, Node], dict[TypedDictNode, str]]:
    """Every protocol type's node by wire name, nested types without one by schema name."""
    nodes: dict[str, Node] = {name: analyze(type_by_name(name)) for name in type_names()}
    names: dict[TypedDictNode, str] = {}
    for name, node in nodes.items():
        if isinstance(node, TypedDictNode):
            names.setdefault(node, name)
    pending, seen = list(nodes.values()), set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for inner in children(current):
            if isinstance(inner, TypedDictNode) and inner not in names:
                name = names[inner] = _def_name(inner, taken=set(names.values()))
                nodes[name] = inner
            pending.append(inner)
    return nodes, names


def snapshot() -> Snapshot:
    """The wire contract of every protocol type, as plain JSON data (see docs/evolving.md)."""
    nodes, names = _named_nodes()
    types = {name: _type(node, names) for name, node in sorted(nodes.items())}
    for name, found in _sides(types, declared_sides(), _first_names(nodes, names)).items():
        # Declared nowhere: "both", the strictest reading (any narrowing or loosening breaks).
        types[name]["side"] = next(iter(found)) if len(found) == 1 else "both"
    return {
        "snapshot_format": SNAPSHOT_FORMAT,
        "protocol_version": PROTOCOL_VERSION,
        "frozen": sorted(FROZEN_INTERFACES),
        "backward_compatible_since": dict(sorted(BACKWARD_COMPATIBLE_SINCE.items())),
        "types": types,
    }


def _type(node: Node, names: Mapping[TypedDictNode, str]) -> dict[str, Any]:
    if not isinstance(node, TypedDictNode):
        nullable, value = _strip_null(node)
        return {"kind": "alias", "nullable": nullable, "type": _value(value, names)}
    keys: dict[str, Any] = {}
    for field in node.fields:
        nullable, value = _strip_null(field.node)
        entry: dict[str, Any] = {
            "required": field.required,
            "nullable": nullable,
            "type": _value(value, names),
        }
        if field.name in node.defaults:
            default = node.defaults[field.name]
            if isinstance(default, Factory):
                # Made at call time ("now", a new UUID, a fresh dict of the nested type's own
                # defaults): only that it is made is part of the contract.
                entry["default_factory"] = True
            else:
                entry["default"] = _json(default)
        keys[field.name] = entry
    out: dict[str, Any] = {"kind": "object", "closed": node.extra is None}
    if node.extra is not None and not isinstance(node.extra, AnyNode):
        out["extra_items"] = _value(node.extra, names)
    out["keys"] = dict(sorted(keys.items()))
    out["invariants"] = sorted(rule.name for rule in node.invariants)
    return out


def _json(value: object) -> object:
    """``value`` through JSON: enum members become their values, tuples lists."""
    return json.loads(json.dumps(value, default=str))


def _strip_null(node: Node) -> tuple[bool, Node | None]:
    """Whether ``node`` admits ``null``, and what else it admits (``None``: nothing else)."""
    if isinstance(node, NoneNode):
        return True, None
    if isinstance(node, ChoiceNode) and node.none:
        rest = ChoiceNode(
            node.strs,
            node.ints,
            node.bools,
            False,
            node.enum_classes,
            node.enum_members,
            node.shown_values,
            node.suggestions,
        )
        return True, rest
    if isinstance(node, UnionNode) and node.nullable:
        if len(node.options) == 1:
            return True, node.options[0]
        return True, UnionNode(node.options, False, node.tag, node.by_tag)
    return False, node


_BOUND_NAMES = {">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


def _value(node: Node | None, names: Mapping[TypedDictNode, str]) -> dict[str, Any]:
    if node is None:
        return {"type": "null"}
    match kind_of(node):
        case NoneNode():
            return {"type": "null"}
        case AnyNode():
            return {"type": "any"}
        case BoolNode():
            return {"type": "boolean"}
        case NumberNode() as number:
            out: dict[str, Any] = {"type": "number" if number.is_float else "integer"}
            for op, bound in number.bounds:
                key = _BOUND_NAMES[op]
                tighter = max if op in (">", ">=") else min
                out[key] = tighter(out[key], bound) if key in out else bound
            if number.multiple_of is not None:
                out["multiple_of"] = number.multiple_of
            return out
        case StrNode() as string:
            out = _lengths({"type": "string"}, string.min_len, string.max_len)
            if string.formats:
                out["formats"] = sorted(fmt.name for fmt in string.formats)
            return out
        case ChoiceNode() as choice:
            return {"type": "literal", "values": sorted(choice.shown_values, key=_order)}
        case ListNode() as sequence:
            items = _value(sequence.item, names)
            return _lengths({"type": "array", "items": items}, sequence.min_len, sequence.max_len)
        case DictNode() as mapping:
            values = _value(mapping.value, names)
            return _lengths({"type": "object", "values": values}, mapping.min_len, mapping.max_len)
        case TypedDictNode() as typed:
            return {"type": "ref", "name": names[typed]}
        case UnionNode() as union:
            options = sorted((_value(option, names) for option in union.options), key=_order)
            out = {"type": "union", "options": options}
            if union.tag is not None:
                out["tag"] = union.tag
            return out
        case unknown:
            assert_never(unknown)


def _order(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def _lengths(out: dict[str, Any], low: int | None, high: int | None) -> dict[str, Any]:
    if low is not None:
        out["min_length"] = low
    if high is not None:
        out["max_length"] = high
    return out


def _refs(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("type") == "ref":
            yield value["name"]
        for inner in value.values():
            yield from _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _refs(inner)


def declared_sides() -> dict[str, set[WireSideName]]:
    """The wire sides each type is declared on, by wire name (types declared nowhere left out).

    A parameter of a method of a ``typing.Protocol`` interface the package exports is
    request-side (the implementation receives it), its return value or yielded item
    response-side (the implementation emits it); :func:`register_wire_side` declares the rest.
    """
    forms: dict[object, list[str]] = {}  # a form has several names: StartEvent, StreamEventStart
    for name in type_names():
        forms.setdefault(_hashable(type_by_name(name)), []).append(name)
    declared: dict[str, set[WireSideName]] = {}
    for form, registered in WIRE_SIDES.items():
        for name in forms[_hashable(form)]:
            declared.setdefault(name, set()).add(registered)
    for interface in _interfaces():
        for member in vars(interface).values():
            function = member.fget if isinstance(member, property) else member
            function = getattr(function, "__func__", function)  # classmethod, staticmethod
            if not callable(function) or not hasattr(function, "__annotations__"):
                continue
            for parameter, hint in type_hints(function).items():
                side: WireSideName = "response" if parameter == "return" else "request"
                for name in _forms_in(hint, forms):
                    declared.setdefault(name, set()).add(side)
    return declared


def _interfaces() -> Iterator[type]:
    """Every ``typing.Protocol`` class the package's public modules export, where it is defined
    (a private module's protocols, such as the gateway's event converters, are no wire side)."""
    package = __name__.rpartition(".")[0]
    type_names()  # loads every module that exports a type
    for module_name in sorted(name for name in sys.modules if name.startswith(f"{package}.")):
        if any(part.startswith("_") for part in module_name.split(".")):
            continue
        module = sys.modules[module_name]
        for name in getattr(module, "__all__", ()):
            value = vars(module).get(name)
            if isinstance(value, type) and is_protocol(value) and value.__module__ == module_name:
                yield value


def _hashable(form: object) -> object:
    """``form`` as a dict key: TypedDicts and unions hash; anything else by identity."""
    try:
        hash(form)
    except TypeError:
        return id(form)
    return form


def _forms_in(hint: object, forms: Mapping[object, list[str]]) -> Iterator[str]:
    """The wire names of the protocol types ``hint`` mentions, at any depth."""
    names = forms.get(_hashable(hint))
    if names is not None:
        yield from names
        return
    for argument in get_args(hint):
        yield from _forms_in(argument, forms)


def _first_names(nodes: Mapping[str, Node], names: Mapping[TypedDictNode, str]) -> dict[str, str]:
    """Each name with the one references use: a TypedDict named twice (``StartEvent``,
    ``StreamEventStart``) is referred to by its first name."""
    return {
        name: names[node] if isinstance(node, TypedDictNode) else name
        for name, node in nodes.items()
    }


def _sides(
    types: Mapping[str, Any], declared: Mapping[str, set[WireSideName]], first: Mapping[str, str]
) -> dict[str, set[WireSideName]]:
    """Each type's sides: those declared for it and for every type that contains it (empty
    for a type nothing declares). ``first`` maps each name to the one references use."""
    sides: dict[str, set[WireSideName]] = {name: set() for name in types}
    for root, found in declared.items():
        stack, seen = [first[root]], set()
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                sides[current] |= found
                stack.extend(_refs(types[current]))
    return {name: sides[first[name]] for name in types}


# ---------------------------------------------------------------------------------------------
# The breaking-change check


class Change(NamedTuple):
    """One difference between two snapshots, classified."""

    type: str
    """The wire name of the type that changed."""
    key: str | None
    """The key that changed (``"stop[]"`` for list items), ``None`` for the type itself."""
    what: str
    """What changed, ``"optional key made required"``."""
    breaking: bool
    """Whether a peer built against the old snapshot can fail against the new one."""
    frozen: bool
    """Whether the type is a frozen interface or is used by one."""

    def line(self) -> str:
        """``Request.max_tokens: breaking: optional key made required``."""
        where = self.type if self.key is None else f"{self.type}.{self.key}"
        return f"{where}: {'breaking' if self.breaking else 'compatible'}: {self.what}"


# How each class of change lands on each side: (breaks request-side, breaks response-side).
_NARROWS = (True, False)
"""Fewer values are accepted: an old sender's value may be refused by the new receiver."""
_WIDENS = (False, False)
"""More values are accepted (a wider range, a new literal value, an invariant removed)."""
_LOOSENS = (False, True)
"""A value may now be missing, ``null`` or of another shape: old readers of a response break."""
_BREAKS = (True, True)
_ADDS = (False, False)


Found = tuple[str | None, str, tuple[bool, bool]]
"""A change of one type: the key (``None``: the type), what changed, how it lands per side."""


def diff(old: object, new: object) -> list[Change]:
    """Every change from snapshot ``old`` to ``new``, classified; raises ``ValueError`` on
    a document that is not a snapshot."""
    old_types, new_types = _types(old, "OLD"), _types(new, "NEW")
    assert isinstance(old, dict)  # _types says so
    frozen_roots = {str(name) for name in old.get("frozen", ())} | set(
        old.get("backward_compatible_since", {})
    )
    frozen = _reached({n for n in old_types if n.rsplit(".", 1)[-1] in frozen_roots}, old_types)
    changes: list[Change] = []
    for name in sorted(old_types.keys() | new_types.keys()):
        before, after = old_types.get(name), new_types.get(name)
        side = (before or after or {}).get("side", "both")

        found: Iterator[Found]
        if before is None:
            found = (change for change in [(None, "new type", _ADDS)])
        elif after is None:
            found = (change for change in [(None, "type removed", _BREAKS)])
        else:
            found = _type_changes(before, after)
        for key, what, (on_request, on_response) in found:
            breaks = (on_request and side != "response") or (on_response and side != "request")
            changes.append(Change(name, key, what, breaks, name in frozen))
    return changes


def _types(document: object, which: str) -> dict[str, Any]:
    if not isinstance(document, dict) or not isinstance(document.get("types"), dict):
        raise ValueError(f"{which}: not a protocol snapshot: no 'types' object")
    if document.get("snapshot_format") != SNAPSHOT_FORMAT:
        raise ValueError(
            f"{which}: snapshot_format {document.get('snapshot_format')!r}, "
            f"expected {SNAPSHOT_FORMAT}"
        )
    types: dict[str, Any] = document["types"]
    return types


def _reached(roots: set[str], types: Mapping[str, Any]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        current = stack.pop()
        if current not in seen and current in types:
            seen.add(current)
            stack.extend(_refs(types[current]))
    return seen


def _type_changes(before: dict[str, Any], after: dict[str, Any]) -> Iterator[Found]:
    if before.get("kind") != after.get("kind"):
        yield None, f"kind changed from {before.get('kind')} to {after.get('kind')}", _BREAKS
        return
    if before["kind"] == "alias":
        yield from _key_changes(None, before, after)
        return
    if before["closed"] and not after["closed"]:
        yield None, "closed type opened", _WIDENS
    elif after["closed"] and not before["closed"]:
        yield None, "open type closed", _NARROWS
    old_keys, new_keys = before["keys"], after["keys"]
    for key in sorted(old_keys.keys() | new_keys.keys()):
        if key not in new_keys:
            yield key, "key removed", _BREAKS
        elif key not in old_keys:
            if new_keys[key]["required"]:
                yield key, "new required key", _NARROWS
            else:
                yield key, "new optional key", _ADDS
        else:
            yield from _key_changes(key, old_keys[key], new_keys[key])
    for rule in sorted(set(after["invariants"]) - set(before["invariants"])):
        yield None, f"new invariant {rule}", _NARROWS
    for rule in sorted(set(before["invariants"]) - set(after["invariants"])):
        yield None, f"invariant {rule} removed", _WIDENS


def _key_changes(key: str | None, before: dict[str, Any], after: dict[str, Any]) -> Iterator[Found]:
    if before.get("required") is False and after.get("required") is True:
        yield key, "optional key made required", _NARROWS
    elif before.get("required") is True and after.get("required") is False:
        yield key, "required key made optional", _LOOSENS
    if before["nullable"] and not after["nullable"]:
        yield key, "null no longer allowed", _NARROWS
    elif after["nullable"] and not before["nullable"]:
        yield key, "null now allowed", _LOOSENS
    for default in ("default", "default_factory"):
        if before.get(default) != after.get(default):
            yield (
                key,
                f"{default} changed from {_show(before, default)} to " + _show(after, default),
                _NARROWS,
            )
    yield from _value_changes(key, before["type"], after["type"])


def _show(entry: Mapping[str, Any], name: str) -> str:
    return json.dumps(entry[name]) if name in entry else "none"


def _value_changes(
    key: str | None, before: dict[str, Any], after: dict[str, Any]
) -> Iterator[Found]:
    kind, new_kind = before["type"], after["type"]
    if kind != new_kind:
        if kind == "integer" and new_kind == "number":
            yield key, "value type widened from integer to number", _LOOSENS
        elif kind == "number" and new_kind == "integer":
            yield key, "value type narrowed from number to integer", _NARROWS
        elif new_kind == "union" and before in after["options"]:
            yield key, f"value type widened from {_brief(before)} to {_brief(after)}", _LOOSENS
        elif kind == "union" and after in before["options"]:
            yield key, f"value type narrowed from {_brief(before)} to {_brief(after)}", _NARROWS
        else:
            yield key, f"value type changed from {_brief(before)} to {_brief(after)}", _BREAKS
        return
    if kind in ("integer", "number"):
        yield from _range(key, "range", before, after, ("gt", "ge"), ("lt", "le"))
        if before.get("multiple_of") != after.get("multiple_of"):
            yield key, "multiple_of changed", _BREAKS
    if kind in ("string", "array", "object"):
        yield from _range(key, "length", before, after, ("", "min_length"), ("", "max_length"))
    if kind == "string":
        old_formats, new_formats = set(before.get("formats", ())), set(after.get("formats", ()))
        for fmt in sorted(new_formats - old_formats):
            yield key, f"format {fmt} added", _NARROWS
        for fmt in sorted(old_formats - new_formats):
            yield key, f"format {fmt} removed", _WIDENS
    elif kind == "literal":
        old_values, new_values = before["values"], after["values"]
        for value in old_values:
            if value not in new_values:
                yield key, f"literal value {json.dumps(value)} removed", _NARROWS
        for value in new_values:
            if value not in old_values:
                yield key, f"literal value {json.dumps(value)} added", _WIDENS
    elif kind == "array":
        yield from _value_changes(f"{key or ''}[]", before["items"], after["items"])
    elif kind == "object":
        yield from _value_changes(f"{key or ''}{{}}", before["values"], after["values"])
    elif kind == "ref" and before["name"] != after["name"]:
        yield key, f"value type changed from {before['name']} to {after['name']}", _BREAKS
    elif kind == "union":
        old_options, new_options = before["options"], after["options"]
        for option in old_options:
            if option not in new_options:
                yield key, f"union option {_brief(option)} removed", _NARROWS
        for option in new_options:
            if option not in old_options:
                yield key, f"union option {_brief(option)} added", _LOOSENS


def _brief(value: Mapping[str, Any]) -> str:
    if value["type"] == "ref":
        return str(value["name"])
    if value["type"] == "union":
        return " | ".join(_brief(option) for option in value["options"])
    return str(value["type"])


def _range(
    key: str | None,
    what: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    low: tuple[str, str],
    high: tuple[str, str],
) -> Iterator[Found]:
    old, new = _interval(before, low, high), _interval(after, low, high)
    if old == new:
        return
    (old_low, old_high), (new_low, new_high) = old, new
    narrower = _tighter(new_low, old_low, lower=True) or _tighter(new_high, old_high, lower=False)
    wider = _tighter(old_low, new_low, lower=True) or _tighter(old_high, new_high, lower=False)
    shown = f"{what} {_show_interval(old)} -> {_show_interval(new)}"
    if narrower:
        yield key, f"{what} narrowed: {shown.split(' ', 1)[1]}", _NARROWS
    elif wider:
        yield key, f"{what} widened: {shown.split(' ', 1)[1]}", _WIDENS


Edge = tuple[float, bool] | None
"""A bound and whether it is inclusive; ``None``: unbounded."""


def _interval(entry: Mapping[str, Any], low: tuple[str, str], high: tuple[str, str]) -> Any:
    def edge(names: tuple[str, str]) -> Edge:
        exclusive, inclusive = names
        if exclusive and exclusive in entry:
            return (entry[exclusive], False)
        if inclusive in entry:
            return (entry[inclusive], True)
        return None

    return edge(low), edge(high)


def _tighter(a: Edge, b: Edge, *, lower: bool) -> bool:
    """Whether bound ``a`` admits fewer values than ``b``."""
    if a is None:
        return False
    if b is None:
        return True
    if a[0] != b[0]:
        return a[0] > b[0] if lower else a[0] < b[0]
    return b[1] and not a[1]


def _show_interval(interval: tuple[Edge, Edge]) -> str:
    low, high = interval
    left = "(-inf" if low is None else ("[" if low[1] else "(") + _num(low[0])
    right = "inf)" if high is None else _num(high[0]) + ("]" if high[1] else ")")
    return f"{left}, {right}"


def _num(value: float) -> str:
    return json.dumps(value)


# ---------------------------------------------------------------------------------------------
# The protocol reference: the snapshot, with each type's and key's docstrings, as Markdown


def reference() -> str:
    """``docs/protocol.md``: one section per type, from the snapshot and the docstrings."""
    nodes, _ = _named_nodes()
    types = snapshot()["types"]
    used_by: dict[str, set[str]] = {name: set() for name in types}
    for name, entry in types.items():
        for inner in _refs(entry):
            if inner != name:
                used_by[inner].add(name)
    out = [
        f"# sageLLM Protocol v{PROTOCOL_VERSION} reference",
        "",
        "Generated from the type tree by `sagellm-protocol reference > docs/protocol.md`; "
        "do not edit. Frozen interfaces are marked *frozen*: their keys may only be added to "
        "(see [Evolving the protocol](evolving.md)).",
        "",
        "Types: " + ", ".join(f"[{name}](#{_anchor(name)})" for name in types),
        "",
    ]
    for name, entry in types.items():
        node = nodes[name]
        frozen = " *frozen*" if name.rsplit(".", 1)[-1] in FROZEN_INTERFACES else ""
        out += [f"## {name}", ""]
        if entry["kind"] == "alias":
            null = " or null" if entry["nullable"] else ""
            out += [f"{_brief_type(entry['type'])}{null}.{frozen}", ""]
        else:
            assert isinstance(node, TypedDictNode)
            doc, key_docs = documentation(node)
            if doc:
                out += [doc, ""]
            shape = "closed (unknown keys are rejected)" if entry["closed"] else "open"
            out += [f"{_SIDES[entry['side']]}; {shape}.{frozen}", ""]
            out += [
                "| key | value | required | null | default | meaning |",
                "|---|---|---|---|---|---|",
            ]
            for key, field in entry["keys"].items():
                default = (
                    "made per value"
                    if field.get("default_factory")
                    else f"`{json.dumps(field['default'])}`"
                    if "default" in field
                    else ""
                )
                meaning = " ".join(key_docs.get(key, "").split()).replace("|", "\\|")
                out.append(
                    f"| `{key}` | {_brief_type(field['type'])} | "
                    f"{'yes' if field['required'] else 'no'} | "
                    f"{'yes' if field['nullable'] else 'no'} | {default} | {meaning} |"
                )
            out.append("")
            if node.invariants:
                out += ["Invariants:", ""]
                out += [f"- `{rule.name}`: {rule.description}" for rule in node.invariants]
                out.append("")
        users = sorted(used_by[name])
        out += ["Used by: " + (", ".join(f"[{u}](#{_anchor(u)})" for u in users) or "none"), ""]
    return "\n".join(out)


_SIDES = {
    "request": "Received by the engine (request-side)",
    "response": "Emitted by the engine (response-side)",
    "both": "Used in requests and responses (both sides)",
}


def _anchor(name: str) -> str:
    return name.lower().replace(".", "")


def _brief_type(value: Mapping[str, Any]) -> str:
    kind = value["type"]
    if kind == "ref":
        return f"[{value['name']}](#{_anchor(value['name'])})"
    if kind == "union":
        return " or ".join(_brief_type(option) for option in value["options"])
    if kind == "literal":
        return " \\| ".join(f"`{json.dumps(v)}`" for v in value["values"])
    if kind == "array":
        text = f"list of {_brief_type(value['items'])}"
    elif kind == "object":
        text = (
            "object"
            if value["values"]["type"] == "any"
            else (f"object of {_brief_type(value['values'])}")
        )
    else:
        text = kind
    facts = [f"{op} {value[name]}" for name, op in _SHOWN if name in value]
    facts += [f"format {fmt}" for fmt in value.get("formats", ())]
    return f"{text} ({', '.join(facts)})" if facts else text


_SHOWN = (
    ("gt", ">"),
    ("ge", ">="),
    ("lt", "<"),
    ("le", "<="),
    ("multiple_of", "multiple of"),
    ("min_length", "length >="),
    ("max_length", "length <="),
)
