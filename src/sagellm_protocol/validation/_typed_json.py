"""validate_json()'s typed path: a parse that checks, in one pass, what msgspec types can say.

With the ``fast`` extra, a type's tree is mirrored once into msgspec types: TypedDicts become
TypedDicts msgspec decodes straight into dicts, bounds and lengths become ``Meta`` constraints,
choices ``Literal``. msgspec skips a key a TypedDict does not declare (it cannot refuse one), so
the decoded value's keys are counted against the text's (:func:`same_key_count`): a text with an
undeclared key (a vendor extension, rare) or a key given twice goes to the untyped path, which
decides. What msgspec cannot say — ``multiple_of``, unions it cannot tell apart (a union tagged
by a key among them: msgspec tags Structs only), recursive types — is decoded as ``Any`` and left
to the node's compiled checker; string formats are decoded as ``str`` and matched by it; each
TypedDict's invariants run on the built dict. These residual checks are written inline into one
function per document type (a TypedDict nested more than four deep calls its own). A document
that is itself a union tagged by a key (``StreamEvent``) is a union of Structs that forbid
unknown fields, converted to dicts.

The typed path only ever accepts: whatever msgspec refuses, or a residual check does not
confirm, goes through the untyped parse and ``validate()``, which decide and explain. The
mirror is never more lenient than the tree, so both paths accept the same texts and build equal
values; a property test holds them to that over every type.

Where the C module is built, a document whose mirror has no Struct is not decoded by msgspec at
all: :func:`decoder_spec` turns the mirror's type into the program of the C typed decoder
(``_typed_decode.c``), which reads the text once into the dicts and lists ``json.loads`` builds,
refusing an undeclared, missing or repeated key itself, so no key count follows. It accepts a
subset of what msgspec's decode of the same type accepts, so the residual checks are the same.

One difference is visible: a tagged document built by a Struct has its keys in declaration
order (the tag first), where the untyped parse keeps the order of the text.
"""

import ast
import builtins
import math
import re
from collections.abc import Callable
from typing import (
    Annotated,
    Any,
    Final,
    Literal,
    NotRequired,
    TypedDict,
    Union,
    cast,
    get_args,
    get_origin,
)

from typing_extensions import assert_never

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
from ._compile import Generator, _returned_expression

__all__ = ["Mirror", "decoder_spec", "document_mirror", "mirror", "same_key_count"]

Check = Callable[[Any], bool]
"""True only when the built value is valid in what msgspec did not check."""

Emit = Callable[[Generator, str, int, int], list[str]]
"""Writes a residual check inline: ``emit(generator, var, indent, depth)`` gives the statements
(at least one), at ``indent`` levels, that ``return False`` where the built value in ``var`` is
invalid in what msgspec did not check; ``depth`` counts the TypedDicts inlined around them.
Written into one function per document type, the checks cost no call per value
(ChatCompletionRequest, 8 messages: 25.6k -> 17.9k instructions; KVCacheMigrateResponse: 281k
-> 205k)."""

Shape = None | bool | tuple[Any, ...] | list[Any] | dict[str, Any]
"""Where a decoded value may hold dicts (the keys :func:`same_key_count` counts): ``None``,
nowhere; ``True``, anywhere (an ``Any`` part); ``[item_shape]``, in a list's items;
``(value_shape,)``, in a dict (a ``dict[str, X]``) and its values; ``{key: shape}``, in a dict
(a TypedDict) and the values of those keys. Read by a walk that skips the rest: lists of scalars
cost nothing (Response, 128 tokens: 8.0k -> 1k instructions for the whole count)."""

_MAX_INLINE_DEPTH: Final = 4
"""TypedDicts nested deeper than this call their own compiled residual check."""

_META_OPS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


