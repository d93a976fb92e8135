"""One file's rewrite: LibCST keeps formatting and comments; mypy's findings say which
attribute accesses are on protocol values."""

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Final, TypeVar

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ._names import Protocol

__all__ = ["Finding", "Span", "TypedAccess", "left_alone", "rewrite", "typed_access"]

_PACKAGE: Final = "sagellm_protocol"
_DUMPS: Final = frozenset({"model_dump", "dict"})
_VALIDATORS: Final = frozenset({"model_validate", "parse_obj", "from_dict"})
_PYDANTIC: Final = frozenset(
    {"model_dump", "model_dump_json", "model_copy", "model_validate", "model_fields", "dict"}
)


@dataclasses.dataclass(frozen=True)
class Finding:
    """One rewrite done, or one pattern reported for a hand edit."""

    line: int
    column: int
    code: str
    message: str


Span = tuple[int, int, int, int]
"""line, column, end line, end column of an expression (1-based lines, 0-based columns)."""


@dataclasses.dataclass(frozen=True)
class TypedAccess:
    """mypy's word that ``.attribute`` is read on a value of protocol type ``type_name``."""

    attribute: str
    type_name: str


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


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(
        self,
        protocol: Protocol,
        typed: Mapping[Span, TypedAccess],
        context: CodemodContext,
    ) -> None:
        super().__init__()
        self.protocol = protocol
        self.typed = typed
        self.context = context
        self.imported: dict[str, str] = {}  # local name -> protocol type name
        self.imports_package = False
        self.findings: list[Finding] = []
        self.reports: list[Finding] = []
        self.quotes: list[str] = []  # the f-strings we are inside: their quote characters

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

    # Where things are

    def _at(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    def _note(self, node: cst.CSTNode, code: str, message: str, *, report: bool = False) -> None:
        where = self._at(node).start
        found = Finding(where.line, where.column + 1, code, message)
        (self.reports if report else self.findings).append(found)

    def _protocol_type(self, node: cst.BaseExpression) -> str | None:
        name = _name_of(node)
        if name is None:
            return None
        real = self.imported.get(name)
        return real if real in self.protocol.typed_dicts else None

    def _need(self, name: str) -> None:
        if name == "json":
            AddImportsVisitor.add_needed_import(self.context, "json")
        else:
            AddImportsVisitor.add_needed_import(self.context, _PACKAGE, name)

    # Imports (PM001, PM105)

    def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import:
        names = []
        for before, alias in zip(original.names, updated.names, strict=True):
            module = _dotted(alias.name)
            if module.split(".")[0] == _PACKAGE:
                self.imports_package = True
            if not self.protocol.is_old_module(module):
                names.append(alias)
            elif alias.asname is None:  # its uses spell the module out: no safe rewrite
                message = f"import {module}: no such module here; import {_PACKAGE}"
                self._note(before, "PM105", message, report=True)
                names.append(alias)
            else:
                self._note(before, "PM001", f"import {module} -> import {_PACKAGE}")
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
                self._note(alias, "PM105", message, report=True)
        if not old:
            return updated
        self._note(original, "PM001", f"from {module} -> from {_PACKAGE}")
        return updated.with_changes(module=cst.Name(_PACKAGE))

    # Calls (PM002, PM004-PM009, PM106)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        func = updated.func
        if (type_name := self._protocol_type(func)) is not None:
            return self._construct(original, updated, type_name)
        if _name_of(func) == "isinstance" and len(updated.args) == 2:
            return self._isinstance(original, updated)
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in _VALIDATORS and (owner := self._protocol_type(func.value)):
                return self._validator(original, updated, owner, method)
            assert isinstance(original.func, cst.Attribute)
            access = self.typed.get(_span(self._at(original.func)))
            if access is not None and access.attribute == method:
                return self._method(original, updated, func.value, access)
        return updated

    def _construct(self, original: cst.Call, updated: cst.Call, type_name: str) -> cst.Call:
        if any(arg.keyword is None and arg.star != "**" for arg in updated.args):
            self._note(
                original,
                "PM106",
                f"{type_name}(...) with positional arguments: write "
                f"make({type_name}, {{...}}) by hand",
                report=True,
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
        self._note(original, "PM002", f"{type_name}(...) -> make({type_name}, {{...}})")
        return self._call("make", updated.func, fields)

    def _isinstance(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        value, kind = updated.args
        type_name = self._protocol_type(kind.value)
        if type_name is None:
            return updated
        self._need("is_valid")
        self._note(original, "PM008", f"isinstance(x, {type_name}) -> is_valid({type_name}, x)")
        return self._call("is_valid", kind.value, value.value)

    def _validator(
        self, original: cst.Call, updated: cst.Call, type_name: str, method: str
    ) -> cst.BaseExpression:
        if len(updated.args) != 1 or updated.args[0].keyword or updated.args[0].star:
            self._note(
                original,
                "PM106",
                f"{type_name}.{method}(...) with options: write make({type_name}, value) by hand",
                report=True,
            )
            return updated
        self._need("make")
        self._need("validate")
        self._note(
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
        access: TypedAccess,
    ) -> cst.BaseExpression:
        method, args = access.attribute, updated.args
        if method in _DUMPS and not args:
            self._note(original, "PM004", f"x.{method}() -> dict(x)")
            return self._call("dict", value)
        if method == "model_dump_json" and all(
            a.keyword and a.keyword.value == "indent" for a in args
        ):
            self._need("json")
            self._note(original, "PM005", "x.model_dump_json() -> json.dumps(x)")
            func = cst.Attribute(cst.Name("json"), cst.Name("dumps"))
            return cst.Call(func, [cst.Arg(value), *args])
        if method == "model_copy" and not args:
            self._note(original, "PM007", "x.model_copy() -> x.copy()")
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
            type_name = access.type_name
            self._note(
                original, "PM007", f"x.model_copy(update=u) -> make({type_name}, {{**x, **u}})"
            )
            return self._call("make", cst.Name(type_name), cst.Dict(_commas(merged)))
        if method in self.protocol.functions:
            self._need(method)
            self._note(original, "PM009", f"x.{method}(...) -> {method}(x, ...)")
            return cst.Call(cst.Name(method), [cst.Arg(value), *args])
        self._note(
            original,
            "PM106",
            f"x.{method}(...) on a {access.type_name}: {_hand_edit(method)}",
            report=True,
        )
        return updated

    @staticmethod
    def _call(name: str, *args: cst.BaseExpression) -> cst.Call:
        return cst.Call(cst.Name(name), _commas([cst.Arg(arg) for arg in args]))

    # Attribute reads and writes (PM003, PM104)

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        access = self.typed.get(_span(self._at(original)))
        if access is None or access.attribute != original.attr.value:
            return updated
        name = access.attribute
        if name in _PYDANTIC or name in self.protocol.functions:
            return updated  # a call: leave_Call rewrites it, or reports it
        self._note(original, "PM003", f"x.{name} -> x[{_string(name).value}]")
        index = cst.SubscriptElement(cst.Index(self._key(name)))
        return cst.Subscript(updated.value, [index])

    # Duck typing (PM101-PM103)

    def visit_Call(self, node: cst.Call) -> None:
        function = _name_of(node.func)
        if function not in {"hasattr", "getattr", "setattr"} or len(node.args) < 2:
            return
        if not self.imports_package:
            return
        name = _literal(node.args[1].value)
        if name is None:
            self._note(
                node,
                "PM103",
                f"{function}() with a computed name: on a protocol "
                "value write name in x / x.get(name) / x[name] = value",
                report=True,
            )
        elif name in self.protocol.keys or name in _PYDANTIC:
            self._note(node, *_duck(function, name, len(node.args)), report=True)


def _duck(function: str | None, name: str, arity: int) -> tuple[str, str]:
    quoted = _string(name).value
    if function == "hasattr":
        return "PM101", f"hasattr(x, {quoted}): write {quoted} in x"
    if function == "getattr":
        spelled = f"x.get({quoted}, default)" if arity == 3 else f"x[{quoted}]"
        return "PM102", f"getattr(x, {quoted}, ...): write {spelled}"
    return "PM103", f"setattr(x, {quoted}, v): on a protocol value write x[{quoted}] = v"


def left_alone(access: TypedAccess) -> str:
    """What to write by hand for an access mypy still finds after the rewrite."""
    name = access.attribute
    if name in _PYDANTIC:
        return f".{name} on a {access.type_name}: {_hand_edit(name)}"
    return f'.{name} on a {access.type_name}: no rewrite; write x["{name}"] if it is a key'


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


_NO_ATTRIBUTE: Final = re.compile(r'^(?:Item )?"([\w.]+)"(?: of "[^"]*")? has no attribute "(\w+)"')


def typed_access(message: str, protocol: Protocol) -> TypedAccess | None:
    """The protocol type and attribute of one mypy ``attr-defined`` message, if it is one."""
    match = _NO_ATTRIBUTE.match(message)
    if match is None or match.group(1).rsplit(".", 1)[-1] not in protocol.typed_dicts:
        return None
    return TypedAccess(match.group(2), match.group(1).rsplit(".", 1)[-1])


def rewrite(
    source: str, protocol: Protocol, typed: Mapping[Span, TypedAccess]
) -> tuple[str, list[Finding], list[Finding]]:
    """``source`` migrated, the rewrites done and the patterns reported. Raises
    ``libcst.ParserSyntaxError`` if it does not parse."""
    module = cst.parse_module(source)
    context = CodemodContext()
    rewriter = _Rewriter(protocol, typed, context)
    changed = MetadataWrapper(module).visit(rewriter)
    if rewriter.findings:
        changed = AddImportsVisitor(context).transform_module(changed)
    return changed.code, rewriter.findings, rewriter.reports
