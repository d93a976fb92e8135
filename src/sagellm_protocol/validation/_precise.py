"""The precise pass: walks a value that the fast path did not confirm and collects every issue.

It is iterative (containers are generator frames on an explicit stack), so no nesting depth can
exhaust the interpreter stack; it reads containers through the builtin types' own methods, so
``dict``/``list`` subclasses run none of their overrides; and it skips every subtree that the
compiled checker of its node confirms, so an invalid value costs little more than a valid one.
"""

from collections.abc import Iterator
from typing import Final, TypeAlias, cast

from ._compile import fast_checker, field_scanner
from ._issues import Issue, Path, short_repr
from ._model import (
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
    describe,
    is_unbounded,
)

__all__ = ["collect"]

Work: TypeAlias = tuple[Node, object, Path, bool]
"""A value to check against a node, at a path; whether its compiled check is still to run."""

_LEAVES: Final = frozenset({NoneNode, BoolNode, NumberNode, StrNode, ChoiceNode})
_MISSING: Final = object()


def collect(node: Node, value: object, *, confirmed_invalid: bool = False) -> list[Issue]:
    """Every issue of ``value`` against ``node``, in a stable order; ``[]`` when it is valid.

    ``confirmed_invalid`` skips the compiled pre-check of the root (the caller just ran it).
    """
    walk = _Walk()
    try:
        walk.run(node, value, (), precheck=not confirmed_invalid)
    except RecursionError:  # only an ambiguous union inside a recursive type nests calls
        walk.issues.append(Issue((), "type", "expected a value nested less deeply, got deeper"))
    return walk.issues