class Mirror:
    """A node's msgspec type and the residual check of what that type does not say."""

    __slots__ = (
        "check",
        "convert",
        "decoder",
        "emit",
        "exact",
        "program",
        "same_keys",
        "shape",
        "skips_keys",
        "type",
    )

    def __init__(
        self,
        msgspec_type: Any,
        emit: Emit | None,
        exact: bool,
        convert: Callable[[Any], Any] | None = None,
        skips_keys: bool = False,
        shape: Shape = None,
    ) -> None:
        self.type = msgspec_type
        self.emit = emit
        """``None`` when the msgspec type says everything."""
        self.check: Check | None = None
        """The residual check :attr:`emit` writes, compiled by :meth:`compile_check`."""
        self.exact = exact
        """Whether no part is decoded as ``Any`` (so the type bounds how deep values nest)."""
        self.convert = convert
        """What makes a Struct a dict, in msgspec's ``to_builtins`` key order (the tag first);
        ``None`` where msgspec builds no Struct (Structs are made for a document's tagged
        union only)."""
        self.decoder: Callable[[bytes | str], Any] | None = None
        """The typed decoder of a whole document of this node, made on first use."""
        self.skips_keys = skips_keys
        """Whether decoding may drop a key of the text: a TypedDict is somewhere in the type."""
        self.shape = shape
        """Where a decoded value may hold dicts, for :func:`same_key_count`."""
        self.same_keys: Callable[[bytes | str, Any, Shape], bool] | None = None
        """Where decoding may drop keys, whether a document and its decoded value have as many
        keys (:func:`same_key_count`, in C where built); made with the decoder."""
        self.program: object = None
        """The C typed decoder's program of a whole document (``_typed_decode.c``), where the
        C module is built and reads this type (:func:`decoder_spec`); made with the decoder.
        It refuses undeclared keys itself, so no key count is needed."""

    def compile_check(self) -> Check | None:
        """:attr:`check`, compiled from :attr:`emit` on first use; ``None`` without one."""
        if self.emit is not None and self.check is None:
            generator = Generator()
            lines = [
                "def _residual(v):",
                "    try:",
                *self.emit(generator, "v", 2, 0),
                "        return True",
                "    except Exception:",
                "        return False",
            ]
            self.check = cast(Check, generator.define("_residual", lines, "residual check"))
        return self.check


def _call(made: Mirror) -> Emit:
    """An emitter calling ``made``'s compiled residual check."""

    def emit(generator: Generator, var: str, indent: int, depth: int) -> list[str]:
        pad = "    " * indent
        call = f"{generator.const(made.compile_check(), '_residual')}({var})"
        return [f"{pad}if not {call}:", f"{pad}    return False"]

    return emit


_MIRRORS: Final[NodeCache[Node, Mirror]] = NodeCache()

_STRING: Final = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
"""A JSON string, escapes included."""


def same_key_count(data: bytes | str, value: object, shape: Shape) -> bool:
    """Whether ``value``, decoded from the JSON text ``data``, has as many keys in its dicts as
    ``data`` has in its objects (the colons outside its strings): the pure-Python twin of the C
    ``same_key_count``, for a text a parser has accepted. A key given twice is kept once, so a
    text with one does not count as the same (the untyped path then decides, as for a key a
    TypedDict skipped)."""
    text = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    in_text = _STRING.sub(b"", text).count(b":")
    return in_text == _keys_in(value, shape)


def _keys_in(value: object, shape: Shape) -> int:
    """The keys of the dicts in ``value`` where ``shape`` says dicts may be (see :data:`Shape`);
    where ``value`` is not what ``shape`` describes, of every dict in it."""
    keys = 0
    pending: list[tuple[object, Shape]] = [(value, shape)]
    while pending:
        current, at = pending.pop()
        if at is None:
            continue
        if type(current) is list:
            item_shape = at[0] if type(at) is list else True
            pending.extend((item, item_shape) for item in cast(list[object], current))
        elif type(current) is dict:
            mapping = cast(dict[str, object], current)
            keys += len(mapping)
            if type(at) is dict:
                by_key = cast(dict[str, Shape], at)
                pending.extend((mapping[key], by_key[key]) for key in by_key if key in mapping)
            else:
                value_shape = at[0] if type(at) is tuple else True
                pending.extend((item, value_shape) for item in mapping.values())
    return keys


def mirror(node: Node) -> Mirror:
    """The msgspec mirror of ``node``, made once per node."""
    return _MIRRORS.get(node, _mirror)


def _residual(node: Node) -> Mirror:
    """Decode as ``Any``; the node's compiled checker decides."""
    return Mirror(Any, _node_check(node), exact=False, shape=True)


def _node_check(node: Node) -> Emit:
    """An emitter of ``node``'s whole check, as its compiled checker writes it."""

    def emit(generator: Generator, var: str, indent: int, depth: int) -> list[str]:
        # A node whose check is always true writes none; a block still needs a statement.
        return generator.statements(node, var, indent, ()) or ["    " * indent + "pass"]

    return emit


