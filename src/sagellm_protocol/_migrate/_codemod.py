"""One file's rewrite: LibCST keeps formatting and comments; mypy's types (the oracle) say which
expressions hold protocol values. A unit (a top-level function, a method of a top-level class,
or the rest of the module) is rewritten whole or not at all."""

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Final, TypeVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ._imports import add_imports
from ._names import Protocol
from ._oracle import Seen, Span
from ._units import MODULE, UnitTransformer

__all__ = ["Finding", "Rewrite", "rewrite"]

_PACKAGE: Final = "sagellm_protocol"
_DUMPS: Final = frozenset({"model_dump", "dict"})
_VALIDATORS: Final = frozenset({"model_validate", "parse_obj", "from_dict"})
_PYDANTIC: Final = frozenset(
    {"model_dump", "model_dump_json", "model_copy", "model_validate", "model_fields", "dict"}
)
# What a TypedDict value answers by attribute: reading these is no protocol access.
_DICT_ATTRIBUTES: Final = frozenset(dir(dict)) - _PYDANTIC
_MAPPINGS: Final = frozenset({"dict", "Mapping", "MutableMapping"})
# Where `"k" in x` needs no parentheses in place of hasattr(x, "k").
_BARE: Final = (
    cst.If,
    cst.While,
    cst.BooleanOperation,
    cst.IfExp,
    cst.Assert,
    cst.Return,
    cst.Assign,
    cst.AnnAssign,
    cst.Arg,
    cst.Expr,
)


@dataclasses.dataclass(frozen=True)
class Finding:
    """One rewrite done, or one pattern reported for a hand edit."""

    line: int
    column: int
    code: str
    message: str


@dataclasses.dataclass
class Rewrite:
    """One file's result: the new text, the rewrites done, the reports, and the units that
    cannot be rewritten whole (with why, by line)."""

    code: str
    done: list[Finding]
    reports: list[Finding]
    blocked: dict[str, list[Finding]]


def _span(where: CodeRange) -> Span:
    return (where.start.line, where.start.column, where.end.line, where.end.column)


def _string(text: str) -> cst.SimpleString:
    return cst.SimpleString(repr(text).replace("'", '"') if '"' not in text else repr(text))


def _name_of(node: cst.BaseExpression) -> str | None:
    return node.value if isinstance(node, cst.Name) else None


