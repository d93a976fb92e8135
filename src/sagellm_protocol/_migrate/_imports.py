"""The names a rewrite needs, imported the way the file already imports this package: joined
to its ``from sagellm_protocol import ...`` in the same scope (inside the ``try:`` of a guarded
import, inside the function of a lazy one); a file that imported nothing of the package at
top level still imports nothing at top level."""

from collections.abc import Mapping, Sequence
from typing import Final

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor

from ._units import UnitTransformer

__all__ = ["add_imports"]

_PACKAGE: Final = "sagellm_protocol"


def _is_anchor(node: cst.CSTNode) -> bool:
    return (
        isinstance(node, cst.ImportFrom)
        and not node.relative
        and isinstance(node.module, cst.Name)
        and node.module.value == _PACKAGE
        and not isinstance(node.names, cst.ImportStar)
    )


def _type_checking(node: cst.If) -> bool:
    test = node.test
    name = test.attr.value if isinstance(test, cst.Attribute) else getattr(test, "value", None)
    return name == "TYPE_CHECKING"


def _anchors(body: Sequence[cst.CSTNode]) -> list[cst.ImportFrom]:
    """The package's from-imports that run with ``body``: in it, under its ``try``/``if``/
    ``with`` blocks, not in nested functions or classes, nor under ``if TYPE_CHECKING``."""
    found: list[cst.ImportFrom] = []
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            found += [s for s in statement.body if _is_anchor(s)]  # type: ignore[misc]
        elif isinstance(statement, cst.Try | cst.With) or (
            isinstance(statement, cst.If) and not _type_checking(statement)
        ):
            found += _anchors(statement.body.body)
    return found


def _kind(name: str) -> tuple[int, str]:
    """isort's and ruff's member order (order-by-type): constants, classes, the rest."""
    if name.isupper() and len(name) > 1:
        return (0, name.lower())
    return (1 if name[:1].isupper() else 2, name.lower())


def _joined(node: cst.ImportFrom, names: Sequence[str]) -> cst.ImportFrom:
    assert not isinstance(node.names, cst.ImportStar)
    aliases = list(node.names)
    have = {alias.evaluated_alias or alias.evaluated_name for alias in aliases}
    last_comma = aliases[-1].comma
    separator = (
        aliases[0].comma
        if len(aliases) > 1 and isinstance(aliases[0].comma, cst.Comma)
        else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    )
    keys = [_kind(alias.evaluated_name) for alias in aliases]
    ordered = keys == sorted(keys)
    for name in sorted(set(names) - have, key=_kind):
        added = cst.ImportAlias(cst.Name(name))
        at = len(aliases)
        if ordered:
            at = next(
                (i for i, a in enumerate(aliases) if _kind(a.evaluated_name) > _kind(name)), at
            )
        aliases.insert(at, added)
    # The commas: the new last alias keeps the old last one's (a trailing comma stays).
    result = []
    for i, alias in enumerate(aliases):
        if i == len(aliases) - 1:
            result.append(alias.with_changes(comma=last_comma))
        elif isinstance(alias.comma, cst.Comma) and alias.comma is not last_comma:
            result.append(alias)
        else:
            result.append(alias.with_changes(comma=separator))
    return node.with_changes(names=result)


class _Joiner(UnitTransformer):
    def __init__(self, joins: Mapping[int, set[str]], lazy: Mapping[str, set[str]]) -> None:
        super().__init__()
        self.joins = joins  # id of an anchor -> the names to add to it
        self.lazy = lazy  # unit -> the names to import at the top of its function

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        super().leave_FunctionDef(original, updated)
        unit = self.unit_of(original)
        names = self.lazy.get(unit) if unit is not None else None
        if not names or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        aliases = [cst.ImportAlias(cst.Name(n)) for n in sorted(names, key=_kind)]
        aliases = [a.with_changes(comma=comma) for a in aliases[:-1]] + aliases[-1:]
        statement = cst.SimpleStatementLine([cst.ImportFrom(cst.Name(_PACKAGE), aliases)])
        body = list(updated.body.body)
        first = body[0] if body else None
        docstring = (
            isinstance(first, cst.SimpleStatementLine)
            and isinstance(first.body[0], cst.Expr)
            and isinstance(first.body[0].value, cst.SimpleString | cst.ConcatenatedString)
        )
        body.insert(1 if docstring else 0, statement)
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        names = self.joins.get(id(original))
        return _joined(updated, sorted(names)) if names else updated


def _units(module: cst.Module) -> dict[str, cst.FunctionDef]:
    units = {}
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            units[statement.name.value] = statement
        elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            for inner in statement.body.body:
                if isinstance(inner, cst.FunctionDef):
                    units[f"{statement.name.value}.{inner.name.value}"] = inner
    return units


def _imported(anchors: Sequence[cst.ImportFrom]) -> set[str]:
    return {
        alias.evaluated_alias or alias.evaluated_name
        for anchor in anchors
        for alias in anchor.names  # type: ignore[union-attr]
    }


def add_imports(module: cst.Module, needs: Mapping[str, set[str]]) -> cst.Module:
    """``module`` importing the names each unit ``needs`` (``json`` the standard module)."""
    top = _anchors(module.body)
    units = _units(module)
    joins: dict[int, set[str]] = {}
    lazy: dict[str, set[str]] = {}
    new_top: set[str] = set()
    context = CodemodContext()
    for unit, names in needs.items():
        if "json" in names:
            AddImportsVisitor.add_needed_import(context, "json")
        names = names - {"json"}
        function = units.get(unit)
        own = _anchors(function.body.body) if function is not None else []
        names -= _imported([*own, *top])
        if not names:
            continue
        if own:
            joins.setdefault(id(own[0]), set()).update(names)
        elif top:
            joins.setdefault(id(top[0]), set()).update(names)
        elif function is not None:
            lazy[unit] = names
        else:
            new_top |= names
    for name in sorted(new_top):
        AddImportsVisitor.add_needed_import(context, _PACKAGE, name)
    if joins or lazy:
        module = module.visit(_Joiner(joins, lazy))
    if new_top or any("json" in names for names in needs.values()):
        module = AddImportsVisitor(context).transform_module(module)
    return module