def _mirror(node: Node) -> Mirror:
    import msgspec

    match kind_of(node):
        case AnyNode():
            return Mirror(Any, None, exact=False, shape=True)
        case NoneNode():
            return Mirror(None, None, exact=True)
        case BoolNode():
            return Mirror(bool, None, exact=True)
        case NumberNode() as number:
            return _number(number)
        case StrNode() as string:
            meta = _lengths(string.min_len, string.max_len)
            # Formats are left to the node's compiled check, not to a msgspec pattern: msgspec
            # calls ``re`` once per string (about 1 µs), where the check's memo of strings seen
            # is a set lookup (KVCacheMigrateResponse, 110 strings: 150 -> 48 µs to decode).
            check = _node_check(string) if string.formats else None
            return Mirror(Annotated[str, meta] if meta else str, check, exact=True)
        case ChoiceNode() as choice:
            return _choice(choice)
        case ListNode() as sequence:
            if sequence.is_tuple:
                return _residual(sequence)
            item = mirror(sequence.item)
            meta = _lengths(sequence.min_len, sequence.max_len)
            return Mirror(
                Annotated[list[item.type], meta] if meta else list[item.type],  # type: ignore[name-defined]
                None if item.emit is None else _each(item.emit, ""),
                item.exact,
                skips_keys=item.skips_keys,
                shape=None if item.shape is None else [item.shape],
            )
        case DictNode() as mapping:
            inner = mirror(mapping.value)
            meta = _lengths(mapping.min_len, mapping.max_len)
            return Mirror(
                Annotated[dict[str, inner.type], meta] if meta else dict[str, inner.type],  # type: ignore[name-defined]
                None if inner.emit is None else _each(inner.emit, ".values()"),
                inner.exact,
                skips_keys=inner.skips_keys,
                shape={} if inner.shape is None else (inner.shape,),
            )
        case TypedDictNode() as typed:
            if reaches_recursive(typed):
                return _residual(typed)
            return _typed_dict(typed)
        case UnionNode() as union:
            return _union(union, msgspec)
        case unknown:
            assert_never(unknown)


def _each(item: Emit, items: str) -> Emit:
    """An emitter looping over the items of a list (``items`` ``""``) or the values of a dict
    (``".values()"``), each checked by ``item``."""

    def emit(generator: Generator, var: str, indent: int, depth: int) -> list[str]:
        element = generator.name("_e")
        pad = "    " * indent
        body = item(generator, element, indent + 1, depth)
        return [f"{pad}for {element} in {var}{items}:", *body]

    return emit


def _lengths(min_len: int | None, max_len: int | None) -> Any:
    import msgspec

    if min_len is None and max_len is None:
        return None
    return msgspec.Meta(min_length=min_len, max_length=max_len)


def _number(node: NumberNode) -> Mirror:
    import msgspec

    if node.multiple_of is not None:
        return _residual(node)
    meta: dict[str, int | float] = {}
    for op, bound in node.bounds:
        name = _META_OPS[op]
        if name in meta:
            return _residual(node)
        meta[name] = bound
    int_meta: dict[str, int] = {}
    for name, bound in meta.items():
        # An integral bound keeps its meaning for ints; any other needs rounding: leave it.
        if isinstance(bound, float) and not (math.isfinite(bound) and bound.is_integer()):
            return _residual(node)
        int_meta[name] = int(bound)
    if node.is_float:
        # An int beyond a double's range is invalid in a float field, a bound msgspec cannot
        # state: ints beyond 64 bits are refused here, and the untyped parse then decides.
        if not int_meta.keys() & {"lt", "le"}:
            int_meta["le"] = 2**63 - 1
        if not int_meta.keys() & {"gt", "ge"}:
            int_meta["ge"] = -(2**63)
    constrain: Any = msgspec.Meta  # its overloads name each keyword; ours come in a dict
    as_int = Annotated[int, constrain(**int_meta)] if int_meta else int
    if not node.is_float:
        return Mirror(as_int, None, exact=True)
    as_float = Annotated[float, constrain(**meta)] if meta else float
    return Mirror(Union[as_int, as_float], None, exact=True)  # noqa: UP007


def _choice(node: ChoiceNode) -> Mirror:
    if node.bools or node.enum_members or not (node.strs or node.ints):
        return _residual(node)
    values = (*sorted(node.strs), *sorted(node.ints))
    literal: Any = cast(Any, Literal)[values]
    return Mirror(Union[literal, None] if node.none else literal, None, exact=True)  # noqa: UP007


def _typed_dict(node: TypedDictNode) -> Mirror:
    """A TypedDict, which msgspec decodes straight into a dict: no Struct to make, test field by
    field, convert and free (ChatCompletionRequest, 50 fields, most left out: 38.2k -> 24.0k
    instructions to decode and convert). msgspec skips the keys a TypedDict does not declare, so
    the decoded value's keys are counted against the text's (:func:`same_key_count`)."""
    annotations: dict[str, Any] = {}
    checks: list[tuple[str, bool, Emit]] = []
    exact = True
    for field in node.fields:
        part = mirror(field.node)
        annotations[field.name] = part.type if field.required else NotRequired[part.type]
        if part.emit is not None:
            checks.append((field.name, field.required, part.emit))
        exact = exact and part.exact
    typed_dict: Any = TypedDict(node.name, annotations)  # type: ignore[misc]  # a dynamic one
    made = Mirror(typed_dict, None, exact, skips_keys=True, shape=_fields_shape(node))
    if checks or node.invariants:
        made.emit = _typed_dict_check(node, checks, _call(made))
    return made


