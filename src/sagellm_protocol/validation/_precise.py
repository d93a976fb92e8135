"""The precise pass: walks a value that the fast path did not confirm and collects every issue.

It is iterative (containers are generator frames on an explicit stack), so no nesting depth can
exhaust the interpreter stack; it reads containers through the builtin types' own methods, so
``dict``/``list`` subclasses run none of their overrides; and it skips every subtree that the
compiled checker of its node confirms, so an invalid value costs little more than a valid one.
Untrusting (``trust_compiled=False``, for tests) it runs no compiled code at all: every rule is
then checked by the interpreted definitions in ``_tree.rules``.
"""

from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, Final, TypeAlias, cast, get_args

from typing_extensions import assert_never

from .._registry import Invariant
from .._tree.analyse import reaches_any, reaches_recursive
from .._tree.cache import NodeCache
from .._tree.describe import closest, expected
from .._tree.nodes import (
    AnyNode,
    BoolNode,
    ChoiceNode,
    ContainerKind,
    DictNode,
    Field,
    LeafKind,
    ListNode,
    Node,
    NoneNode,
    NumberNode,
    StrNode,
    TypedDictNode,
    UnionNode,
)
from .._tree.rules import (
    bounds_hold,
    builtin_view,
    could_be,
    has_exact_str_keys,
    has_lone_surrogate,
    has_text_keys,
    is_chosen,
    is_missing,
    length_fits,
    tag_option,
)
from ._compile import Generator, fast_checker
from ._issues import Issue, Path, short_repr

__all__ = ["collect", "unreadable"]

Work: TypeAlias = tuple[Node, object, Path, bool]
"""A value to check against a node, at a path; whether its compiled check is still to run."""


_LEAVES: Final = frozenset(get_args(LeafKind))
_MISSING: Final = object()


def collect(
    node: Node, value: object, *, confirmed_invalid: bool = False, trust_compiled: bool = True
) -> list[Issue]:
    """Every issue of ``value`` against ``node``, in a stable order; ``[]`` when it is valid.

    ``confirmed_invalid`` skips the compiled pre-check of the root (the caller just ran it).
    ``trust_compiled=False`` runs no compiled code: an independent check of the compiler.
    """
    walk = _Walk(trust_compiled, {}, {}, MAX_SUGGESTIONS)
    walk.guarded(node, value, precheck=trust_compiled and not confirmed_invalid)
    return walk.issues


def unreadable(path: Path, error: Exception) -> Issue:
    """The issue of a value that raised ``error`` when read at ``path``."""
    message = f"expected a value that reads as its type, got {type(error).__name__}"
    return Issue(path, "type", message)


MAX_ISSUES: Final = 100
"""Issues kept per check; beyond it, one last issue (code ``more``) says how many more."""
MAX_SUGGESTIONS: Final = 20
""""Did you mean" searches per check: each costs a comparison with every declared name."""


class _Skipped(Exception):
    """An invariant read a key whose value is invalid: the rule is skipped, not guessed."""


