"""The fast path: specialised Python source generated per type, compiled once and cached.

A compiled checker answers ``True`` only for valid values (it is sound); it may answer
``False`` for a valid value it cannot confirm cheaply (a ``dict`` subclass, a str enum member
where a plain ``str`` is expected), and then the precise pass decides. Any exception inside the
generated code means "not confirmed". Each node's checker is kept as long as the node.
"""

import ast
import builtins
import functools
import math
import os
import re
import sys
from collections.abc import Callable, Collection
from operator import countOf
from types import ModuleType
from typing import Final, TypeGuard, cast

from typing_extensions import assert_never

from .._registry import Invariant
from .._tree.analyse import reaches_recursive
from .._tree.cache import NodeCache
from .._tree.nodes import (
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
from .._tree.rules import FLOAT_INT_LIMIT, has_lone_surrogate

__all__ = ["Generator", "fast_checker", "source_of"]

_MAX_INLINE_DEPTH: Final = 8
"""Nested TypedDicts inlined into their parent's code up to this depth; deeper ones are calls."""


_OPTIONAL_KEYS_PER_GROUP: Final = 4
"""A dict's optional keys are tested in groups this size, each skipped once every key of the dict
is accounted for: a guard costs about a third of an absent key's ``in`` test. The first optional
key after a required one (or the start) is a group of its own: a dict often holds that one
optional key alone (a chat message its ``content``), and the next group is then skipped."""


_MAX_GUARD_INDENT: Final = 40
"""Groups' tests nest no deeper than this indent: Python's parser takes 100 levels at most, and
the code under a test may nest up to eight dicts of its own."""


_KEYS_TESTED_BY_TYPE: Final = 10
"""A closed TypedDict declaring this many keys or more has its keys' types tested, not their
text (see :meth:`Generator.typed_dict_body`)."""


PURE_PYTHON_ENV: Final = "SAGELLM_PROTOCOL_PURE_PYTHON"
"""Set (to anything but ``0``), the checkers use pure-Python list checks, not the C ones."""


def pure_python_requested() -> bool:
    """Whether :data:`PURE_PYTHON_ENV` turns the C list checks off."""
    return os.environ.get(PURE_PYTHON_ENV, "0") not in ("", "0")


@functools.cache
def native_lists() -> ModuleType | None:
    """The C list checks (``_scalar_lists.c``), or ``None``: not built, or turned off.

    Loaded with the first checker compiled, not when the package is imported.
    """
    if pure_python_requested():
        return None
    try:
        # Not ``from . import _scalar_lists``: import-linter would read that as importing the
        # package itself (it sees no Python source of the C module), a cycle that is not there.
        from ._scalar_lists import __name__ as name
    # Not built (ImportError), built for another interpreter, or a warning made an error (a
    # free-threaded interpreter warns when an extension would switch the GIL back on): the
    # pure-Python checks give the same answers.
    except Exception:
        return None
    return sys.modules[name]


_COMPILED: Final[NodeCache[Node, Callable[[object], bool]]] = NodeCache()


def fast_checker(node: Node) -> Callable[[object], bool]:
    """The compiled checker of ``node``: ``True`` means valid; it never raises."""
    return _COMPILED.get(node, lambda n: Generator().compile(n)[0])


def source_of(node: Node) -> str:
    """The generated source of ``node``'s checker, written anew (for debugging)."""
    return Generator().compile(node)[1]


def _all_finite(items: Collection[float]) -> bool:
    """Whether every item of a list of exact ints and floats is a finite float or an int that a
    float holds (``float(item)`` would not overflow), item by item: the C ``all_finite_numbers``.

    The generated code tries a float list's sum first, which settles most lists; this decides
    the few whose sum is not finite (finite items can add up to inf), and every list with ints,
    whose sum can be finite though an item is beyond float's range (``10**400 - 10**400``).
    """
    try:
        return all(map(math.isfinite, items))
    except OverflowError:  # an int beyond float's range
        return False


class _FormatMemo:
    """A format's full-match test, remembering strings that matched (up to :attr:`LIMIT`
    strings of at most :attr:`LONGEST` characters each, so it holds bounded bytes).

    Payloads repeat the same few device strings in every entry; a set lookup is a tenth of a
    regular-expression match.
    """

    __slots__ = ("fullmatch", "seen")

    LIMIT: Final = 1024
    LONGEST: Final = 64

    def __init__(self, fullmatch: Callable[[str], object]) -> None:
        self.fullmatch = fullmatch
        self.seen: set[str] = set()

    def __call__(self, text: str) -> bool:
        if self.fullmatch(text) is None:
            return False
        if len(self.seen) < self.LIMIT and len(text) <= self.LONGEST:
            self.seen.add(text)
        return True


def _returned_expression(function: Callable[..., object]) -> tuple[ast.expr, str] | None:
    """A fresh tree of the expression a one-parameter, one-``return`` function of the package
    returns, and the parameter's name; ``None`` for any other function.

    The function's definition is read from the notes written at build time
    (``_source_notes``), never from the installed source, and only for the function it was
    written from: same module, qualified name, first line, parameter and global names. (A
    test keeps the notes current with the source.)
    """
    from .._source_notes import INLINABLE_FUNCTIONS

    code = getattr(function, "__code__", None)
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    recorded = INLINABLE_FUNCTIONS.get(f"{module}:{qualname}")
    if code is None or recorded is None or code.co_freevars:
        return None
    first_line, source = recorded
    found = returned_expression_of(source)
    if found is None or code.co_firstlineno != first_line or code.co_varnames[:1] != found[1:]:
        return None
    tree = found[0]
    loaded = {name.id for name in ast.walk(tree) if isinstance(name, ast.Name)} - {found[1]}
    # Global and builtin names the expression reads are among the function's own.
    return found if loaded <= set(code.co_names) else None


def returned_expression_of(source: str) -> tuple[ast.expr, str] | None:
    """The tree of the expression the function defined by ``source`` returns, and its
    parameter's name, when it is a plain ``def f(value): return <expression>`` (a docstring
    allowed); ``None`` for any other definition."""
    try:
        (definition,) = ast.parse(source).body
    except (SyntaxError, ValueError):
        return None
    if not isinstance(definition, ast.FunctionDef) or definition.decorator_list:
        return None
    arguments = definition.args
    if len(arguments.args) != 1 or arguments.vararg or arguments.kwarg or arguments.kwonlyargs:
        return None
    body = [
        node
        for node in definition.body
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    if any(
        isinstance(node, ast.Lambda | ast.NamedExpr | ast.comprehension)
        for node in ast.walk(body[0])
    ):
        return None  # names bound inside the expression would be renamed too
    return body[0].value, arguments.args[0].arg


def _is_get(node: ast.AST, parameter: str) -> TypeGuard[ast.Call]:
    """Whether ``node`` is ``<parameter>.get(<str>)`` or ``<parameter>.get(<str>, <constant>)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == parameter
        and not node.keywords
        and 1 <= len(node.args) <= 2
        and all(isinstance(argument, ast.Constant) for argument in node.args)
        and isinstance(cast(ast.Constant, node.args[0]).value, str)
    )


def _is_membership(node: ast.AST, parameter: str) -> TypeGuard[ast.Compare]:
    """Whether ``node`` is ``<str> in <parameter>`` or ``<str> not in <parameter>``."""
    return (
        isinstance(node, ast.Compare)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.In | ast.NotIn)
        and isinstance(node.comparators[0], ast.Name)
        and node.comparators[0].id == parameter
        and isinstance(node.left, ast.Constant)
        and isinstance(node.left.value, str)
    )


class _ReadLocals(ast.NodeTransformer):
    """Rewrites the expression's reads of the dict ``parameter`` as reads of the locals that
    already hold its values: ``p["key"]``, ``"key" in p``, ``"key" not in p``, ``p.get("key")``
    and ``p.get("key", <constant>)``.

    A required key's local holds its value. An optional key's local holds its value or, when
    the key is absent, the object named ``absent``; ``p["key"]`` of an optional key becomes its
    local only where the expression has just found the key present (``"key" in p and ...``,
    ``"key" not in p or ...``), since elsewhere it raises for an absent key and must go on
    doing so. The local of an optional key in ``gets`` holds, when the key is absent, the
    default of the ``get`` that is its only read: that read is the local itself.
    """

    def __init__(
        self,
        parameter: str,
        required: dict[str, str],
        optional: dict[str, str],
        gets: Collection[str],
        absent: str,
    ) -> None:
        self.parameter = parameter
        self.required = required
        self.optional = optional
        self.gets = gets
        self.absent = absent
        self.present: set[str] = set()
        self.reads: list[ast.Name] = []

    def read(self, name: str) -> ast.Name:
        read = ast.Name(name, ast.Load())
        self.reads.append(read)
        return read

    def key_of(self, node: ast.expr) -> str | None:
        """The declared key ``node`` (a string constant) names, if any."""
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            return None
        return node.value if node.value in self.required or node.value in self.optional else None

    def is_parameter(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id == self.parameter

    def get_call(self, node: ast.expr) -> tuple[str, ast.expr] | None:
        """``(key, default)`` when ``node`` is ``p.get(key)`` or ``p.get(key, <constant>)``."""
        if not _is_get(node, self.parameter):
            return None
        key = self.key_of(node.args[0])
        return None if key is None else (key, node.args[1] if node.args[1:] else ast.Constant(None))

    def presence(self, node: ast.expr) -> tuple[str, bool] | None:
        """``(key, True)`` when ``node`` is true only if the optional ``key`` is present,
        ``(key, False)`` when it is false only then."""
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
            return None
        (op,), (right,) = node.ops, node.comparators
        if _is_membership(node, self.parameter):
            key = self.key_of(node.left)
            return None if key is None else (key, isinstance(op, ast.In))
        got = self.get_call(node.left)
        if (
            got is not None
            and isinstance(got[1], ast.Constant)
            and got[1].value is None
            and isinstance(op, ast.Is | ast.IsNot)
            and isinstance(right, ast.Constant)
            and right.value is None
        ):
            return got[0], isinstance(op, ast.IsNot)
        return None

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.expr:
        before = set(self.present)
        values: list[ast.expr] = []
        for value in node.values:
            found = self.presence(value)
            values.append(self.visit(value))
            # Later operands run only when this one is true (``and``) or false (``or``).
            if found is not None and found[1] is isinstance(node.op, ast.And):
                self.present.add(found[0])
        self.present = before
        node.values = values
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        found = self.presence(node)
        if found is not None and _is_membership(node, self.parameter):
            key, is_in = found
            if key in self.required:
                return ast.Constant(is_in)
            op: ast.cmpop = ast.IsNot() if is_in else ast.Is()
            return ast.Compare(self.read(self.optional[key]), [op], [self.read(self.absent)])
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        got = self.get_call(node)
        if got is None:
            self.generic_visit(node)
            return node
        key, default = got
        if key in self.required:
            return self.read(self.required[key])
        if key in self.gets:
            return self.read(self.optional[key])
        local = self.optional[key]
        absent = ast.Compare(self.read(local), [ast.Is()], [self.read(self.absent)])
        return ast.IfExp(absent, default, self.read(local))

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        key = self.key_of(node.slice) if self.is_parameter(node.value) else None
        if key in self.required:
            return self.read(self.required[key])
        if key in self.present:
            return self.read(self.optional[key])
        self.generic_visit(node)
        return node


class Generator:
    """Writes the source of one checker (and the functions it calls) and compiles it."""

    def __init__(self, *, pure: bool = False) -> None:
        """``pure``: write pure-Python list checks even where the C ones are built."""
        # countOf counts as the types stream by, without building a list of them.
        self.namespace: dict[str, object] = {
            "_all_finite": _all_finite,
            "_count_of": countOf,
            "_has_lone_surrogate": has_lone_surrogate,
            "_str_isascii": str.isascii,
            "_isfinite": math.isfinite,
            "_sum": sum,
        }
        native = None if pure else native_lists()
        self.native = native is not None
        # Whether the checkers fast_checker() caches are written in this generator's mode, so
        # that this one may call them.
        self.shares = self.native or native_lists() is None
        if native is not None:
            self.namespace["_all_of_type"] = native.all_of_type
            self.namespace["_all_finite_numbers"] = native.all_finite_numbers
            self.namespace["_is_str_keyed_dict"] = native.is_str_keyed_dict
        self.absent = object()
        """Held by an optional key's local while the key is absent: no caller holds it."""
        self.functions: list[str] = []
        self.typed_dicts: dict[TypedDictNode, str] = {}
        self.constants: dict[object, str] = {}
        self.counter = 0
        self.locals_held = 0
        """Locals (see :meth:`local`) the code being written still reads, in the function it
        is written into."""

    def all_of_type(self, items: str, cls: str, container: str) -> str:
        """Code: the type of every item of ``items`` (keys, for a dict) is exactly ``cls``."""
        if self.native:
            return f"_all_of_type({items}, {cls})"
        return f"_count_of(map(type, {items}), {cls}) == len({container})"

    def str_keyed_dict(self, x: str) -> str:
        """Code: ``x`` is exactly a ``dict`` and every key of it is exactly a ``str`` (in C, also
        one without a lone surrogate: :meth:`text_keyed_dict` in one call)."""
        if self.native:
            return f"_is_str_keyed_dict({x})"
        return f"type({x}) is dict and {self.all_of_type(x, 'str', x)}"

    def text_keyed_dict(self, x: str) -> str:
        """Code: ``x`` is exactly a ``dict`` and every key of it is exactly a ``str`` without a
        lone surrogate."""
        if self.native:
            return f"_is_str_keyed_dict({x})"
        return f"{self.str_keyed_dict(x)} and {self.text_keys(x)}"

    def text_keys(self, x: str) -> str:
        """Code: no ``str`` key of the dict ``x`` holds a lone surrogate (as for values, an
        ASCII key is told in C)."""
        return f"(all(map(_str_isascii, {x})) or not any(map(_has_lone_surrogate, {x})))"

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def local(self) -> str:
        """A new local of the function being written. Code that takes locals sets
        :attr:`locals_held` back once it is written out, as it reads them no more: the nested
        dict or list of the next sibling field takes the same names.

        A frame clears every local it has at every call, set or not (about 7 instructions
        each): shared, the checker of a Request has 43 locals, not 68.
        """
        self.locals_held += 1
        return f"_l{self.locals_held}"

    def const(self, value: object, prefix: str = "_c") -> str:
        found = self.constants.get(value)
        if found is None:
            found = self.constants[value] = self.name(prefix)
            self.namespace[found] = value
        return found

    def compile(self, node: Node) -> tuple[Callable[[object], bool], str]:
        """``node``'s checker, compiled, and its source."""
        body = self.statements(node, "v", 2, ())
        lines = [
            "def _check(v):",
            "    try:",
            *body,
            "        return True",
            "    except Exception:",
            "        return False",
        ]
        checker = cast(Callable[[object], bool], self.define("_check", lines, "validator"))
        return checker, self.source(lines)

    def source(self, lines: list[str]) -> str:
        return "\n\n".join([*self.functions, "\n".join(lines)]) + "\n"

    def define(self, name: str, lines: list[str], label: str) -> Callable[..., object]:
        """Compile the function ``name`` written as ``lines`` (and the helpers it calls).

        ``label`` says what it is; it names no type: the interpreter keeps the file name of
        compiled code for good (interned), and a program may make types without end.
        """
        code = compile(self.source(lines), f"<sagellm_protocol {label}>", "exec")
        exec(code, self.namespace)
        function = self.namespace[name]
        assert callable(function)
        return function

    # Statements: fail with ``return False``.

    def statements(
        self, node: Node, var: str, indent: int, inlining: tuple[Node, ...]
    ) -> list[str]:
        pad = "    " * indent
        if isinstance(node, TypedDictNode) and self.inlinable(node, inlining):
            return self.typed_dict_body(node, var, indent, (*inlining, node))
        if isinstance(node, UnionNode) and node.nullable and len(node.options) == 1:
            inner = self.statements(node.options[0], var, indent + 1, inlining)
            return [f"{pad}if {var} is not None:", *inner]
        if isinstance(node, ListNode | DictNode) and self.loopable(node, inlining):
            # A loop with the element's checks inlined: no call per element.
            held = self.locals_held
            element = self.local()
            if isinstance(node, ListNode):
                kind = "tuple" if node.is_tuple else "list"
                shape = f"type({var}) is {kind}"
                iterate = var
            else:
                shape = self.text_keyed_dict(var)
                iterate = f"{var}.values()"
            shape += _length(var, node.min_len, node.max_len)
            item = node.item if isinstance(node, ListNode) else node.value
            lines = [
                f"{pad}if not ({shape}):",
                f"{pad}    return False",
                f"{pad}for {element} in {iterate}:",
                *self.statements(item, element, indent + 1, inlining),
            ]
            self.locals_held = held
            return lines
        check = self.expr(node, var)
        return [] if check == "True" else [f"{pad}if not ({check}):", f"{pad}    return False"]

    def loopable(self, node: ListNode | DictNode, inlining: tuple[Node, ...]) -> bool:
        item = node.item if isinstance(node, ListNode) else node.value
        if isinstance(item, UnionNode) and item.nullable and len(item.options) == 1:
            item = item.options[0]
        return isinstance(item, TypedDictNode) and self.inlinable(item, inlining)

    def inlinable(self, node: TypedDictNode, inlining: tuple[Node, ...]) -> bool:
        return (
            node not in inlining
            and len(inlining) < _MAX_INLINE_DEPTH
            and not reaches_recursive(node)
        )

    def typed_dict_body(
        self, node: TypedDictNode, var: str, indent: int, inlining: tuple[Node, ...]
    ) -> list[str]:
        pad = "    " * indent
        indent_of_body = indent
        locals_before = self.locals_held
        # Exact str keys, as the precise pass requires: a key object that hashes and compares
        # equal to a declared name would otherwise be read as that key. A closed dict's keys
        # need no test of their text: the count below finds each equal to a declared name,
        # which is text. The C is_str_keyed_dict encodes every key to tell (about 33
        # instructions a key), in one call where the type tests take about 250 more: a dict
        # declaring many keys (and protocol payloads hold every key) is tested by type alone.
        shape = (
            f"type({var}) is dict and {self.all_of_type(var, 'str', var)}"
            if node.extra is None and len(node.fields) >= _KEYS_TESTED_BY_TYPE
            else self.str_keyed_dict(var)
        )
        lines = [f"{pad}if not ({shape}):", f"{pad}    return False"]
        # The dict holds no undeclared key when its size is the number of declared keys it
        # holds: counting them as they are read is cheaper than a subset test over every key.
        # Counting down the keys not yet accounted for also skips the ``in`` tests of the
        # optional keys declared after the last one the dict holds (real requests leave most
        # of OpenAI's forty optional keys out), a group of them at a time.
        required = sum(field.required for field in node.fields)
        if required == len(node.fields):  # nothing to count: the size is known
            undeclared = f"len({var}) != {required}"
        else:
            left = self.local()
            lines.append(f"{pad}{left} = len({var}) - {required}")
            undeclared = left
        locals_by_key = {field.name: self.local() for field in node.fields}
        required_locals = {f.name: locals_by_key[f.name] for f in node.fields if f.required}
        # The optional keys the inlined invariant predicates read: their locals start out as
        # the absent marker, so the predicates test them instead of the dict.
        start = self.start_values(node)
        read_by_rules = {
            f.name: locals_by_key[f.name] for f in node.fields if f.name in start and not f.required
        }
        gets = {key for key in read_by_rules if start[key] is not self.absent}
        optional = len(node.fields) - required
        if (
            node.extra is None
            and optional
            and not any(self.inlines_a_dict(field.node, inlining) for field in node.fields)
        ):
            # A dict holding every key its type declares (as the original's payloads do, None
            # or not) takes a branch of its own: no ``in`` test, count or group test. Closed,
            # a dict of that size missing a declared key holds an undeclared one: the read of
            # the missing key raises, which fails the check as it must. The branch doubles the
            # code only of a dict whose fields inline no dict of their own.
            lines.append(f"{pad}if {left} == {optional}:")
            for field in node.fields:
                item = locals_by_key[field.name]
                lines.append(f"{pad}    {item} = {var}[{field.name!r}]")
                lines += self.statements(field.node, item, indent + 1, inlining)
            lines.append(f"{pad}else:")
            indent += 1
            pad += "    "
        if read_by_rules:  # one unpacking of a tuple: cheaper than a load per local
            starts = self.name("_starts")
            held = tuple(start[key] for key in read_by_rules)
            self.namespace[starts] = held[0] if len(held) == 1 else held
            lines.append(f"{pad}{', '.join(read_by_rules.values())} = {starts}")
        grouped = 0  # optional keys since the last required one (or the start)
        last_required = max((i for i, f in enumerate(node.fields) if f.required), default=-1)
        # After the last required key, each group's test sits inside the one before: once
        # every key is accounted for, one test skips the groups left and the final test.
        guard = indent  # the indent of the latest group's test
        nested = False  # whether the tests after the last required key have begun
        for index, field in enumerate(node.fields):
            item = locals_by_key[field.name]
            if field.required:
                # Always read: a missing required key must fail even when the size matches.
                grouped = 0
                lines.append(f"{pad}{item} = {var}[{field.name!r}]")
                lines += self.statements(field.node, item, indent, inlining)
                continue
            if grouped == 0 or (grouped - 1) % _OPTIONAL_KEYS_PER_GROUP == 0:
                if index < last_required or not nested or guard >= _MAX_GUARD_INDENT:
                    guard = indent
                else:
                    guard += 1
                nested = index > last_required
                lines.append(f"{'    ' * guard}if {left}:")
            grouped += 1
            # ``in`` then a subscript beats ``get`` with a sentinel: optional keys are more
            # often absent than not, and ``in`` is half the cost of ``get`` on an absent key.
            inner_pad = "    " * (guard + 1)
            lines += [f"{inner_pad}if {field.name!r} in {var}:", f"{inner_pad}    {left} -= 1"]
            inner = self.statements(field.node, item, guard + 2, inlining)
            if inner or field.name in read_by_rules:
                lines += [f"{inner_pad}    {item} = {var}[{field.name!r}]", *inner]
        last = "    " * (guard + 1) if nested else pad  # the final test: in the last group's
        if node.extra is None:
            lines += [f"{last}if {undeclared}:", f"{last}    return False"]
        else:
            # Undeclared keys (vendor extensions) are rare: check them only then. Their text is
            # checked already where the dict test above is the C one.
            extra_checks = [] if self.native else [f"not {self.text_keys(var)}"]
            if not isinstance(node.extra, AnyNode):
                extra = self.predicate(node.extra)
                declared = self.const(node.declared, "_keys")
                extra_checks.append(
                    f"not all(map({extra}, [{var}[k] for k in {var}.keys() - {declared}]))"
                )
            for check in extra_checks:
                lines += [f"{last}if {undeclared} and {check}:", f"{last}    return False"]
        pad = "    " * indent_of_body
        for rule in node.invariants:
            lines += self.invariant(rule, var, pad, required_locals, read_by_rules, gets)
        self.locals_held = locals_before
        return lines

    def inlines_a_dict(self, node: Node, inlining: tuple[Node, ...]) -> bool:
        """Whether :meth:`statements` writes the body of a TypedDict into ``node``'s code."""
        if isinstance(node, UnionNode) and node.nullable and len(node.options) == 1:
            node = node.options[0]
        if isinstance(node, TypedDictNode):
            return self.inlinable(node, inlining)
        return isinstance(node, ListNode | DictNode) and self.loopable(node, inlining)

    def start_values(self, node: TypedDictNode) -> dict[str, object]:
        """The declared keys that the inlinable quick predicates of ``node``'s rules read with
        ``value.get(key[, default])`` or test with ``key in value``, each with its local's value
        while the key is absent: the default when the key is read by ``get`` alone, with one
        default (the local is then what that ``get`` returns), else :attr:`absent`. (A
        ``value[key]`` reads the local only where the key was found present.)"""
        reads: dict[str, dict[str, object]] = {}  # by key: defaults by ast.dump ("": an in)
        for rule in node.invariants:
            found = None if rule.holds is None else _returned_expression(rule.holds)
            if found is None:
                continue
            tree, parameter = found
            for read in ast.walk(tree):
                value: object
                if _is_get(read, parameter):
                    key, *default = (cast(ast.Constant, a) for a in read.args)
                    start = default[0] if default else ast.Constant(None)
                    label, value = ast.dump(start), start.value
                elif _is_membership(read, parameter):
                    key, label, value = cast(ast.Constant, read.left), "", self.absent
                else:
                    continue
                if key.value in node.declared:
                    reads.setdefault(key.value, {})[label] = value
        return {
            key: next(iter(starts.values())) if len(starts) == 1 else self.absent
            for key, starts in reads.items()
        }

    def invariant(
        self,
        rule: Invariant,
        var: str,
        pad: str,
        required_locals: dict[str, str] | None = None,
        optional_locals: dict[str, str] | None = None,
        gets: Collection[str] = (),
    ) -> list[str]:
        """Code failing when ``rule`` breaks on the dict ``var``; ``required_locals`` and
        ``optional_locals`` name the locals already holding its keys' values (an optional one
        the absent marker when the key is absent, or for a key in ``gets`` the default of the
        ``get`` that reads it), which the inlined predicate reuses."""
        check = [f"for _ in {self.const(rule.check, '_inv')}({var}):", "    return False"]
        if rule.holds is not None:  # the quick predicate settles the common case
            quick = self.inlined(
                rule.holds, var, required_locals or {}, optional_locals or {}, gets
            )
            quick = quick or f"{self.const(rule.holds, '_holds')}({var})"
            check = [f"if not ({quick}):", *("    " + line for line in check)]
        return [pad + line for line in check]

    def inlined(
        self,
        function: Callable[..., object],
        var: str,
        required_locals: dict[str, str],
        optional_locals: dict[str, str],
        gets: Collection[str] = (),
    ) -> str | None:
        """The expression of ``function`` — a ``def f(value): return <expression>`` — applied to
        ``var``, or ``None`` when it is not that simple (a call is emitted instead). Its reads
        of keys in ``required_locals`` or ``optional_locals`` read those locals instead (see
        :class:`_ReadLocals`).

        Inlined, the quick predicate of a rule costs no call, and no frame, per value.
        """
        expression = _returned_expression(function)
        if expression is None:
            return None
        tree, parameter = expression
        module = function.__globals__
        if (  # ``bool(x)`` (for mypy's sake) tests as ``x`` does in ``if not (...)``
            isinstance(tree, ast.Call)
            and isinstance(tree.func, ast.Name)
            and tree.func.id == "bool"
            and "bool" not in module
            and len(tree.args) == 1
            and not tree.keywords
        ):
            tree = tree.args[0]
        absent = self.const(self.absent, "_absent")
        reader = _ReadLocals(parameter, required_locals, optional_locals, gets, absent)
        tree = reader.visit(tree)
        for name in ast.walk(tree):
            if not isinstance(name, ast.Name):
                continue
            if name.id == parameter:
                name.id = var
            elif name in reader.reads:  # already the checker's own local
                continue
            elif name.id in module:
                name.id = self.const(module[name.id], "_g")
            elif not hasattr(builtins, name.id):  # builtins resolve in the checker as they did
                return None
        return ast.unparse(tree)

    def typed_dict_function(self, node: TypedDictNode) -> str:
        found = self.typed_dicts.get(node)
        if found is None and self.shares and not reaches_recursive(node):
            # The node's own checker, compiled once for every type that calls it: the same
            # call as a function of this checker's, whose source compile() would read again.
            found = self.typed_dicts[node] = self.const(fast_checker(node), "_td")
        if found is None:
            # Named by a counter only: a TypedDict's name is the caller's ("my-inner" is one).
            found = self.typed_dicts[node] = self.name("_td")
            # Exception-safe on its own: a missing key must fail this option of a union, not
            # abort the whole check before the next option is tried. A frame of its own: none
            # of the caller's locals is held there.
            held, self.locals_held = self.locals_held, 0
            body = self.typed_dict_body(node, "d", 2, (node,))
            self.locals_held = held
            lines = [f"def {found}(d):", "    try:", *body, "        return True"]
            lines += ["    except Exception:", "        return False"]
            self.functions.append("\n".join(lines))
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
        match kind_of(node):
            case AnyNode():
                return "True"
            case NoneNode():
                return f"{x} is None"
            case BoolNode():
                return f"({x} is True or {x} is False)"
            case NumberNode() as number:
                return self.number(number, x)
            case StrNode() as string:
                return self.string(string, x)
            case ChoiceNode() as choice:
                return self.choice(choice, x)
            case ListNode() as sequence:
                kind = "tuple" if sequence.is_tuple else "list"
                length = _length(x, sequence.min_len, sequence.max_len)
                return f"(type({x}) is {kind}{length}{self.items(sequence.item, x, x)})"
            case DictNode() as mapping:
                return (
                    f"({self.text_keyed_dict(x)}"
                    f"{_length(x, mapping.min_len, mapping.max_len)}"
                    f"{self.items(mapping.value, f'{x}.values()', x)})"
                )
            case TypedDictNode() as typed:
                return f"{self.typed_dict_function(typed)}({x})"
            case UnionNode() as union:
                return self.union(union, x)
            case unknown:
                assert_never(unknown)

    def number(self, node: NumberNode, x: str) -> str:
        multiple = [] if node.multiple_of is None else [f"{x} % {_literal(node.multiple_of)} == 0"]
        as_int = " and ".join(
            [f"type({x}) is int", *(f"{x} {op} {_literal(b)}" for op, b in node.bounds), *multiple]
        )
        if not node.is_float:
            return f"({as_int})"
        # A double holds it. The 309-digit bounds are names, not literals: written out for every
        # float key they were a third of the time compile() took on a large type.
        low, high = self.const(-FLOAT_INT_LIMIT, "_low"), self.const(FLOAT_INT_LIMIT, "_high")
        as_int += f" and {low} < {x} < {high}"
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
        text = f"type({x}) is str{_length(x, node.min_len, node.max_len)}"
        if not node.formats:  # a format's pattern takes no surrogate
            # isascii() first: a method call in C settles almost every string without a frame.
            text += f" and ({x}.isascii() or not _has_lone_surrogate({x}))"
        for fmt in node.formats:
            memo = _FormatMemo(re.compile(fmt.pattern).fullmatch)
            matches = self.const(memo, "_fmt")
            seen = self.name("_seen")  # a name of its own: no attribute load per string
            self.namespace[seen] = memo.seen
            text += f" and ({x} in {seen} or {matches}({x}))"
        return f"({text})"

    def choice(self, node: ChoiceNode, x: str) -> str:
        parts: list[str] = []
        if len(node.strs) == 1:
            parts.append(f"(type({x}) is str and {x} == {next(iter(node.strs))!r})")
        elif node.strs:
            parts.append(f"(type({x}) is str and {x} in {self.const(node.strs, '_strs')})")
        if node.ints:
            parts.append(f"(type({x}) is int and {x} in {self.const(node.ints, '_ints')})")
        parts += [f"{x} is {value!r}" for value in node.bools]
        parts += [f"type({x}) is {self.const(cls, '_enum')}" for cls in node.enum_classes]
        parts += [f"{x} is {self.const(member, '_member')}" for member in node.enum_members]
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
        elif _ambiguous_recursive(node):
            # Each option would check the same nested values again, 2**depth checks in all: not
            # confirmed here, the precise pass checks each (value, option) pair once.
            check = "False"
        else:
            check = "(" + " or ".join(self.expr(m, x) for m in node.options) + ")"
        return f"({x} is None or {check})" if node.nullable else check

    def items(self, item: Node, items: str, container: str) -> str:
        """`` and <every element of the iterable expression ``items`` is valid>`` (or "")."""
        if isinstance(item, AnyNode):
            return ""
        size = f"len({container})"
        if isinstance(item, NumberNode) and item.multiple_of is None:
            types = self.name("_t")
            if item.is_float and self.native:
                text = f" and _all_finite_numbers({items})"
            elif item.is_float:
                text = (
                    f" and (_count_of(map(type, {items}), float) == {size}"
                    f" and (_isfinite(_sum({items})) or _all_finite({items}))"
                    f" or ({types} := [*map(type, {items})]).count(float)"
                    f" + {types}.count(int) == {size} and _all_finite({items}))"
                )
            else:
                text = f" and {self.all_of_type(items, 'int', container)}"
            for op, bound in item.bounds:
                pick = "min" if op in (">", ">=") else "max"
                text += f" and (not {container} or {pick}({items}) {op} {_literal(bound)})"
            return text
        if isinstance(item, StrNode) and not item.formats and not _has_length(item):
            return (
                f" and {self.all_of_type(items, 'str', container)}"
                f" and (all(map(_str_isascii, {items}))"
                f" or not any(map(_has_lone_surrogate, {items})))"
            )
        if isinstance(item, ChoiceNode) and item.only_strings:
            types = self.name("_t")
            counts = " + ".join(
                [f"({types} := [*map(type, {items})]).count(str)"]
                + [f"{types}.count({self.const(cls, '_enum')})" for cls in item.enum_classes]
            )
            return (
                f" and ({self.all_of_type(items, 'str', container)} or {counts} == {size})"
                f" and {self.const(item.strs, '_strs')}.issuperset({items})"
            )
        return f" and all(map({self.predicate(item)}, {items}))"


def _ambiguous_recursive(node: UnionNode) -> bool:
    """Whether two options of the untagged union ``node`` take the same kind of container and
    values of ``node`` can nest without limit."""
    kinds = [
        "dict" if isinstance(option, TypedDictNode | DictNode) else option.is_tuple
        for option in node.options
        if isinstance(option, TypedDictNode | DictNode | ListNode)
    ]
    return len(kinds) > len(set(kinds)) and reaches_recursive(node)


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