def _struct(node: TypedDictNode, msgspec: Any, tag: str) -> Mirror:
    """A Struct forbidding unknown fields, an option of a document's union tagged by the field
    ``tag``; its fields are mirrored as anywhere else (so they hold no Struct)."""
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    parts: list[_Field] = []
    checks: list[tuple[str, bool, Emit]] = []
    exact = True
    skips_keys = False
    tag_value: str | None = None
    for index, field in enumerate(node.fields):
        if field.name == tag:
            (tag_value,) = field.node.strs  # type: ignore[attr-defined]
            continue
        part = mirror(field.node)
        attribute = f"f{index}"
        parts.append((attribute, field.name, part, field.required))
        if field.required:
            fields.append((attribute, part.type))
        else:
            fields.append((attribute, Union[part.type, msgspec.UnsetType], msgspec.UNSET))  # noqa: UP007
        if part.emit is not None:
            checks.append((field.name, field.required, part.emit))
        exact = exact and part.exact
        skips_keys = skips_keys or part.skips_keys
    struct = msgspec.defstruct(
        node.name,
        fields,
        kw_only=True,
        forbid_unknown_fields=True,
        gc=False,  # decoded trees hold no cycle: untracked, they cost less to make and free
        rename={attribute: name for attribute, name, _, _ in parts},
        tag_field=tag,
        tag=tag_value,
    )
    to_dict = _dict_display(parts, tag, tag_value, msgspec) or msgspec.to_builtins
    made = Mirror(struct, None, exact, to_dict, skips_keys, _fields_shape(node))
    if checks or node.invariants:
        made.emit = _typed_dict_check(node, checks, _call(made))
    return made


def _fields_shape(node: TypedDictNode) -> Shape:
    """A TypedDict's shape: its keys whose values may hold dicts, with their shapes."""
    shapes = {field.name: mirror(field.node).shape for field in node.fields}
    return {key: shape for key, shape in shapes.items() if shape is not None}


_Field = tuple[str, str, Mirror, bool]
"""A Struct field: its attribute, its key, its mirror, whether it is required."""


def _dict_display(
    parts: list[_Field], tag: str, tag_value: str | None, msgspec: Any
) -> Callable[[Any], dict[str, Any]] | None:
    """Compiled: a Struct's dict, built from its attributes by a dict display (then one test
    per optional field), in msgspec's ``to_builtins`` key order (the tag first); ``None`` where
    ``to_builtins`` costs less.

    A frame costs less than ``to_builtins`` (its keyword parsing, its copy of each list) where
    every field is required or a list of scalars is not copied; elsewhere a test per optional
    field costs more than it saves (measured when every TypedDict was a Struct: StreamEventDelta
    10.9k -> 10.1k instructions, the 128-token Response 153.6k -> 141.8k; Request and
    KVCacheMigrateResponse +7 %).
    """
    holds_scalar_list = any(get_origin(_unannotated(part.type)) is list for _, _, part, _ in parts)
    if not holds_scalar_list and not all(required for *_, required in parts):
        return None
    generator = Generator()
    items = [f"{tag!r}: {tag_value!r}"]
    lines: list[str] = []
    for attribute, name, _, required in parts:
        value = f"s.{attribute}" if required else "v"
        if required and not lines:
            items.append(f"{name!r}: {value}")
        elif required:
            lines.append(f"    d[{name!r}] = {value}")
        else:
            unset = generator.const(msgspec.UNSET, "_unset")
            lines += [
                f"    if (v := s.{attribute}) is not {unset}:",
                f"        d[{name!r}] = {value}",
            ]
    display = f"{{{', '.join(items)}}}"
    lines = [
        "def _to_dict(s):",
        *([f"    d = {display}", *lines, "    return d"] if lines else [f"    return {display}"]),
    ]
    return cast(Callable[[Any], dict[str, Any]], generator.define("_to_dict", lines, "to dict"))


def _unannotated(msgspec_type: Any) -> Any:
    return get_args(msgspec_type)[0] if get_origin(msgspec_type) is Annotated else msgspec_type


def _typed_dict_check(
    node: TypedDictNode, checks: list[tuple[str, bool, Emit]], call: Emit
) -> Emit:
    """An emitter of a built dict's residual check: its fields' (``checks``: key, whether
    required, emitter), then its invariants (their quick predicates inlined); past
    :data:`_MAX_INLINE_DEPTH`, ``call``."""

    def emit(generator: Generator, var: str, indent: int, depth: int) -> list[str]:
        if depth >= _MAX_INLINE_DEPTH:
            return call(generator, var, indent, depth)
        pad = "    " * indent
        lines: list[str] = []
        for key, required, check in checks:
            local = generator.name("_v")
            if required:
                lines.append(f"{pad}{local} = {var}[{key!r}]")
                lines += check(generator, local, indent, depth + 1)
            else:
                lines += [f"{pad}if {key!r} in {var}:", f"{pad}    {local} = {var}[{key!r}]"]
                lines += check(generator, local, indent + 1, depth + 1)  # after a statement
        for rule in node.invariants:
            lines += generator.invariant(rule, var, pad)
        return lines

    return emit