class _Walk:
    __slots__ = ("active", "done", "issues", "structural")

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.structural = 0
        """Issues other than invariants: a dict's invariants run only if none appeared inside."""
        self.active: set[tuple[int, int]] | None = None
        """Containers being walked under a recursive type, to report cycles instead of looping."""
        self.done: set[tuple[int, int]] | None = None
        """(value, node) pairs walked under a recursive type: shared subtrees are walked once."""

    def add(self, path: Path, code: str, message: str) -> None:
        self.issues.append(tuple.__new__(Issue, (path, code, message)))
        if code != "invariant":
            self.structural += 1

    def run(self, node: Node, value: object, path: Path, *, precheck: bool) -> None:
        frame = self.visit(node, value, path, precheck)
        if frame is None:
            return
        stack = [frame]
        while stack:
            work = next(stack[-1], None)
            if work is None:
                stack.pop()
                continue
            frame = self.visit(*work)
            if frame is not None:
                stack.append(frame)

    def visit(self, node: Node, value: object, path: Path, precheck: bool) -> Iterator[Work] | None:
        """Check a leaf now; for a container return the frame that walks it."""
        kind = type(node)
        if kind is AnyNode:
            return None
        if kind in _LEAVES:
            if not fast_checker(node)(value):
                self.leaf(node, value, path)
            return None
        if node.unbounded or (node.unbounded is None and is_unbounded(node)):
            if not isinstance(value, list | tuple | dict):
                return self.container(node, value, path)
            key = (id(value), id(node))
            if self.active is None or self.done is None:
                self.active, self.done = set(), set()
            if key in self.active:
                self.add(path, "type", f"expected {_describe(node)}, got a reference cycle")
                return None
            if key in self.done:
                return None
            self.done.add(key)
            frame = self.container(node, value, path)
            return None if frame is None else self.tracked(key, frame)
        if precheck and fast_checker(node)(value):
            return None
        return self.container(node, value, path)

    def tracked(self, key: tuple[int, int], frame: Iterator[Work]) -> Iterator[Work]:
        active = self.active
        assert active is not None
        active.add(key)
        yield from frame
        active.discard(key)

    def container(self, node: Node, value: object, path: Path) -> Iterator[Work] | None:
        if isinstance(node, TypedDictNode):
            return self.typed_dict(node, value, path)
        if isinstance(node, ListNode):
            return self.sequence(node, value, path)
        if isinstance(node, DictNode):
            return self.mapping(node, value, path)
        assert isinstance(node, UnionNode)
        return self.union(node, value, path)

    def expect(self, node: Node, value: object, path: Path, code: str = "type") -> None:
        self.add(path, code, f"expected {_describe(node)}, got {short_repr(value)}")

    # Leaves.

    def leaf(self, node: Node, value: object, path: Path) -> None:
        kind = type(value)
        if isinstance(node, NumberNode):
            self.number(node, value, path)
        elif isinstance(node, StrNode):
            if not issubclass(kind, str):
                self.expect(node, value, path)
                return
            text = str.__str__(value)
            size = len(text)
            if (node.min_len is not None and size < node.min_len) or (
                node.max_len is not None and size > node.max_len
            ):
                self.add(path, "length", f"expected {_describe(node)}, got a str of length {size}")
            elif not all(fmt.matches(text) for fmt in node.formats):
                self.expect(node, value, path, "format")
        elif isinstance(node, ChoiceNode):
            if not _chosen(node, value):
                self.expect(node, value, path, "literal")
        elif isinstance(node, BoolNode):
            if kind is not bool:
                self.expect(node, value, path)
        elif value is not None:  # NoneNode
            self.expect(node, value, path)

    def number(self, node: NumberNode, value: object, path: Path) -> None:
        kind = type(value)
        number: int | float
        if issubclass(kind, int) and kind is not bool:
            number = int.__index__(cast(int, value))
        elif node.is_float and issubclass(kind, float):
            number = float.__float__(cast(float, value))
        else:
            self.expect(node, value, path)
            return
        # ``number`` is an exact int or a finite float now: the compiled check is the bounds check.
        if not fast_checker(node)(number):
            self.expect(node, value, path, "range")

    # Containers: each handler checks what it can at once and returns a frame (a generator
    # yielding the work inside) only when nested containers remain to be walked.

    def sequence(self, node: ListNode, value: object, path: Path) -> Iterator[Work] | None:
        if node.is_tuple:
            if not isinstance(value, tuple):
                self.expect(node, value, path)
                return None
            items = tuple.__iter__(value)
            size = tuple.__len__(value)
        else:
            if not isinstance(value, list):
                self.expect(node, value, path)
                return None
            items = list.__iter__(value)
            size = list.__len__(value)
        if (node.min_len is not None and size < node.min_len) or (
            node.max_len is not None and size > node.max_len
        ):
            kind = "tuple" if node.is_tuple else "list"
            self.add(path, "length", f"expected {_describe(node)}, got a {kind} of length {size}")
        return self.each(node.item, enumerate(items), path)

    def mapping(self, node: DictNode, value: object, path: Path) -> Iterator[Work] | None:
        if not isinstance(value, dict):
            self.expect(node, value, path)
            return None
        size = dict.__len__(value)
        if (node.min_len is not None and size < node.min_len) or (
            node.max_len is not None and size > node.max_len
        ):
            self.add(path, "length", f"expected {_describe(node)}, got an object of {size} keys")
        return self.each(node.value, iter(self.string_keys(value, path)), path)

    def string_keys(self, value: object, path: Path) -> list[tuple[str, object]]:
        """The str-keyed entries of the dict ``value`` (typed ``object``: it may be hostile)."""
        entries: list[tuple[str, object]] = []
        for key, item in dict.items(cast(dict[object, object], value)):
            if issubclass(type(key), str):
                entries.append((str.__str__(key), item))
            else:
                self.add(path, "type", f"expected str keys, got the key {short_repr(key)}")
        return entries

    def each(
        self,
        node: Node,
        entries: Iterator[tuple[str, object]] | Iterator[tuple[int, object]],
        path: Path,
    ) -> Iterator[Work] | None:
        if type(node) is AnyNode:
            return None
        if type(node) in _LEAVES:
            fast = fast_checker(node)
            for key, item in entries:
                if not fast(item):
                    self.leaf(node, item, (*path, key))
            return None
        if is_unbounded(node):
            return ((node, item, (*path, key), True) for key, item in entries)
        fast = fast_checker(node)
        return ((node, item, (*path, key), False) for key, item in entries if not fast(item))

    def typed_dict(self, node: TypedDictNode, value: object, path: Path) -> Iterator[Work] | None:
        if not isinstance(value, dict):
            self.expect(node, value, path)
            return None
        before = self.structural
        present: dict[str, object]
        if type(value) is dict and [*map(type, value)].count(str) == len(value):
            present = value  # exact str keys: lookups run no user code
        else:
            # A plain copy with the str keys: invariants then read a dict whose overrides can't run.
            present = dict(self.string_keys(value, path))
        bad = field_scanner(node)(present)
        unknown: list[str] = []
        if len(present) > len(node.declared) or not node.declared.issuperset(present):
            unknown = [key for key in present if key not in node.declared]
        if not bad and not unknown:
            if node.invariants and self.structural == before:
                self.invariants(node, present, path)
            return None
        plan = _plan(node)
        for index in bad:
            if plan[index][2] is _NESTED and plan[index][0] in present:
                # Containers to walk: a frame, so the issues stay in declaration order.
                return self.fields(node, present, path, bad, unknown, before)
        if unknown and node.extra is not None and not isinstance(node.extra, AnyNode):
            return self.fields(node, present, path, bad, unknown, before)
        for index in bad:  # only leaves, flat containers and missing keys: done at once
            self.field(plan[index], present, path)
        if node.extra is None:
            for key in unknown:
                self.add((*path, key), "extra", f"unknown key ({node.name} is closed)")
        if self.structural == before:
            self.invariants(node, present, path)
        return None

    def field(
        self, entry: tuple[str, Node, str], present: dict[str, object], path: Path
    ) -> Work | None:
        """Report a failing field now, or return the work of walking it (a nested one)."""
        name, node, mode = entry
        item = present.get(name, _MISSING)
        if item is _MISSING:
            self.add((*path, name), "missing", "required key is missing")
        elif mode is _LEAF:
            self.leaf(node, item, (*path, name))
        elif mode is _FLAT:  # a list or dict of leaves: never nests, so no frame comes back
            if type(node) is ListNode:
                self.sequence(node, item, (*path, name))
            else:
                self.mapping(cast(DictNode, node), item, (*path, name))
        else:
            return node, item, (*path, name), False
        return None

    def fields(
        self,
        node: TypedDictNode,
        present: dict[str, object],
        path: Path,
        bad: list[int],
        unknown: list[str],
        before: int,
    ) -> Iterator[Work]:
        """Issues of the failing fields in declaration order, then unknown keys, then invariants.

        Invariants run only if no structural issue appeared in this dict since ``before``.
        """
        plan = _plan(node)
        for index in bad:
            work = self.field(plan[index], present, path)
            if work is not None:
                yield work
        if node.extra is None:
            for key in unknown:
                self.add((*path, key), "extra", f"unknown key ({node.name} is closed)")
        elif not isinstance(node.extra, AnyNode):
            for key in unknown:
                yield node.extra, present[key], (*path, key), True
        if self.structural == before:
            self.invariants(node, present, path)

    def invariants(self, node: TypedDictNode, value: dict[str, object], path: Path) -> None:
        for check in node.invariants:
            try:
                for where, message in check(value):
                    self.add((*path, *where), "invariant", str(message))
            except Exception as error:  # a broken rule must not hide the value's other issues
                name = getattr(check, "__name__", "invariant")
                self.add(path, "invariant", f"{name} failed: {type(error).__name__}")

    def union(self, node: UnionNode, value: object, path: Path) -> Iterator[Work] | None:
        """Check a union's value through its one plausible member (a flat union never nests)."""
        if value is None:
            if not node.nullable:
                self.expect(node, value, path)
            return None
        if node.tag is not None:
            return self.tagged(node, value, path)
        candidates = [member for member in node.members if _could_be(member, value)]
        if len(candidates) == 1:
            return self.visit(candidates[0], value, path, False)
        if not candidates:
            self.expect(node, value, path)
        elif not any(_valid(member, value) for member in candidates):
            self.expect(node, value, path, "union")
        return None

    def tagged(self, node: UnionNode, value: object, path: Path) -> Iterator[Work] | None:
        if not isinstance(value, dict):
            self.expect(node, value, path)
            return None
        assert node.tag is not None
        tag: object = _MISSING
        for key, item in dict.items(value):
            if issubclass(type(key), str) and str.__str__(key) == node.tag:
                tag = item
        where = (*path, node.tag)
        if tag is _MISSING:
            shown = ", ".join(repr(name) for name in node.by_tag)
            self.add(where, "missing", f"required tag key is missing: expected one of {shown}")
            return None
        member = node.by_tag.get(str.__str__(tag)) if issubclass(type(tag), str) else None
        if member is None:
            shown = ", ".join(repr(name) for name in node.by_tag)
            self.add(where, "literal", f"expected one of {shown}, got {short_repr(tag)}")
            return None
        return self.visit(member, value, path, False)