class _RuleView(Mapping[str, object]):
    """A dict's keys as an invariant reads them: each value through :func:`builtin_view` (no
    subclass override runs, at any depth) unless known ``exact``; reading a key whose value is
    invalid skips the rule."""

    __slots__ = ("exact", "invalid", "present", "views")

    def __init__(
        self,
        present: dict[str, object],
        invalid: set[str | int],
        exact: frozenset[str],
        views: dict[int, tuple[object, object]],
    ) -> None:
        self.present = present
        self.invalid = invalid
        self.exact = exact
        """Keys whose values are exact builtins at every depth: read as they are, unscanned."""
        self.views = views

    def __getitem__(self, key: str) -> object:
        if key in self.invalid:
            raise _Skipped
        item = self.present[key]
        return item if key in self.exact else builtin_view(item, self.views)

    def __contains__(self, key: object) -> bool:
        if key in self.invalid:
            raise _Skipped
        return key in self.present

    def __iter__(self) -> Iterator[str]:
        return (key for key in self.present if key not in self.invalid)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Walk:
    __slots__ = (
        "active",
        "done",
        "dropped",
        "issues",
        "suggestions",
        "trust",
        "verdicts",
        "views",
        "where",
    )

    def __init__(
        self,
        trust: bool,
        verdicts: dict[tuple[int, Node], tuple[object, bool]],
        views: dict[int, tuple[object, object]],
        suggestions: int,
    ) -> None:
        self.trust = trust
        self.suggestions = suggestions
        """"Did you mean" searches left (none in a walk run only for its verdict)."""
        self.dropped = 0
        """Issues found beyond :data:`MAX_ISSUES`."""
        self.verdicts = verdicts
        """Whether each (value, option) pair tried by an ambiguous union is valid, shared by the
        nested walks of one check, so that each pair is walked once (the value is kept with its
        verdict: its id stays its own)."""
        self.views = views
        """The builtin view of each container an invariant read, shared like ``verdicts``."""
        self.issues: list[Issue] = []
        self.where: Path = ()
        """The path of the value visited last: where an exception the value raised is reported."""
        self.active: set[tuple[int, Node]] | None = None
        """Containers being walked under a recursive type, to report cycles instead of looping."""
        self.done: set[tuple[int, Node]] | None = None
        """(value, node) pairs walked under a recursive type: shared subtrees are walked once."""

    def add(self, path: Path, code: str, message: str) -> None:
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(tuple.__new__(Issue, (path, code, message)))
        else:
            self.dropped += 1

    def did_you_mean(
        self, sent: str, declared: Collection[str], registered: Mapping[str, str], form: str
    ) -> str:
        """``form`` filled with "did you mean" the closest name, or ``""`` when none is close
        or no search is left (see :data:`MAX_SUGGESTIONS`)."""
        if self.suggestions <= 0 or len(self.issues) >= MAX_ISSUES:
            return ""
        self.suggestions -= 1
        meant = closest(str.__str__(sent), declared, registered)
        return "" if meant is None else form.format(f"did you mean {meant!r}?")

    def guarded(self, node: Node, value: object, *, precheck: bool) -> None:
        """Walk ``value`` from the root, reporting what it raises as an issue."""
        try:
            self.run(node, value, (), precheck=precheck)
        except RecursionError:  # only an ambiguous union inside a recursive type nests calls
            self.add((), "type", "expected a value nested less deeply, got deeper")
        except Exception as error:
            # A value that lies about itself (a ``__class__`` that raises, a ``Mock(spec=dict)``, a
            # proxy, a dict another thread resizes during the walk) is invalid, never a crash.
            self.add(*unreadable(self.where, error))
        if self.dropped:
            more = f"and {self.dropped} more issue{'' if self.dropped == 1 else 's'}"
            self.issues.append(Issue((), "more", more))

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

    def confirmed(self, node: Node, value: object) -> bool:
        """Whether the compiled checker, when trusted, confirms ``value``."""
        return self.trust and fast_checker(node)(value)

    def visit(self, node: Node, value: object, path: Path, precheck: bool) -> Iterator[Work] | None:
        """Check a leaf now; for a container return the frame that walks it."""
        self.where = path
        # By the kind's group, read from a set: this runs for every node the pass walks, and
        # ``match`` (or ``cast``) would cost it a tenth of a microsecond each time. ``leaf`` and
        # ``container`` then dispatch exhaustively within their group.
        kind = type(node)
        if kind is AnyNode:
            return None
        if kind in _LEAVES:
            if not self.confirmed(node, value):
                self.leaf(node, value, path)  # type: ignore[arg-type]
            return None
        if reaches_recursive(node):
            return self.recursive(node, value, path)  # type: ignore[arg-type]
        if precheck and self.confirmed(node, value):
            return None
        return self.container(node, value, path)  # type: ignore[arg-type]

    def recursive(self, node: ContainerKind, value: object, path: Path) -> Iterator[Work] | None:
        """Walk a value of a type that can nest without limit, each (value, node) pair once."""
        if not isinstance(value, list | tuple | dict):
            return self.container(node, value, path)
        key = (id(value), node)
        if self.active is None or self.done is None:
            self.active, self.done = set(), set()
        if key in self.active:
            self.add(path, "type", f"expected {expected(node)}, got a reference cycle")
            return None
        if key in self.done:
            return None
        self.done.add(key)
        frame = self.container(node, value, path)
        return None if frame is None else self.tracked(key, frame)

    def tracked(self, key: tuple[int, Node], frame: Iterator[Work]) -> Iterator[Work]:
        active = self.active
        assert active is not None
        active.add(key)
        yield from frame
        active.discard(key)

    def container(self, node: ContainerKind, value: object, path: Path) -> Iterator[Work] | None:
        # isinstance, not ``match``, for speed; exhaustive all the same: mypy holds the last
        # call to the one kind left, so a new kind of container fails the type check here.
        if isinstance(node, TypedDictNode):
            return self.typed_dict(node, value, path)
        if isinstance(node, ListNode):
            return self.sequence(node, value, path)
        if isinstance(node, DictNode):
            return self.mapping(node, value, path)
        return self.union(node, value, path)

    def expect(self, node: Node, value: object, path: Path, code: str = "type") -> None:
        self.add(path, code, f"expected {expected(node)}, got {short_repr(value)}")

    # Leaves.

    def leaf(self, node: LeafKind, value: object, path: Path) -> None:
        kind = type(value)
        match node:
            case NumberNode():
                self.number(node, value, path)
            case StrNode():
                self.string(node, value, path)
            case ChoiceNode():
                if not is_chosen(node, value):
                    self.not_chosen(node, value, path)
            case BoolNode():
                if kind is not bool:
                    self.expect(node, value, path)
            case NoneNode():
                if value is not None:
                    self.expect(node, value, path)
            case unknown:
                assert_never(unknown)

    def string(self, node: StrNode, value: object, path: Path) -> None:
        if not issubclass(type(value), str):
            self.expect(node, value, path)
            return
        text = str.__str__(cast(str, value))
        if has_lone_surrogate(text):
            message = f"expected {expected(node)}, got a str with a lone surrogate (no Unicode)"
            self.add(path, "type", message)
        elif not length_fits(node, len(text)):
            self.add(path, "length", f"expected {expected(node)}, got a str of length {len(text)}")
        elif not all(fmt.matches(text) for fmt in node.formats):
            self.expect(node, value, path, "format")

    def not_chosen(self, node: ChoiceNode, value: object, path: Path) -> None:
        message = f"expected {expected(node)}, got {short_repr(value)}"
        if isinstance(value, str) and len(node.shown_values) > 1:
            message += self.did_you_mean(value, node.strs, node.suggestions, " ({})")
        self.add(path, "literal", message)

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
        if not bounds_hold(node, number):
            self.expect(node, value, path, "range")

    # Containers: each handler checks what it can at once and returns a frame (a generator
    # yielding the work inside) only when nested containers remain to be walked.

    def sequence(self, node: ListNode, value: object, path: Path) -> Iterator[Work] | None:
        kind: Any = tuple if node.is_tuple else list
        if not isinstance(value, kind):
            self.expect(node, value, path)
            return None
        items: Iterator[object] = kind.__iter__(value)  # the builtin's own: no override runs
        size: int = kind.__len__(value)
        if not length_fits(node, size):
            spelled = kind.__name__
            self.add(path, "length", f"expected {expected(node)}, got a {spelled} of length {size}")
        return self.each(node.item, enumerate(items), path)

    def mapping(self, node: DictNode, value: object, path: Path) -> Iterator[Work] | None:
        if not isinstance(value, dict):
            self.expect(node, value, path)
            return None
        size = dict.__len__(value)
        if not length_fits(node, size):
            self.add(path, "length", f"expected {expected(node)}, got an object of {size} keys")
        return self.each(node.value, iter(self.string_keys(value, path)), path)

    def string_keys(self, value: object, path: Path) -> list[tuple[str, object]]:
        """The entries of the dict ``value`` (typed ``object``: it may be hostile) whose keys are
        Unicode text (``str``, no lone surrogate); every other key is an issue."""
        entries: list[tuple[str, object]] = []
        for key, item in dict.items(cast(dict[object, object], value)):
            if not issubclass(type(key), str):
                self.add(path, "type", f"expected str keys, got the key {short_repr(key)}")
                continue
            text = str.__str__(cast(str, key))
            if has_lone_surrogate(text):
                message = f"expected str keys, got the key {short_repr(text)} with a lone surrogate"
                self.add(path, "type", f"{message} (no Unicode)")
            else:
                entries.append((text, item))
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
            leaf = cast(LeafKind, node)
            if self.trust:
                fast = fast_checker(leaf)
                for key, item in entries:
                    if not fast(item):
                        self.leaf(leaf, item, (*path, key))
            else:
                for key, item in entries:
                    self.leaf(leaf, item, (*path, key))
            return None
        if reaches_recursive(node) or not self.trust:
            return ((node, item, (*path, key), self.trust) for key, item in entries)
        fast = fast_checker(node)
        return ((node, item, (*path, key), False) for key, item in entries if not fast(item))

    def typed_dict(self, node: TypedDictNode, value: object, path: Path) -> Iterator[Work] | None:
        if not isinstance(value, dict):
            self.expect(node, value, path)
            return None
        start = len(self.issues)
        present: dict[str, object]
        if type(value) is dict and has_exact_str_keys(value) and has_text_keys(value):
            present = value  # exact str keys: lookups run no user code
        else:
            # A plain copy with the str keys: invariants then read a dict whose overrides can't run.
            present = dict(self.string_keys(value, path))
        bad = _field_scanner(node)(present) if self.trust else range(len(node.fields))
        unknown: list[str] = []
        if len(present) > len(node.declared) or not node.declared.issuperset(present):
            unknown = [key for key in present if key not in node.declared]
        if not bad and not unknown:
            self.invariants(node, present, path, start, bad)
            return None
        modes = _field_modes(node)
        typed_extra = node.extra is not None and not isinstance(node.extra, AnyNode)
        if (unknown and typed_extra) or any(
            modes[index] is _NESTED and node.fields[index].name in present for index in bad
        ):
            # Containers to walk: a frame, so the issues stay in declaration order.
            return self.fields(node, present, path, bad, unknown, start)
        for index in bad:  # only leaves, flat containers and missing keys: done at once
            self.field(node.fields[index], modes[index], present, path)
        self.unknown_keys(node, unknown, present, path)
        self.invariants(node, present, path, start, bad)
        return None

    def field(self, field: Field, mode: str, present: dict[str, object], path: Path) -> Work | None:
        """Report a failing field now, or return the work of walking it (a nested one)."""
        name, node, required = field
        item = present.get(name, _MISSING)
        if item is _MISSING:
            if required:
                self.add((*path, name), "missing", "required key is missing")
        elif mode is _LEAF:
            self.leaf(cast(LeafKind, node), item, (*path, name))
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
        bad: list[int] | range,
        unknown: list[str],
        start: int,
    ) -> Iterator[Work]:
        """Issues of the failing fields in declaration order, then unknown keys, then invariants."""
        modes = _field_modes(node)
        for index in bad:
            work = self.field(node.fields[index], modes[index], present, path)
            if work is not None:
                yield work
        if node.extra is None or isinstance(node.extra, AnyNode):
            self.unknown_keys(node, unknown, present, path)
        else:
            for key in unknown:
                yield node.extra, present[key], (*path, key), self.trust
        self.invariants(node, present, path, start, bad)

    def unknown_keys(
        self, node: TypedDictNode, unknown: list[str], present: dict[str, object], path: Path
    ) -> None:
        if node.extra is None:
            absent = node.declared.difference(present)  # a key that is there was not meant
            for key in unknown:
                hint = self.did_you_mean(key, absent, node.suggestions, "; {}")
                self.add((*path, key), "extra", f"unknown key ({node.name} is closed{hint})")

    def invariants(
        self,
        node: TypedDictNode,
        present: dict[str, object],
        path: Path,
        start: int,
        bad: list[int] | range,
    ) -> None:
        """Run ``node``'s invariants over its valid keys (issues from ``start`` on are its own;
        ``bad`` lists the fields the compiled checker did not confirm).

        A rule that reads a key whose value has an issue is skipped: its verdict would be a guess.
        """
        if not node.invariants:
            return
        depth = len(path)
        invalid = {issue.path[depth] for issue in self.issues[start:] if len(issue.path) > depth}
        exact = _exact_fields(node)
        if bad:
            exact = exact.difference([node.fields[index].name for index in bad])
        view = _RuleView(present, invalid, exact, self.views)
        for rule in node.invariants:
            self.invariant(rule, view, path)

    def invariant(self, rule: Invariant, value: Mapping[str, Any], path: Path) -> None:
        try:
            for where, message in rule.check(value):
                self.add((*path, *where), "invariant", str(message))
        except _Skipped:
            pass
        except Exception as error:  # a broken rule must not hide the value's other issues
            self.add(path, "invariant", f"{rule.name} failed: {type(error).__name__}")

    def union(self, node: UnionNode, value: object, path: Path) -> Iterator[Work] | None:
        """Check a union's value through its one plausible option (a flat union never nests)."""
        if value is None:
            if not node.nullable:
                self.expect(node, value, path)
            return None
        if node.tag is not None:
            return self.tagged(node, value, path)
        candidates = [option for option in node.options if could_be(option, value)]
        if len(candidates) > 1 and isinstance(value, dict):
            candidates = _plausible(candidates, value)
        if len(candidates) == 1:
            return self.visit(candidates[0], value, path, False)
        if not candidates:
            self.expect(node, value, path)
        elif not any(self.valid(option, value) for option in candidates):
            self.expect(node, value, path, "union")
        return None

    def valid(self, node: Node, value: object) -> bool:
        if self.confirmed(node, value):
            return True
        key = (id(value), node)
        known = self.verdicts.get(key)
        if known is None:
            inner = _Walk(self.trust, self.verdicts, self.views, 0)
            inner.guarded(node, value, precheck=False)
            known = self.verdicts[key] = (value, not inner.issues)
        return known[1]

    def tagged(self, node: UnionNode, value: object, path: Path) -> Iterator[Work] | None:
        if not isinstance(value, dict):
            self.expect(node, value, path)
            return None
        assert node.tag is not None
        tag, option = tag_option(node, value)
        where = (*path, node.tag)
        shown = ", ".join(repr(name) for name in node.by_tag)
        if is_missing(tag):
            self.add(where, "missing", f"required tag key is missing: expected one of {shown}")
            return None
        if option is None:
            message = f"expected one of {shown}, got {short_repr(tag)}"
            if isinstance(tag, str):
                message += self.did_you_mean(tag, list(node.by_tag), {}, " ({})")
            self.add(where, "literal", message)
            return None
        return self.visit(option, value, path, False)