def _union(node: UnionNode, msgspec: Any) -> Mirror:
    """A union msgspec tells apart by the kind of JSON value (at most one object option, one
    array option …); else decoded as ``Any`` and checked whole (a union tagged by a key among
    them, whose options msgspec could only tell apart as Structs, built and then converted)."""
    options = [option for option in node.options if not isinstance(option, NoneNode)]
    made = [mirror(option) for option in options]
    if len(made) == 1:  # ``T | None``: T's own check, past the None
        check = None if made[0].emit is None else _unless_none(made[0].emit)
    else:
        by_type = _by_builtin_type(options, made)
        if by_type is None:
            return _residual(node)  # which option matched is msgspec's secret
        check = _by_type(by_type) if by_type else None
    members = tuple(part.type for part in made)
    exact = all(part.exact for part in made)
    skips_keys = any(part.skips_keys for part in made)
    return _checked_union(node, members, check, exact, skips_keys, _union_shape(made), msgspec)


def _checked_union(
    node: UnionNode,
    members: tuple[Any, ...],
    check: Emit | None,
    exact: bool,
    skips_keys: bool,
    shape: Shape,
    msgspec: Any,
    convert: Callable[[Any], Any] | None = None,
) -> Mirror:
    """The mirror of a union of ``members`` (and ``None``, if nullable), or of ``Any`` where
    msgspec cannot tell them apart (two object types, a ``str`` and a ``Literal`` …)."""
    # Subscripted, not Union.__getitem__(...): that is unbound on 3.14, where Union is a class.
    union: Any = cast(Any, Union)[(*members, None) if node.nullable else members]
    try:
        msgspec.json.Decoder(union)
    except TypeError:
        return _residual(node)
    return Mirror(union, check, exact, convert, skips_keys, shape)


def _union_shape(options: list[Mirror]) -> Shape:
    """The options' one shape where they agree (or hold no dict); else anywhere."""
    shapes = [option.shape for option in options if option.shape is not None]
    if not shapes:
        return None
    return shapes[0] if all(shape == shapes[0] for shape in shapes) else True


def document_mirror(node: Node) -> Mirror:
    """The mirror of a whole document of ``node``: :func:`mirror`'s, but a union tagged by a key
    (StreamEvent …) is a union of Structs, which msgspec tells apart by the tag, then converted
    to dicts; made once per node."""
    return _DOCUMENTS.get(node, _document)


def _document(node: Node) -> Mirror:
    import msgspec

    if not isinstance(node, UnionNode) or node.tag is None:
        return mirror(node)
    options = [option for option in node.options if not isinstance(option, NoneNode)]
    if not _taggable(node, options):
        return mirror(node)
    tag = node.tag
    tagged = {value: _struct(option, msgspec, tag) for value, option in node.by_tag.items()}
    checks = {value: made.emit for value, made in tagged.items() if made.emit is not None}
    to_dicts = {made.type: made.convert for made in tagged.values()}
    return _checked_union(
        node,
        tuple(made.type for made in tagged.values()),
        _by_tag(tag, checks, node.nullable) if checks else None,
        all(made.exact for made in tagged.values()),
        any(made.skips_keys for made in tagged.values()),
        _union_shape(list(tagged.values())),
        msgspec,
        lambda value: value if value is None else to_dicts[type(value)](value),  # type: ignore[misc]
    )


_DOCUMENTS: Final[NodeCache[Node, Mirror]] = NodeCache()


def _by_builtin_type(options: list[Node], made: list[Mirror]) -> dict[str, Emit] | None:
    """The residual checks of a union's options by the builtin type each decodes to (``"list"``
    or ``"dict"``), where that type tells which option matched; ``None`` where it does not (an
    option with a check shares its type with another, or decodes to another type)."""
    kinds = [_builtin_type(option) for option in options]
    by_type: dict[str, Emit] = {}
    for kind, part in zip(kinds, made, strict=True):
        if part.emit is None:
            continue
        if kind is None or kinds.count(kind) > 1:
            return None
        by_type[kind] = part.emit
    return by_type


def _builtin_type(node: Node) -> str | None:
    """The name of the builtin type a list or dict node decodes to; ``None`` for another."""
    if isinstance(node, ListNode) and not node.is_tuple:
        return "list"
    if isinstance(node, DictNode | TypedDictNode):
        return "dict"
    return None


