"""The fast path: specialised Python source generated per type, compiled once and cached.

A compiled checker answers ``True`` only for valid values (it is sound); it may answer
``False`` for a valid value it cannot confirm cheaply (a ``dict`` subclass, a str enum member
where a plain ``str`` is expected, a sum of floats that overflows), and then the precise pass
decides. Any exception inside the generated code means "not confirmed".
"""

import math
import re
from collections.abc import Callable
from typing import Final

from ._model import (
    LOCK,
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
    is_unbounded,
)

__all__ = ["fast_checker", "field_scanner", "source_of"]

_MAX_INLINE_DEPTH: Final = 8
"""Nested TypedDicts inlined into their parent's code up to this depth; deeper ones are calls."""

_SOURCES: dict[int, str] = {}


def fast_checker(node: Node) -> Callable[[object], bool]:
    """The compiled checker of ``node``: ``True`` means valid; it never raises."""
    checker = node.fast
    if checker is None:
        with LOCK:
            checker = node.fast
            if checker is None:
                checker = node.fast = _Generator().compile(node)
    return checker


_SCANNERS: dict[int, Callable[[dict[str, object]], list[int]]] = {}


def field_scanner(node: TypedDictNode) -> Callable[[dict[str, object]], list[int]]:
    """For the precise pass: a compiled function listing the indexes of ``node.fields`` that are
    missing (if required) or not confirmed valid in a ``dict`` whose keys are exact ``str``.
    """
    scanner = _SCANNERS.get(id(node))
    if scanner is None:
        with LOCK:
            scanner = _SCANNERS.get(id(node))
            if scanner is None:
                scanner = _SCANNERS[id(node)] = _Generator().compile_scanner(node)
    return scanner


def source_of(node: Node) -> str:
    """The generated source of ``node``'s checker (for debugging and tests)."""
    fast_checker(node)
    return _SOURCES[id(node)]