_LEAF: Final = "leaf"
"""A field checked at once by :meth:`_Walk.leaf`."""
_FLAT: Final = "flat"
"""A list or dict of leaves: :meth:`_Walk.visit` checks it at once, without a frame."""
_NESTED: Final = "nested"
"""A field holding containers: walked in a frame of its own."""

_Plan: TypeAlias = tuple[tuple[str, Node, str], ...]
_PLANS: dict[int, _Plan] = {}
_DESCRIPTIONS: dict[int, str] = {}


def _plan(node: TypedDictNode) -> _Plan:
    """Each field's name, node and how the precise pass checks it."""
    plan = _PLANS.get(id(node))
    if plan is None:
        plan = _PLANS[id(node)] = tuple((f.name, f.node, _mode(f.node)) for f in node.fields)
    return plan


def _mode(node: Node) -> str:
    if type(node) in _LEAVES:
        return _LEAF
    inner = (
        node.item
        if isinstance(node, ListNode)
        else node.value
        if isinstance(node, DictNode)
        else None
    )
    if inner is not None and (type(inner) in _LEAVES or isinstance(inner, AnyNode)):
        return _FLAT
    return _NESTED


def _describe(node: Node) -> str:
    text = _DESCRIPTIONS.get(id(node))
    if text is None:
        text = _DESCRIPTIONS[id(node)] = describe(node)
    return text