def _by_type(checks: dict[str, Emit]) -> Emit:
    """An emitter of the residual check of the option a union's value is, told by its type."""

    def emit(generator: Generator, var: str, indent: int, depth: int) -> list[str]:
        pad = "    " * indent
        lines: list[str] = []
        for index, (kind, check) in enumerate(checks.items()):
            lines.append(f"{pad}{'if' if index == 0 else 'elif'} type({var}) is {kind}:")
            lines += check(generator, var, indent + 1, depth)
        return lines

    return emit


def _by_tag(tag: str, checks: dict[str, Emit], nullable: bool) -> Emit:
    """An emitter of the residual check of the option a tagged union's value says it is."""

    def emit(generator: Generator, var: str, indent: int, depth: int) -> list[str]:
        pad = "    " * indent
        value = generator.name("_tag")
        lines = [f"{pad}{value} = {var}[{tag!r}]"]
        for index, (tag_value, check) in enumerate(checks.items()):
            lines.append(f"{pad}{'if' if index == 0 else 'elif'} {value} == {tag_value!r}:")
            lines += check(generator, var, indent + 1, depth)
        return lines

    return _unless_none(emit) if nullable else emit


def _unless_none(inner: Emit) -> Emit:
    """An emitter of ``inner``'s check, for a value that is not ``None``."""

    def emit(generator: Generator, var: str, indent: int, depth: int) -> list[str]:
        pad = "    " * indent
        body = inner(generator, var, indent + 1, depth)
        return [f"{pad}if {var} is not None:", *body]

    return emit


def _taggable(node: UnionNode, options: list[Node]) -> bool:
    """Whether each option is a closed TypedDict with one required tag value of its own."""
    if len(node.by_tag) != len(options):
        return False
    for option in options:
        if not isinstance(option, TypedDictNode):
            return False
        if reaches_recursive(option):
            return False
        tag_field = next((f for f in option.fields if f.name == node.tag), None)
        if tag_field is None or not tag_field.required:
            return False
        choice = tag_field.node
        if not isinstance(choice, ChoiceNode) or len(choice.strs) != 1 or choice.ints:
            return False
        if choice.none or choice.bools or choice.enum_members:
            return False
    return True


DecoderSpec = tuple[Any, ...]
"""A type as the C typed decoder (``_typed_decode.c``) reads it: a tuple naming its kind first.
``("any",)``, ``("none",)``, ``("bool",)``; ``("str", min_len, max_len)``; ``("strs", values)``
and ``("ints", values)`` for choices; ``("int", lo, hi)`` with inclusive 64-bit bounds;
``("float", lo, lo_open, hi, hi_open)``; ``("list", item, min_len, max_len)``;
``("dict", value, min_len, max_len)`` (str keys); ``("fields", ((key, spec, required), ...),
rule)`` for a TypedDict; ``("union", by_token)`` with one spec or ``None`` for each kind of
JSON value in :data:`_TOKENS`' order; ``("check", spec)``, a part the residual check must see
where it is present. ``None`` stands for no bound.

A TypedDict's ``rule`` is ``None`` where it has no invariants, else its invariants' quick
predicates as a tree of tests (see :func:`_rule`): where the decoded dict fails it, the residual
check must see the dict."""

_TOKENS: Final = ("object", "array", "string", "int", "float", "bool", "null")
"""The kinds of JSON value a union tells apart, in the C decoder's order."""


class _Unreadable(Exception):
    """A part of a type the C decoder does not read."""


def decoder_spec(node: Node) -> DecoderSpec | None:
    """What the C typed decoder reads of a document of ``node``, its mirror's type, with the
    parts the residual check must see marked; ``None`` where it cannot read all of it (a
    Struct, a pattern, a TypedDict of more than 64 keys …): msgspec's typed decode serves
    those.

    Where no marked part is present (and every TypedDict passes its rules' quick tests), the
    residual check has nothing to find, and is skipped (``ChatCompletionRequest``, 8 text
    messages: its 18.5k instructions)."""
    import msgspec

    try:
        return _node_spec(node, msgspec.inspect)
    except _Unreadable:
        return None


def _node_spec(node: Node, inspect: Any) -> DecoderSpec:
    made = mirror(node)
    if made.type is Any:
        return ("any",) if made.emit is None else ("check", ("any",))
    match kind_of(node):
        case StrNode() as string if string.formats:
            return ("check", _type_spec(inspect.type_info(made.type), inspect))
        case ListNode() as sequence:
            return ("list", _node_spec(sequence.item, inspect), sequence.min_len, sequence.max_len)
        case DictNode() as mapping:
            return ("dict", _node_spec(mapping.value, inspect), mapping.min_len, mapping.max_len)
        case TypedDictNode() as typed:
            if len(typed.fields) > 64:
                raise _Unreadable
            fields = tuple((f.name, _node_spec(f.node, inspect), f.required) for f in typed.fields)
            if not typed.invariants:
                return ("fields", fields, None)
            rule = _rule_of(typed)
            return ("fields", fields, rule) if rule else ("check", ("fields", fields, None))
        case UnionNode() as union:
            options = [o for o in union.options if not isinstance(o, NoneNode)]
            specs = [_node_spec(option, inspect) for option in options]
            return _union_spec([*specs, ("none",)] if union.nullable else specs)
        case _:  # None, bool, a number, a str, a choice: all said by the mirror's type
            return _type_spec(inspect.type_info(made.type), inspect)