class _Generator:
    def __init__(self) -> None:
        self.namespace: dict[str, object] = {
            "_isfinite": math.isfinite,
        }
        self.functions: list[str] = []
        self.typed_dicts: dict[int, str] = {}
        self.constants: dict[int, str] = {}
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: object, prefix: str = "_c") -> str:
        key = id(value)
        found = self.constants.get(key)
        if found is None:
            found = self.constants[key] = self.name(prefix)
            self.namespace[found] = value
        return found

    def compile(self, node: Node) -> Callable[[object], bool]:
        body = self.statements(node, "v", 2, ())
        lines = [
            "def _check(v):",
            "    try:",
            *body,
            "        return True",
            "    except Exception:",
            "        return False",
        ]
        source = "\n\n".join([*self.functions, "\n".join(lines)]) + "\n"
        code = compile(source, f"<sagellm_protocol validator of {_label(node)}>", "exec")
        exec(code, self.namespace)
        _SOURCES[id(node)] = source
        checker = self.namespace["_check"]
        assert callable(checker)
        return checker

    def compile_scanner(self, node: TypedDictNode) -> Callable[[dict[str, object]], list[int]]:
        missing = self.const(object(), "_missing")
        lines = ["def _scan(d):", "    bad = []"]
        for index, field in enumerate(node.fields):
            check = self.expr(field.node, "x")
            lines += [f"    x = d.get({field.name!r}, {missing})", f"    if x is {missing}:"]
            lines.append(f"        bad.append({index})" if field.required else "        pass")
            if check != "True":
                lines += [
                    "    else:",
                    "        try:",
                    f"            if not ({check}):",
                    f"                bad.append({index})",
                    "        except Exception:",
                    f"            bad.append({index})",
                ]
        lines.append("    return bad")
        source = "\n\n".join([*self.functions, "\n".join(lines)]) + "\n"
        exec(
            compile(source, f"<sagellm_protocol field scanner of {node.name}>", "exec"),
            self.namespace,
        )
        scanner = self.namespace["_scan"]
        assert callable(scanner)
        return scanner

    # Statements: fail with ``return False``.

    def statements(self, node: Node, var: str, indent: int, inlining: tuple[int, ...]) -> list[str]:
        pad = "    " * indent
        if isinstance(node, TypedDictNode) and self.inlinable(node, inlining):
            return self.typed_dict_body(node, var, indent, (*inlining, id(node)))
        if isinstance(node, UnionNode) and node.nullable and len(node.members) == 1:
            inner = self.statements(node.members[0], var, indent + 1, inlining)
            return [f"{pad}if {var} is not None:", *inner]
        if isinstance(node, ListNode | DictNode) and self.loopable(node, inlining):
            # A loop with the element's checks inlined: no call per element.
            element = self.name("_e")
            if isinstance(node, ListNode):
                kind = "tuple" if node.is_tuple else "list"
                head = f"type({var}) is not {kind}"
                iterate = var
            else:
                head = f"type({var}) is not dict or [*map(type, {var})].count(str) != len({var})"
                iterate = f"{var}.values()"
            if node.min_len is not None:
                head += f" or len({var}) < {node.min_len}"
            if node.max_len is not None:
                head += f" or len({var}) > {node.max_len}"
            item = node.item if isinstance(node, ListNode) else node.value
            return [
                f"{pad}if {head}:",
                f"{pad}    return False",
                f"{pad}for {element} in {iterate}:",
                *self.statements(item, element, indent + 1, inlining),
            ]
        check = self.expr(node, var)
        return [] if check == "True" else [f"{pad}if not ({check}):", f"{pad}    return False"]

    def loopable(self, node: ListNode | DictNode, inlining: tuple[int, ...]) -> bool:
        item = node.item if isinstance(node, ListNode) else node.value
        if isinstance(item, UnionNode) and item.nullable and len(item.members) == 1:
            item = item.members[0]
        return isinstance(item, TypedDictNode) and self.inlinable(item, inlining)

    def inlinable(self, node: TypedDictNode, inlining: tuple[int, ...]) -> bool:
        return (
            id(node) not in inlining
            and len(inlining) < _MAX_INLINE_DEPTH
            and not (is_unbounded(node))
        )

    def typed_dict_body(
        self, node: TypedDictNode, var: str, indent: int, inlining: tuple[int, ...]
    ) -> list[str]:
        pad = "    " * indent
        lines = [f"{pad}if type({var}) is not dict:", f"{pad}    return False"]
        if node.extra is None:
            declared = self.const(node.declared, "_keys")
            lines += [f"{pad}if not {var}.keys() <= {declared}:", f"{pad}    return False"]
        else:
            declared = self.const(node.declared, "_keys")
            # Undeclared keys (vendor extensions) are rare: check key types only then.
            lines += [
                f"{pad}if not ({var}.keys() <= {declared}"
                f" or [*map(type, {var})].count(str) == len({var})):",
                f"{pad}    return False",
            ]
            if not isinstance(node.extra, AnyNode):
                extra = self.predicate(node.extra)
                undeclared = f"[{var}[k] for k in {var}.keys() - {declared}]"
                lines += [
                    f"{pad}if not all(map({extra}, {undeclared})):",
                    f"{pad}    return False",
                ]
        for field in node.fields:
            item = self.name("_v")
            if field.required:
                lines.append(f"{pad}{item} = {var}[{field.name!r}]")
                lines += self.statements(field.node, item, indent, inlining)
            else:
                inner = self.statements(field.node, item, indent + 1, inlining)
                if inner:
                    lines += [
                        f"{pad}if {field.name!r} in {var}:",
                        f"{pad}    {item} = {var}[{field.name!r}]",
                        *inner,
                    ]
        for check in node.invariants:
            lines += [
                f"{pad}for _ in {self.const(check, '_inv')}({var}):",
                f"{pad}    return False",
            ]
        return lines

    def typed_dict_function(self, node: TypedDictNode) -> str:
        found = self.typed_dicts.get(id(node))
        if found is None:
            found = self.typed_dicts[id(node)] = self.name(f"_td_{node.name}_")
            body = self.typed_dict_body(node, "d", 1, (id(node),))
            self.functions.append("\n".join([f"def {found}(d):", *body, "    return True"]))
        return found

    def predicate(self, node: Node) -> str:
        """The name of a one-argument function checking ``node``."""
        if isinstance(node, TypedDictNode):
            return self.typed_dict_function(node)
        name = self.name("_p")
        self.functions.append(f"def {name}(x):\n    return {self.expr(node, 'x')}")
        return name

    # Expressions: true iff the value is confirmed valid.

    def expr(self, node: Node, x: str) -> str:
        if isinstance(node, AnyNode):
            return "True"
        if isinstance(node, NoneNode):
            return f"{x} is None"
        if isinstance(node, BoolNode):
            return f"({x} is True or {x} is False)"
        if isinstance(node, NumberNode):
            return self.number(node, x)
        if isinstance(node, StrNode):
            return self.string(node, x)
        if isinstance(node, ChoiceNode):
            return self.choice(node, x)
        if isinstance(node, ListNode):
            kind = "tuple" if node.is_tuple else "list"
            length = _length(x, node.min_len, node.max_len)
            return f"(type({x}) is {kind}{length}{self.items(node.item, x, x)})"
        if isinstance(node, DictNode):
            return (
                f"(type({x}) is dict and [*map(type, {x})].count(str) == len({x})"
                f"{_length(x, node.min_len, node.max_len)}"
                f"{self.items(node.value, f'{x}.values()', x)})"
            )
        if isinstance(node, TypedDictNode):
            return f"{self.typed_dict_function(node)}({x})"
        assert isinstance(node, UnionNode)
        return self.union(node, x)

    def number(self, node: NumberNode, x: str) -> str:
        multiple = [] if node.multiple_of is None else [f"{x} % {_literal(node.multiple_of)} == 0"]
        as_int = " and ".join(
            [f"type({x}) is int", *(f"{x} {op} {_literal(b)}" for op, b in node.bounds), *multiple]
        )
        if not node.is_float:
            return f"({as_int})"
        # Float-to-float comparisons (bounds as float literals) take CPython's fast path; the
        # default bounds ±1e999 (±inf) reject NaN and ±inf.
        lower = [f"{_float_literal(b)} {_flip(op)} {x}" for op, b in node.bounds if op[0] == ">"]
        upper = [f"{x} {op} {_float_literal(b)}" for op, b in node.bounds if op[0] == "<"]
        as_float = " and ".join(
            [
                f"type({x}) is float",
                *(lower or [f"-1e999 < {x}"]),
                *(upper or [f"{x} < 1e999"]),
                *multiple,
            ]
        )
        return f"(({as_float}) or ({as_int}))"

    def string(self, node: StrNode, x: str) -> str:
        parts = [f"type({x}) is str"]
        if node.min_len is not None:
            parts.append(f"len({x}) >= {node.min_len}")
        if node.max_len is not None:
            parts.append(f"len({x}) <= {node.max_len}")
        for fmt in node.formats:
            matcher = self.const(re.compile(fmt.pattern).fullmatch, "_fmt")
            parts.append(f"{matcher}({x}) is not None")
        return "(" + " and ".join(parts) + ")"

    def choice(self, node: ChoiceNode, x: str) -> str:
        parts: list[str] = []
        if len(node.strs) == 1:
            parts.append(f"(type({x}) is str and {x} == {next(iter(node.strs))!r})")
        elif node.strs:
            parts.append(f"(type({x}) is str and {x} in {self.const(node.strs, '_strs')})")
        if node.ints:
            parts.append(f"(type({x}) is int and {x} in {self.const(node.ints, '_ints')})")
        parts += [f"{x} is {value!r}" for value in node.bools]
        parts += [f"type({x}) is {self.const(cls, '_enum')}" for cls in node.enums]
        parts += [f"{x} is {self.const(member, '_member')}" for member in node.members]
        if node.none:
            parts.append(f"{x} is None")
        return "(" + " or ".join(parts) + ")" if parts else "False"

    def union(self, node: UnionNode, x: str) -> str:
        if node.tag is not None:
            dispatch = self.name("_by_tag")
            entries = ", ".join(
                f"{tag!r}: {self.typed_dict_function(m)}" for tag, m in node.by_tag.items()
            )
            self.functions.append(f"{dispatch} = {{{entries}}}")
            check = f"(type({x}) is dict and {dispatch}[{x}[{node.tag!r}]]({x}))"
        else:
            check = "(" + " or ".join(self.expr(m, x) for m in node.members) + ")"
        return f"({x} is None or {check})" if node.nullable else check

    def items(self, item: Node, items: str, container: str) -> str:
        """`` and <every element of the iterable expression ``items`` is valid>`` (or "")."""
        if isinstance(item, AnyNode):
            return ""
        size = f"len({container})"
        if isinstance(item, NumberNode) and item.multiple_of is None:
            types = self.name("_t")
            if item.is_float:
                text = (
                    f" and (({types} := [*map(type, {items})]).count(float) == {size}"
                    f" or {types}.count(float) + {types}.count(int) == {size})"
                    f" and _isfinite(sum({items}))"
                )
            else:
                text = f" and [*map(type, {items})].count(int) == {size}"
            for op, bound in item.bounds:
                pick = "min" if op in (">", ">=") else "max"
                text += f" and (not {container} or {pick}({items}) {op} {_literal(bound)})"
            return text
        if isinstance(item, StrNode) and not item.formats and not _has_length(item):
            return f" and [*map(type, {items})].count(str) == {size}"
        if (
            isinstance(item, ChoiceNode)
            and item.strs
            and not (item.ints or item.bools or item.none or item.members)
            and all(issubclass(cls, str) for cls in item.enums)
        ):
            types = self.name("_t")
            counts = " + ".join(
                [f"{types}.count(str)"]
                + [f"{types}.count({self.const(cls, '_enum')})" for cls in item.enums]
            )
            return (
                f" and (({types} := [*map(type, {items})]).count(str) == {size}"
                f" or {counts} == {size})"
                f" and {self.const(item.strs, '_strs')}.issuperset({items})"
            )
        return f" and all(map({self.predicate(item)}, {items}))"


def _has_length(node: StrNode) -> bool:
    return node.min_len is not None or node.max_len is not None


def _length(x: str, low: int | None, high: int | None) -> str:
    text = ""
    if low is not None:
        text += f" and len({x}) >= {low}"
    if high is not None:
        text += f" and len({x}) <= {high}"
    return text


def _literal(number: int | float) -> str:
    if isinstance(number, float) and not math.isfinite(number):
        return "1e999" if number > 0 else "-1e999"
    return repr(number)


def _float_literal(number: int | float) -> str:
    """``number`` as a float literal when that is exact (ints beyond 2**53 stay ints)."""
    if isinstance(number, int) and abs(number) <= 2**53:
        return repr(float(number))
    return _literal(number)


def _flip(op: str) -> str:
    return {">": "<", ">=": "<="}[op]


def _label(node: Node) -> str:
    return node.name if isinstance(node, TypedDictNode) else type(node).__name__