def _chosen(node: ChoiceNode, value: object) -> bool:
    kind = type(value)
    if kind in node.enums or any(value is member for member in node.members):
        return True
    if issubclass(kind, str):
        return str.__str__(value) in node.strs
    if kind is bool:
        return value in node.bools
    if issubclass(kind, int):
        return int.__index__(cast(int, value)) in node.ints
    return value is None and node.none


def _could_be(node: Node, value: object) -> bool:
    """Whether ``value``'s type is one ``node`` accepts (its content aside)."""
    kind = type(value)
    if isinstance(node, TypedDictNode | DictNode | UnionNode):
        return issubclass(kind, dict)
    if isinstance(node, ListNode):
        return issubclass(kind, tuple if node.is_tuple else list)
    if isinstance(node, StrNode):
        return issubclass(kind, str)
    if isinstance(node, BoolNode):
        return kind is bool
    if isinstance(node, NumberNode):
        numeric = issubclass(kind, int) or (node.is_float and issubclass(kind, float))
        return numeric and kind is not bool
    if isinstance(node, ChoiceNode):
        return (
            kind in node.enums
            or (bool(node.strs) and issubclass(kind, str))
            or (bool(node.bools) and kind is bool)
            or (bool(node.ints) and issubclass(kind, int) and kind is not bool)
        )
    return True


def _valid(node: Node, value: object) -> bool:
    return fast_checker(node)(value) or not collect(node, value, confirmed_invalid=True)