def _type_spec(info: Any, inspect: Any) -> DecoderSpec:
    """The spec of a mirror's scalar type (``info``, from ``msgspec.inspect``): the C decoder
    accepts nothing msgspec's decode of it refuses."""
    match info:
        case inspect.NoneType():
            return ("none",)
        case inspect.BoolType():
            return ("bool",)
        case inspect.StrType(pattern=None):
            return ("str", info.min_length, info.max_length)
        case inspect.IntType(multiple_of=None):
            # msgspec takes only bounds that stay within 64 bits made inclusive.
            lo = info.ge if info.gt is None else info.gt + 1
            hi = info.le if info.lt is None else info.lt - 1
            return ("int", lo, hi)
        case inspect.FloatType(multiple_of=None):
            lo = info.ge if info.gt is None else info.gt
            hi = info.le if info.lt is None else info.lt
            return ("float", lo, info.gt is not None, hi, info.lt is not None)
        case inspect.LiteralType():
            return _literal(info.values)
        case inspect.UnionType():
            return _union_spec([_type_spec(option, inspect) for option in info.types])
        case _:
            raise _Unreadable


_COMPARISONS: Final = {ast.Lt: 0, ast.LtE: 1, ast.Eq: 2, ast.NotEq: 3, ast.Gt: 4, ast.GtE: 5}
"""Python's comparison operators, as the C API numbers them (``Py_LT`` ... ``Py_GE``)."""


def _rule_of(node: TypedDictNode) -> tuple[Any, ...] | None:
    """``node``'s invariants' quick predicates, all of them, as the C decoder's rule tree (see
    :func:`_rule`); ``None`` where one has no quick predicate, or one the tree cannot say."""
    index = {field.name: i for i, field in enumerate(node.fields)}
    tests: list[tuple[Any, ...]] = []
    for invariant in node.invariants:
        found = None if invariant.holds is None else _returned_expression(invariant.holds)
        if found is None:
            return None
        tree, parameter = found
        names = invariant.holds.__globals__  # type: ignore[union-attr]
        test = _rule(tree, parameter, index, names)
        if test is None:
            return None
        tests += test[1] if test[0] == "and" else [test]  # one flat conjunction
    return ("and", tuple(tests))