def _literal(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    return None


def _dotted(node: cst.BaseExpression | None) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _is_mapping(node: cst.BaseExpression) -> bool:
    """Whether ``node`` names ``dict``/``Mapping`` (or a tuple holding one)."""
    if isinstance(node, cst.Tuple):
        return any(_is_mapping(element.value) for element in node.elements)
    name = node.attr.value if isinstance(node, cst.Attribute) else _name_of(node)
    return name in _MAPPINGS


class _Rewriter(UnitTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, protocol: Protocol, seen: Mapping[Span, Seen], frozen: set[str]) -> None:
        super().__init__()
        self.protocol = protocol
        self.seen = seen
        self.frozen = frozen
        self.imported: dict[str, str] = {}  # local name -> protocol type name
        self.findings: list[Finding] = []
        self.reports: list[Finding] = []
        self.quotes: list[str] = []  # the f-strings we are inside: their quote characters
        self.unit = MODULE
        self.unit_lines: dict[str, int] = {}
        self.done: dict[str, list[Finding]] = defaultdict(list)
        self.blockers: dict[str, list[Finding]] = defaultdict(list)
        self.needs: dict[str, set[str]] = defaultdict(set)
        self.handles: set[str] = set()  # units that touch protocol values
        # reads on values of unknown type: the finding, the receiver, whether by getattr()
        self.unknown: dict[str, list[tuple[Finding, str, bool]]] = defaultdict(list)
        self.imports_package = False
        self.path: list[cst.CSTNode] = []  # the nodes from the module down to this one
        self.assigned: dict[str, set[str]] = defaultdict(set)  # names given protocol values
        self.in_checks: set[int] = set()  # the `"k" in x` we wrote for hasattr()
        # setattr(x, "k", v) statements, by the call: x["k"] = v replaces the statement
        self.setters: dict[int, tuple[cst.BaseExpression, cst.SimpleString, cst.BaseExpression]]
        self.setters = {}

    # Parents (LibCST's ParentNodeProvider costs a walk of its own)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.path.append(node)
        return super().on_visit(node)

    def on_leave(  # type: ignore[override]  # the same union, spelled for any node
        self, original: cst.CSTNode, updated: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        result = super().on_leave(original, updated)
        self.path.pop()
        return result

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The parent of ``node``, the node being left."""
        return self.path[-2] if len(self.path) > 1 and self.path[-1] is node else None

    # Units

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        unit = self.unit_of(node)
        if unit is not None:
            self.unit = unit
            self.unit_lines[unit] = self._at(node.name).start.line
        super().visit_FunctionDef(node)

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        super().leave_FunctionDef(original, updated)
        if self.functions:
            return updated
        unit, self.unit = self.unit, MODULE
        return original if unit in self.frozen else updated

    # f-strings

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.quotes.append(node.quote)

    def leave_FormattedString(
        self, original: cst.FormattedString, updated: cst.FormattedString
    ) -> cst.FormattedString:
        self.quotes.pop()
        return updated

    def _key(self, text: str) -> cst.SimpleString:
        # Before Python 3.12 an f-string cannot hold its own quote character
        if self.quotes and '"' in self.quotes[-1]:
            return cst.SimpleString(repr(text) if "'" not in text else f'"{text}"')
        return _string(text)

    # Where things are, what they hold

    def _at(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    def _finding(self, node: cst.CSTNode, code: str, message: str) -> Finding:
        where = self._at(node).start
        return Finding(where.line, where.column + 1, code, message)

    def _done(self, node: cst.CSTNode, code: str, message: str) -> None:
        self.handles.add(self.unit)
        self.done[self.unit].append(self._finding(node, code, message))

    def _report(self, node: cst.CSTNode, code: str, message: str, *, blocks: bool) -> None:
        found = self._finding(node, code, message)
        self.reports.append(found)
        if blocks:
            self.blockers[self.unit].append(found)

    def _holds(self, node: cst.BaseExpression) -> Seen:
        seen = self.seen.get(_span(self._at(node)), Seen())
        if seen.types:
            self.handles.add(self.unit)
        return seen

    def _protocol_type(self, node: cst.BaseExpression) -> str | None:
        name = _name_of(node)
        if name is None:
            return None
        real = self.imported.get(name)
        if real in self.protocol.typed_dicts:
            self.handles.add(self.unit)
            return real
        return None

    def _need(self, name: str) -> None:
        self.needs[self.unit].add(name)

    # Imports (PM001, PM105)

    def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import:
        names = []
        for before, alias in zip(original.names, updated.names, strict=True):
            module = _dotted(alias.name)
            self.imports_package |= module.split(".")[0] == _PACKAGE
            if not self.protocol.is_old_module(module):
                names.append(alias)
            elif alias.asname is None:  # its uses spell the module out: no safe rewrite
                message = f"import {module}: no such module here; import {_PACKAGE}"
                self._report(before, "PM105", message, blocks=False)
                names.append(alias)
            else:
                self.findings.append(
                    self._finding(before, "PM001", f"import {module} -> import {_PACKAGE}")
                )
                names.append(alias.with_changes(name=cst.Name(_PACKAGE)))
        return updated.with_changes(names=names)

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        module = _dotted(updated.module)
        if updated.relative or module.split(".")[0] != _PACKAGE:
            return updated
        self.imports_package = True
        if isinstance(original.names, cst.ImportStar):
            return updated
        old = self.protocol.is_old_module(module, [_dotted(a.name) for a in original.names])
        for alias in original.names:
            name = _dotted(alias.name)
            local = alias.asname.name if alias.asname else alias.name
            if isinstance(local, cst.Name):
                self.imported[local.value] = name
            if old and name not in self.protocol.public:
                message = f"{module} exported {name}; {_PACKAGE} has no {name}"
                self._report(alias, "PM105", message, blocks=False)
        if not old:
            return updated
        self.findings.append(self._finding(original, "PM001", f"from {module} -> from {_PACKAGE}"))
        return updated.with_changes(module=cst.Name(_PACKAGE))

    # Assignments: which names a unit gives protocol values (for its unknown reads)

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if (
            isinstance(value, cst.Call)
            and (self._protocol_type(value.func) or self._validator_owner(value.func))
        ) or self._holds(value).types:
            self.assigned[self.unit].update(_dotted(t.target) for t in node.targets)

    def _validator_owner(self, func: cst.BaseExpression) -> str | None:
        if isinstance(func, cst.Attribute) and func.attr.value in _VALIDATORS:
            return self._protocol_type(func.value)
        return None

    # Calls (PM002, PM004-PM009, PM101-PM103, PM106, PM108)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        func = updated.func
        if (type_name := self._protocol_type(func)) is not None:
            return self._construct(original, updated, type_name)
        function = _name_of(func)
        if function == "isinstance" and len(updated.args) == 2:
            return self._isinstance(original, updated)
        if function in {"hasattr", "getattr", "setattr"} and len(updated.args) >= 2:
            return self._duck(original, updated, function)
        if isinstance(func, cst.Attribute):
            assert isinstance(original.func, cst.Attribute)
            method = func.attr.value
            if method in _VALIDATORS and (owner := self._protocol_type(func.value)):
                return self._validator(original, updated, owner, method)
            seen = self._holds(original.func.value)
            if seen.types and method not in _DICT_ATTRIBUTES and method not in self.protocol.keys:
                return self._method(original, updated, func.value, method, seen.types[0])
        return updated

    def _construct(self, original: cst.Call, updated: cst.Call, type_name: str) -> cst.Call:
        if any(arg.keyword is None and arg.star != "**" for arg in updated.args):
            self._report(
                original,
                "PM106",
                f"{type_name}(...) with positional arguments: write "
                f"make({type_name}, {{...}}) by hand",
                blocks=True,
            )
            return updated
        elements: list[cst.BaseDictElement] = []
        given = {arg.keyword.value for arg in updated.args if arg.keyword is not None}
        for key, value in self.protocol.tags(type_name):
            if key not in given:
                elements.append(cst.DictElement(_string(key), _string(value)))
        space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        elements = [element.with_changes(comma=space) for element in elements]
        for arg in updated.args:  # each argument's comma keeps the line breaks of the call
            if arg.keyword is None:
                elements.append(cst.StarredDictElement(arg.value, comma=arg.comma))
            else:
                quoted = _string(arg.keyword.value)
                elements.append(cst.DictElement(quoted, arg.value, comma=arg.comma))
        closing = updated.args[-1].whitespace_after_arg if updated.args else None
        fields = cst.Dict(
            elements,
            lbrace=cst.LeftCurlyBrace(whitespace_after=updated.whitespace_before_args),
            rbrace=cst.RightCurlyBrace(whitespace_before=closing or cst.SimpleWhitespace("")),
        )
        self._need("make")
        self._done(original, "PM002", f"{type_name}(...) -> make({type_name}, {{...}})")
        return self._call("make", updated.func, fields)

    def _isinstance(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        value, kind = updated.args
        type_name = self._protocol_type(kind.value)
        if type_name is None:
            if _is_mapping(kind.value):
                self._dispatch(original, original.args[0].value)
            return updated
        self._need("is_valid")
        self._done(original, "PM008", f"isinstance(x, {type_name}) -> is_valid({type_name}, x)")
        return self._call("is_valid", kind.value, value.value)

    def leave_Comparison(
        self, original: cst.Comparison, updated: cst.Comparison
    ) -> cst.BaseExpression:
        left = original.left
        if (
            isinstance(left, cst.Call)
            and _name_of(left.func) == "type"
            and len(left.args) == 1
            and len(original.comparisons) == 1
            and isinstance(original.comparisons[0].operator, cst.Is | cst.Equal)
            and _is_mapping(original.comparisons[0].comparator)
        ):
            self._dispatch(original, left.args[0].value)
        return updated

    def _dispatch(self, node: cst.CSTNode, value: cst.BaseExpression) -> None:
        seen = self._holds(value)
        if seen.types:
            held = f"holds a {seen.types[0]}"
        elif seen.unknown and self.unit in self.handles:
            held = "can hold a protocol value"
        else:
            return
        self._report(
            node,
            "PM108",
            f"dict dispatch on a value that {held}: protocol values are dicts now and take "
            "this branch; check it is meant for them",
            blocks=False,
        )

    def _duck(self, original: cst.Call, updated: cst.Call, function: str) -> cst.BaseExpression:
        seen = self._holds(original.args[0].value)
        name = _literal(updated.args[1].value)
        if not seen.types:
            if seen.unknown and name in self.protocol.keys:
                self._unknown(original, name, original.args[0].value, duck=True)
            return updated
        receiver = updated.args[0].value
        if name is None or name in _PYDANTIC:
            self._report(
                original,
                "PM103" if name is None else "PM102",
                f"{function}() on a {seen.types[0]} with "
                + ("a computed name" if name is None else f'"{name}"')
                + ": write name in x / x.get(name) / x[name] = value",
                blocks=True,
            )
            return updated
        quoted = self._key(name)
        if function == "hasattr" and len(updated.args) == 2:
            self._done(original, "PM101", f'hasattr(x, "{name}") -> "{name}" in x')
            check = cst.Comparison(quoted, [cst.ComparisonTarget(cst.In(), receiver)])
            parent = self._parent(original)
            if not isinstance(parent, _BARE):
                check = check.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            self.in_checks.add(id(check))
            return check
        if function == "getattr" and len(updated.args) in (2, 3):
            if len(updated.args) == 2:
                self._done(original, "PM102", f'getattr(x, "{name}") -> x["{name}"]')
                return cst.Subscript(receiver, [cst.SubscriptElement(cst.Index(quoted))])
            self._done(original, "PM102", f'getattr(x, "{name}", d) -> x.get("{name}", d)')
            get = cst.Attribute(receiver, cst.Name("get"))
            return cst.Call(get, _commas([cst.Arg(quoted), cst.Arg(updated.args[2].value)]))
        if function == "setattr" and isinstance(self._parent(original), cst.Expr):
            self._done(original, "PM103", f'setattr(x, "{name}", v) -> x["{name}"] = v')
            self.setters[id(original)] = (receiver, quoted, updated.args[2].value)
            return updated
        self._report(
            original,
            "PM103",
            f'{function}(x, "{name}", ...) on a {seen.types[0]}: write it with x["{name}"]',
            blocks=True,
        )
        return updated

    def leave_Expr(self, original: cst.Expr, updated: cst.Expr) -> cst.BaseSmallStatement:
        setter = self.setters.pop(id(original.value), None)
        if setter is None:
            return updated
        receiver, key, value = setter
        target = cst.Subscript(receiver, [cst.SubscriptElement(cst.Index(key))])
        return cst.Assign([cst.AssignTarget(target)], value, semicolon=updated.semicolon)

    def leave_UnaryOperation(
        self, original: cst.UnaryOperation, updated: cst.UnaryOperation
    ) -> cst.BaseExpression:
        operand = updated.expression
        if isinstance(updated.operator, cst.Not) and id(operand) in self.in_checks:
            assert isinstance(operand, cst.Comparison)
            target = operand.comparisons[0].with_changes(operator=cst.NotIn())
            return operand.with_changes(comparisons=[target], lpar=updated.lpar, rpar=updated.rpar)
        return updated

    def _validator(
        self, original: cst.Call, updated: cst.Call, type_name: str, method: str
    ) -> cst.BaseExpression:
        if len(updated.args) != 1 or updated.args[0].keyword or updated.args[0].star:
            self._report(
                original,
                "PM106",
                f"{type_name}.{method}(...) with options: write make({type_name}, value) by hand",
                blocks=True,
            )
            return updated
        self._need("make")
        self._need("validate")
        self._done(
            original,
            "PM006",
            f"{type_name}.{method}(v) -> make({type_name}, validate({type_name}, v))",
        )
        assert isinstance(updated.func, cst.Attribute)
        checked = self._call("validate", updated.func.value, updated.args[0].value)
        return self._call("make", updated.func.value, checked)

    def _method(
        self,
        original: cst.Call,
        updated: cst.Call,
        value: cst.BaseExpression,
        method: str,
        type_name: str,
    ) -> cst.BaseExpression:
        args = updated.args
        if method in _DUMPS and not args:
            self._done(original, "PM004", f"x.{method}() -> dict(x)")
            return self._call("dict", value)
        if method == "model_dump_json" and all(
            a.keyword and a.keyword.value == "indent" for a in args
        ):
            self._need("json")
            self._done(original, "PM005", "x.model_dump_json() -> json.dumps(x)")
            func = cst.Attribute(cst.Name("json"), cst.Name("dumps"))
            return cst.Call(func, [cst.Arg(value), *args])
        if method == "model_copy" and not args:
            self._done(original, "PM007", "x.model_copy() -> x.copy()")
            return cst.Call(cst.Attribute(value, cst.Name("copy")))
        if (
            method == "model_copy"
            and len(args) == 1
            and _name_of(args[0].keyword or cst.Name("")) == "update"
        ):
            update = args[0].value
            merged: list[cst.BaseDictElement] = [cst.StarredDictElement(value)]
            if isinstance(update, cst.Dict):
                merged += update.elements
            else:
                merged.append(cst.StarredDictElement(update))
            self._need("make")
            self._done(
                original, "PM007", f"x.model_copy(update=u) -> make({type_name}, {{**x, **u}})"
            )
            return self._call("make", cst.Name(type_name), cst.Dict(_commas(merged)))
        if method in self.protocol.functions:
            self._need(method)
            self._done(original, "PM009", f"x.{method}(...) -> {method}(x, ...)")
            return cst.Call(cst.Name(method), [cst.Arg(value), *args])
        self._report(
            original,
            "PM106",
            f"x.{method}(...) on a {type_name}: {_hand_edit(method)}",
            blocks=True,
        )
        return updated

    @staticmethod
    def _call(name: str, *args: cst.BaseExpression) -> cst.Call:
        return cst.Call(cst.Name(name), _commas([cst.Arg(arg) for arg in args]))

    # Attribute reads and writes (PM003, PM104, PM107)

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        name = original.attr.value
        seen = self._holds(original.value)
        if not seen.types:
            if seen.unknown and name in self.protocol.keys:
                self._unknown(original, name, original.value)
            return updated
        if name in _DICT_ATTRIBUTES:
            return updated
        if name in _PYDANTIC or name in self.protocol.functions:
            parent = self._parent(original)
            if isinstance(parent, cst.Call) and parent.func is original:
                return updated  # a call: leave_Call rewrites it, or reports it
            self._report(
                original, "PM104", f".{name} on a {seen.types[0]}: {_hand_edit(name)}", blocks=True
            )
            return updated
        if name not in self.protocol.keys:
            message = f".{name} on a {seen.types[0]}: no such key; no rewrite"
            self._report(original, "PM104", message, blocks=True)
            return updated
        self._done(original, "PM003", f"x.{name} -> x[{_string(name).value}]")
        index = cst.SubscriptElement(cst.Index(self._key(name)))
        return cst.Subscript(updated.value, [index])

    def _unknown(
        self, node: cst.CSTNode, name: str, receiver: cst.BaseExpression, *, duck: bool = False
    ) -> None:
        owners = self.protocol.owners[name]
        kinds = " | ".join(owners[:3]) + (" | ..." if len(owners) > 3 else "")
        spelled = _dotted(receiver)
        shown = spelled or "x"
        access = f'{node.func.value}({shown}, "{name}")' if duck else f"{shown}.{name}"  # type: ignore[attr-defined]
        message = (
            f"{access}: mypy cannot tell what {shown} holds; if a protocol value, annotate "
            + (f"it: {spelled}: {kinds}" if spelled else f"where it comes from ({kinds})")
        )
        self.unknown[self.unit].append((self._finding(node, "PM107", message), spelled, duck))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        for unit, found in self.unknown.items():
            for finding, spelled, duck in found:
                if spelled in self.assigned[unit]:
                    self.reports.append(finding)
                    self.blockers[unit].append(finding)
                elif unit in self.handles or (duck and self.imports_package):
                    self.reports.append(finding)
        return updated


def _hand_edit(method: str) -> str:
    if method == "model_fields":
        return "no rewrite; the keys are T.__annotations__, the defaults defaults(T)"
    if method.startswith("model_") or method == "dict":
        return "no rewrite for these options; the value is already a plain dict"
    return "no such key or function in this package"


_Item = TypeVar("_Item", cst.Arg, cst.BaseDictElement)


def _commas(items: Sequence[_Item]) -> list[_Item]:
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    return [item.with_changes(comma=comma) for item in items[:-1]] + [
        item.with_changes(comma=cst.MaybeSentinel.DEFAULT) for item in items[-1:]
    ]


def rewrite(
    source: str, protocol: Protocol, seen: Mapping[Span, Seen], frozen: set[str]
) -> Rewrite:
    """``source`` migrated except the ``frozen`` units. Raises ``libcst.ParserSyntaxError``
    if it does not parse."""
    module = cst.parse_module(source)
    rewriter = _Rewriter(protocol, seen, frozen)
    changed = MetadataWrapper(module).visit(rewriter)
    if MODULE in frozen:
        changed = module
    needs = {unit: names for unit, names in rewriter.needs.items() if unit not in frozen}
    changed = add_imports(changed, needs)
    done = [f for unit, found in rewriter.done.items() if unit not in frozen for f in found]
    reports = list(rewriter.reports)
    for unit in sorted(frozen & set(rewriter.done)):
        lines = sorted({f.line for f in rewriter.blockers.get(unit, [])})
        withheld = len(rewriter.done.get(unit, []))
        where = rewriter.unit_lines.get(unit, 1)
        name = "the module's top-level code" if unit == MODULE else f"{unit}()"
        reports.append(
            Finding(
                where,
                1,
                "PM110",
                f"not migrated: {name} left whole ({withheld} rewrite"
                + ("s" if withheld > 1 else "")
                + " withheld): line"
                + ("s " if len(lines) > 1 else " ")
                + ", ".join(map(str, lines))
                + " cannot be rewritten",
            )
        )
    if MODULE not in frozen:
        done += rewriter.findings
    return Rewrite(changed.code, done, reports, dict(rewriter.blockers))