def _plausible(options: list[Node], value: dict[Any, Any]) -> list[Node]:
    """The options a dict most plausibly meant, for a union of TypedDicts with no tag key.

    Narrowed step by step, each step kept only if it leaves an option: the TypedDicts whose
    string literals the dict matches and whose required literal keys it has (a message
    without its optional ``type`` is no function call); of those, the ones with a literal key
    present; then the ones with every required key.
    """
    typed = [option for option in options if isinstance(option, TypedDictNode)]
    if len(typed) < len(options):  # a dict[...] option takes any dict: nothing to narrow
        return options

    def literals_fit(node: TypedDictNode) -> bool:
        return all(
            is_chosen(choice, value[name]) if name in value else not required
            for name, choice, required in _literal_fields(node)
        )

    def has_a_literal(node: TypedDictNode) -> bool:
        return any(name in value for name, _, _ in _literal_fields(node))

    def complete(node: TypedDictNode) -> bool:
        return all(field.name in value for field in node.fields if field.required)

    for step in (literals_fit, has_a_literal, complete):
        kept = [option for option in typed if step(option)]
        if not kept:
            break
        typed = kept
    return list(typed) if typed else options


def _literal_fields(node: TypedDictNode) -> Iterator[tuple[str, ChoiceNode, bool]]:
    """Name, choice and requiredness of each field that takes string literals."""
    for field in node.fields:
        if isinstance(field.node, ChoiceNode) and field.node.strs:
            yield field.name, field.node, field.required


