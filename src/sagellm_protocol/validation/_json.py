"""validate_json(): JSON text in, a validated protocol value out, with one policy for JSON.

Two parsers give the same answers. With ``msgspec`` installed (``pip install
isagellm-protocol[fast]``) its untyped decoder parses first; whatever it refuses is parsed again
by the standard library's ``json``, which then decides, and says why. msgspec accepts nothing
the policy below refuses and builds the values ``json`` builds (exact integers of any size
included, which rules out orjson: it reads integers beyond 64 bits as floats), so the accepted
values are the same with and without it; a property test holds the two paths to that.

The policy, on both paths:

- bytes must be UTF-8 (RFC 8259); a ``str`` must be encodable as UTF-8 (no lone surrogates);
  one leading UTF-8 byte order mark is ignored;
- ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON, nor is a number beyond the range of a
  double (``1e400``); integers are exact, up to the interpreter's limit for ``int()`` (4300
  digits by default);
- a ``\\u`` escape of a lone surrogate (``"\\ud800"``) is refused: it is no Unicode text;
- a key given twice keeps its last value, as in both parsers (and most others);
- arrays and objects nest at most :data:`MAX_DEPTH` levels, documents are at most ``max_bytes``.
"""

import json
import math
import re
import sys
from typing import Any, Final, TypeVar

from typing_extensions import TypeForm

from .._tree.analyse import analyze
from .._tree.cache import UNIONS, FormCache
from ._api import validate
from ._compile import native_lists
from ._issues import Issue, ValidationError
from ._typed_json import Mirror, decoder_spec, document_mirror, same_key_count

__all__ = ["MAX_BYTES", "MAX_DEPTH", "JSONError", "parse_json", "typed_decoding", "validate_json"]

T = TypeVar("T")

MAX_DEPTH: Final = 512
"""Most levels of nested arrays and objects a document may have: far below both parsers' own
(stack-bound) limits, so the answer does not depend on the caller's stack."""

MAX_BYTES: Final = 64 << 20
"""Default largest document, in bytes (characters for a ``str``): 64 MiB."""

_NEVER_TOO_DEEP: Final = 2 * MAX_DEPTH
"""A document of at most this many bytes (or characters) cannot nest deeper than MAX_DEPTH."""

_BOM: Final = b"\xef\xbb\xbf"
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


class JSONError(ValueError):
    """Why a text is not JSON the protocol takes, and where (1-based line and column) if known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = f" (line {self.line}, column {self.column})" if self.line is not None else ""
        return f"invalid JSON: {self.reason}{where}"


def validate_json(
    tp: TypeForm[T], data: bytes | bytearray | memoryview | str, *, max_bytes: int = MAX_BYTES
) -> T:
    """The value of the JSON text ``data`` if it conforms to ``tp``; else raise ValidationError.

    Text that is not JSON is one issue with code ``json``, its line and column in the message;
    so are hostile inputs (too deep, too large, not UTF-8). Raises ``TypeError`` for a ``tp``
    validation does not support, or ``data`` that is not bytes or str.
    """
    if _decode is not _parse_pure and (type(data) is bytes or type(data) is str):
        try:  # as validate() reads its checkers: a call here costs a tenth of a small payload
            typed: Mirror | None = (
                tp.__args__[0].__sagellm_protocol_typed_json_unions__[tp.__args__]  # type: ignore[attr-defined]
                if type(tp) in UNIONS
                else tp.__sagellm_protocol_typed_json__  # type: ignore[attr-defined]
            )
        except (AttributeError, KeyError, TypeError):
            typed = _typed(tp)
        if typed is not None and len(data) <= max_bytes:
            if typed.program is not None:
                value = _decode_typed(typed.program, data, MAX_DEPTH)
                if type(value) is not tuple:  # no part the residual check must see
                    if value is not NotImplemented:  # else refused: the untyped parse decides
                        return value  # type: ignore[no-any-return]  # not cast(): a call
                else:
                    value = value[0]
                    if typed.check(value):  # type: ignore[misc]  # a part was marked: it has one
                        return value  # type: ignore[no-any-return]
                    return validate(tp, value)
            else:
                value = _decode_by_msgspec(typed, data)
                if value is not NotImplemented:  # else refused: the untyped parse decides
                    if typed.check is None or typed.check(value):
                        return value  # type: ignore[no-any-return]
                    return validate(tp, value)
    try:
        value = _parse(data, max_bytes, _decode)
    except JSONError as error:
        raise ValidationError([Issue((), "json", str(error))]) from None
    return validate(tp, value)


def _decode_by_msgspec(typed: Mirror, data: bytes | str) -> Any:
    """``data`` decoded by msgspec into ``typed``'s type, then converted to dicts, if no key was
    skipped and it nests at most MAX_DEPTH levels; else ``NotImplemented``."""
    try:
        built = typed.decoder(data)  # type: ignore[misc]
    except Exception:  # msgspec refused
        return NotImplemented
    value = built if typed.convert is None else typed.convert(built)
    if typed.same_keys is not None and not typed.same_keys(data, value, typed.shape):
        return NotImplemented
    if not typed.exact and len(data) > _NEVER_TOO_DEEP and _too_deep(data, value):
        return NotImplemented
    return value


def _typed(tp: object) -> Mirror | None:
    """The typed decoding of ``tp`` (see ``_typed_json``), or ``None`` where it would not help;
    made once, then read by :func:`validate_json` from where ``_TYPED`` keeps it."""
    return _TYPED.get(tp, _typed_decoding)


def typed_decoding(tp: object) -> bool:
    """Make now the typed decoding :func:`validate_json` uses for ``tp`` (for ``prepare()``);
    whether there is one (there is none without msgspec, or where it would not help)."""
    return _typed(tp) is not None


def _typed_decoding(tp: object) -> Mirror | None:
    try:
        import msgspec

        node = analyze(tp)
        made: Mirror | None = document_mirror(node)
        if made is not None and made.type is Any:
            made = None  # all of it decoded as Any: the untyped parse is as fast
        elif made is not None and made.decoder is None:
            made.compile_check()
            native = native_lists()
            # A document of Structs (a union tagged by a key) has a residual check of its own,
            # which counts on msgspec's checks of the Structs: msgspec decodes it.
            spec = None if native is None or made.convert is not None else decoder_spec(node)
            if spec is not None:
                global _decode_typed
                _decode_typed = native.typed_decode  # type: ignore[union-attr]
                made.program = native.typed_program(spec)  # type: ignore[union-attr]
            made.decoder = msgspec.json.Decoder(made.type).decode
            if made.skips_keys:
                made.same_keys = same_key_count if native is None else native.same_key_count
    except (ImportError, TypeError):  # no msgspec, or a type form validate() refuses
        made = None
    return made


_decode_typed: Any = None
"""The C typed decoder (``_typed_decode.c``), bound with the first program made."""

_TYPED: Final[FormCache[Mirror | None]] = FormCache("typed_json")
"""Each type form's typed decoding, or ``None``; on the form itself where it can carry it."""