def _rule(
    tree: ast.expr, parameter: str, index: dict[str, int], names: dict[str, Any]
) -> tuple[Any, ...] | None:
    """The rule tree of a quick predicate's expression, as its truth value: ``and``, ``or``,
    ``not``, ``bool(...)``; ``len(value) == N``; ``"key" in value``; ``value["key"] in
    FROZENSET``; ``type(value["key"]) is T`` (a builtin type); ``value.get("key") is None``
    (``is not None``); ``value.get("key")`` as a truth value; ``value["a"] < value["b"]``
    (any comparison, chained too); ``value["key"] == "constant"`` (``!=``); two of these
    compared with ``is``. ``None`` for anything else. A key the TypedDict does not declare is
    never present, so a test of it is decided as Python would (absent)."""

    def builtin(name: str) -> Any:
        return names.get(name, getattr(builtins, name, None))

    def key(read: ast.expr, *, get: bool) -> int | None:
        match read:
            case ast.Subscript(value=ast.Name(id=of), slice=ast.Constant(value=str() as name)):
                return index.get(name) if of == parameter and not get else None
            case ast.Call(
                func=ast.Attribute(value=ast.Name(id=of), attr="get"),
                args=[ast.Constant(value=str() as name)],
                keywords=[],
            ):
                return index.get(name) if of == parameter and get else None
        return None

    def each(parts: list[ast.expr]) -> tuple[Any, ...] | None:
        made = [_rule(part, parameter, index, names) for part in parts]
        return None if any(test is None for test in made) else tuple(made)

    match tree:
        case ast.Compare(left=left, ops=[_, _, *_] as ops, comparators=rights):
            # a <= b <= c: each pair in turn, as Python reads it
            lefts = [left, *rights[:-1]]
            pairs: list[ast.expr] = [
                ast.Compare(a, [op], [b]) for a, op, b in zip(lefts, ops, rights, strict=True)
            ]
            return _rule(ast.BoolOp(ast.And(), pairs), parameter, index, names)
        case ast.Compare(left=left, ops=[ast.Is()], comparators=[right]) if isinstance(
            left, ast.Compare
        ) and isinstance(right, ast.Compare):
            # (a == x) is (b is not None): two truth values, equal
            a, b = each([left, right]) or (None, None)
            if a is None:
                return None
            return ("or", (("and", (a, b)), ("and", (("not", a), ("not", b)))))
        case ast.Compare(
            left=read,
            ops=[ast.Eq() | ast.NotEq() as op],
            comparators=[ast.Constant(value=constant)],
        ) if key(read, get=False) is not None and type(constant) in (str, int):
            # == a constant is membership of a set of it (an unhashable value fails either way)
            member = ("in", key(read, get=False), frozenset({constant}))
            return member if isinstance(op, ast.Eq) else ("not", member)
        case ast.BoolOp(op=ast.And() | ast.Or() as op, values=parts):
            parts_made = each(parts)
            kind = "and" if isinstance(op, ast.And) else "or"
            return None if parts_made is None else (kind, parts_made)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            inner = _rule(operand, parameter, index, names)
            return None if inner is None else ("not", inner)
        case ast.Call(func=ast.Name(id="bool"), args=[operand], keywords=[]) if (
            builtin("bool") is bool
        ):
            return _rule(operand, parameter, index, names)
        case ast.Compare(
            left=ast.Call(func=ast.Name(id="len"), args=[ast.Name(id=of)], keywords=[]),
            ops=[ast.Eq()],
            comparators=[ast.Constant(value=int() as count)],
        ) if of == parameter and builtin("len") is len:
            return ("len", count)
        case ast.Compare(
            left=ast.Constant(value=str() as name), ops=[ast.In()], comparators=[ast.Name(id=of)]
        ) if of == parameter and name in index:
            return ("has", index[name])
        case ast.Compare(left=read, ops=[ast.In()], comparators=[ast.Name(id=name)]) if (
            key(read, get=False) is not None and type(names.get(name)) is frozenset
        ):
            return ("in", key(read, get=False), names[name])
        case ast.Compare(
            left=ast.Call(func=ast.Name(id="type"), args=[read], keywords=[]),
            ops=[ast.Is()],
            comparators=[ast.Name(id=name)],
        ) if (
            key(read, get=False) is not None
            and builtin("type") is type
            and builtin(name) in (str, int, float, bool, list, dict)
        ):
            return ("type", key(read, get=False), builtin(name))
        case ast.Compare(
            left=read, ops=[ast.Is() | ast.IsNot() as op], comparators=[ast.Constant(value=None)]
        ) if key(read, get=True) is not None:
            unset = ("none", key(read, get=True))
            return unset if isinstance(op, ast.Is) else ("not", unset)
        case ast.Compare(left=left, ops=[op], comparators=[right]) if (
            type(op) in _COMPARISONS
            and key(left, get=False) is not None
            and key(right, get=False) is not None
        ):
            return ("cmp", _COMPARISONS[type(op)], key(left, get=False), key(right, get=False))
        case read if key(read, get=True) is not None:
            return ("truthy", key(read, get=True))
    return None


def _literal(values: tuple[Any, ...]) -> DecoderSpec:
    strs = tuple(value for value in values if type(value) is str)
    ints = tuple(value for value in values if type(value) is int)  # 64-bit, says msgspec
    options: list[DecoderSpec] = [("strs", strs)] if strs else []
    options += [("ints", ints)] if ints else []
    options += [("none",)] if None in values else []
    return options[0] if len(options) == 1 else _union_spec(options)


def _union_spec(options: list[DecoderSpec]) -> DecoderSpec:
    """One option per kind of JSON value; two options of one kind cannot be told apart."""
    by_token: dict[str, DecoderSpec] = {}
    for option in options:
        tokens = (
            {token: spec for token, spec in zip(_TOKENS, option[1], strict=True) if spec}
            if option[0] == "union"
            else {_token_of(option): option}
        )
        if by_token.keys() & tokens.keys():
            raise _Unreadable
        by_token.update(tokens)
    return ("union", tuple(by_token.get(token) for token in _TOKENS))


_TOKEN_OF: Final = {
    "fields": "object",
    "dict": "object",
    "list": "array",
    "str": "string",
    "strs": "string",
    "int": "int",
    "ints": "int",
    "float": "float",
    "bool": "bool",
    "none": "null",
}
"""The kind of JSON value each spec reads (``any`` reads every kind: msgspec allows it in no
union)."""


def _token_of(spec: DecoderSpec) -> str:
    if spec[0] == "check":
        return _token_of(spec[1])
    if spec[0] not in _TOKEN_OF:
        raise _Unreadable
    return _TOKEN_OF[spec[0]]