_LEAF: Final = "leaf"
"""A field checked at once by :meth:`_Walk.leaf`."""
_FLAT: Final = "flat"
"""A list or dict of leaves: :meth:`_Walk.visit` checks it at once, without a frame."""
_NESTED: Final = "nested"
"""A field holding containers: walked in a frame of its own."""


_FIELD_MODES: Final[NodeCache[TypedDictNode, tuple[str, ...]]] = NodeCache()
_EXACT_FIELDS: Final[NodeCache[TypedDictNode, frozenset[str]]] = NodeCache()
_FIELD_SCANNERS: Final[NodeCache[TypedDictNode, Callable[[dict[str, object]], list[int]]]] = (
    NodeCache()
)


def _field_modes(node: TypedDictNode) -> tuple[str, ...]:
    """How the precise pass checks each field, in declaration order (made once per node)."""
    return _FIELD_MODES.get(node, lambda n: tuple(_mode(f.node) for f in n.fields))


def _exact_fields(node: TypedDictNode) -> frozenset[str]:
    """The fields whose values, once the compiled checker confirms them, are exact builtins at
    every depth (it confirms no subclass, and no ``Any`` lies below): invariants read them as
    they are (made once per node)."""
    return _EXACT_FIELDS.get(
        node, lambda n: frozenset(field.name for field in n.fields if not reaches_any(field.node))
    )


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


def _field_scanner(node: TypedDictNode) -> Callable[[dict[str, object]], list[int]]:
    """A compiled function listing the indexes of ``node.fields`` that are missing (if required)
    or not confirmed valid in a ``dict`` whose keys are exact ``str`` (made once per node)."""
    return _FIELD_SCANNERS.get(node, _compile_scanner)


def _compile_scanner(node: TypedDictNode) -> Any:
    generator = Generator()
    missing = generator.const(object(), "_missing")
    lines = ["def _scan(d):", "    bad = []"]
    for index, field in enumerate(node.fields):
        check = generator.expr(field.node, "x")
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
    return generator.define("_scan", lines, "field scanner")