def parse_json(data: bytes | bytearray | memoryview | str, *, max_bytes: int = MAX_BYTES) -> Any:
    """The value of the JSON text ``data`` under the module's policy; raises :class:`JSONError`."""
    return _parse(data, max_bytes, _decode)


def _parse(data: bytes | bytearray | memoryview | str, max_bytes: int, decode: Any) -> Any:
    """Parse with ``decode`` (msgspec's, or the pure path), then the checks both paths share."""
    if type(data) is not bytes and type(data) is not str:
        if not isinstance(data, bytes | bytearray | memoryview | str):
            raise TypeError(f"validate_json() takes bytes or str, got {type(data).__name__}")
        data = str(data) if isinstance(data, str) else bytes(data)
    if len(data) > max_bytes:
        raise JSONError(f"a document of {len(data)} bytes, more than max_bytes ({max_bytes})")
    try:
        value = decode(data)
    except JSONError:
        raise
    except Exception:  # msgspec refused (or hit the stack's end): json decides, and says why
        value = _parse_pure(data)
    if len(data) > _NEVER_TOO_DEEP and _too_deep(data, value):
        raise JSONError(f"arrays and objects nested deeper than {MAX_DEPTH} levels")
    return value


def _first_decode(data: bytes | str) -> Any:
    """Pick the parser on first use (msgspec's decoder if installed), then parse ``data``."""
    global _decode
    try:
        import msgspec
    except ImportError:
        _decode = _parse_pure
    else:
        _decode = msgspec.json.Decoder().decode
    return _decode(data)


_decode: Any = _first_decode
"""The first parser tried: msgspec's untyped decode, or :func:`_parse_pure` without msgspec."""


def _parse_pure(data: bytes | str) -> Any:
    """The standard library's parse under the policy: the arbiter of every refusal."""
    if isinstance(data, bytes):
        data = data.removeprefix(_BOM)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line, column = _position(data, error.start)
            raise JSONError(f"not UTF-8 (byte 0x{data[error.start]:02x})", line, column) from None
    else:
        text = data.removeprefix("\ufeff")
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                line, column = _position(text, error.start)
                raise JSONError(
                    "a lone surrogate, which is no Unicode text", line, column
                ) from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise JSONError(error.msg, error.lineno, error.colno) from None
    except RecursionError:
        raise JSONError(f"arrays and objects nested deeper than {MAX_DEPTH} levels") from None
    except JSONError:  # NaN or Infinity
        raise
    except ValueError:  # an integer of more digits than int() converts (its wording varies)
        limit = sys.get_int_max_str_digits()
        raise JSONError(f"an integer of more than {limit} digits") from None
    # json.loads reads 1e400 as inf and "\ud800" as a lone surrogate: msgspec refuses both.
    escapes = "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None
    reason = _refused_value(value, escapes)
    if reason is not None:
        raise JSONError(reason)
    return value


def _no_constant(name: str) -> object:
    raise JSONError(f"{name} is not a JSON number")


def _position(data: bytes | str, offset: int) -> tuple[int, int]:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    line_start = data.rfind(newline, 0, offset) + 1  # type: ignore[arg-type]
    return data.count(newline, 0, offset) + 1, offset - line_start + 1  # type: ignore[arg-type]


def _too_deep(data: bytes | str, value: object) -> bool:
    """Whether ``value`` nests deeper than MAX_DEPTH; the bracket count bounds it cheaply."""
    brackets = (
        data.count(b"[") + data.count(b"{")
        if isinstance(data, bytes)
        else data.count("[") + data.count("{")
    )
    if brackets <= MAX_DEPTH:
        return False
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _refused_value(value: object, check_strings: bool) -> str | None:
    """Why a parsed value breaks the policy: a non-finite number, or a lone surrogate.

    Reads exact builtin types (what ``json.loads`` makes) by identity: this walk is the pure
    path's main cost after the parse itself.
    """
    pending: list[Any] = [[value]]
    while pending:
        container = pending.pop()
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is float:
                if not math.isfinite(item):
                    return f"a number beyond the range of a double (it reads as {item})"
            elif kind is dict or kind is list:
                pending.append(item)
            elif kind is str and check_strings and not _encodes(item):
                return "a \\u escape of a lone surrogate, which is no Unicode text"
        if check_strings and type(container) is dict and not all(map(_encodes, container)):
            return "a \\u escape of a lone surrogate, which is no Unicode text"
    return None


def _encodes(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
