"""Strict protocol validation inside pydantic models and FastAPI routes: ``Validated[T]``.

``Validated[Request]`` is ``Annotated[Request, …]`` (mypy sees a ``Request``) whose pydantic
core schema is our :func:`~sagellm_protocol.validate`: nothing is coerced (``"4"`` and ``true``
are not ints), invariants hold, vendor keys of open types are kept, and the very object given is
the validated value. Its JSON Schema is :func:`~sagellm_protocol.json_schema`'s, with each nested
type a definition of the document pydantic builds (``#/components/schemas/…`` in FastAPI's
OpenAPI). Issues become pydantic line errors with our paths, codes (as the error ``type``) and
messages; each error's ``input`` is a short repr (``short_repr``), never the value itself, so
a 200 KB prompt is not echoed and a NaN cannot break the JSON of FastAPI's error answer.

``ValidatedClosed[T]`` is ``Validated[T]`` that also rejects the keys no open type of ``T``
declares (OpenAI's or a declared extension's), with "did you mean": the opt-in strictness of
:func:`~sagellm_protocol.gateway.unknown_keys`.

Requires pydantic 2 (``pip install sagellm-protocol[pydantic]``); the rest of the package
never imports it. :mod:`sagellm_protocol.fastapi` turns the errors into OpenAI's shape.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema
from pydantic_core import ValidationError as PydanticValidationError

from ._gateway.unknown_keys import unknown_keys
from ._schema import schema_parts
from ._tree.analyse import analyze
from .validation import Issue, ValidationError, short_repr, validate

__all__ = ["Validated", "ValidatedClosed"]

T = TypeVar("T")


@dataclass(frozen=True)
class _ProtocolType:
    """The ``Annotated`` marker: pydantic validates and documents ``tp`` through us."""

    tp: Any
    closed: bool = False
    """Whether keys the open types do not declare are rejected (``ValidatedClosed``)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        analyze(self.tp)  # an unsupported form fails when the model is built, not per request
        return core_schema.no_info_plain_validator_function(self._validate)

    def _validate(self, value: object) -> object:
        try:
            validate(self.tp, value)
        except ValidationError as error:
            raise _pydantic_error(value, error.issues) from None
        if self.closed and (unknown := unknown_keys(self.tp, value)):
            raise _pydantic_error(value, unknown)
        return value

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # Each of our definitions becomes one of the generator's: pydantic names it (keeping
        # it apart from a model of the same name), refers to it and places it (OpenAPI's
        # components), and drops it again if nothing refers to it.
        generator = handler.generate_json_schema  # type: ignore[attr-defined]
        names: dict[str, Any] = {}

        def ref(name: str) -> str:
            if name not in names:
                names[name] = generator.get_cache_defs_ref_schema(f"sagellm_protocol.{name}")
            json_ref: str = names[name][1]["$ref"]
            return json_ref

        document, defs = schema_parts(self.tp, ref)
        for name, definition in defs.items():
            generator.definitions[names[name][0]] = definition
        return document


def _pydantic_error(value: object, issues: list[Issue]) -> PydanticValidationError:
    details = [
        InitErrorDetails(
            type=PydanticCustomError(issue.code, "{message}", {"message": issue.message}),
            loc=issue.path,
            input=short_repr(_at(value, issue.path)),
        )
        for issue in issues
    ]
    return PydanticValidationError.from_exception_data("protocol value", details)


def _at(value: object, path: tuple[str | int, ...]) -> object:
    """The part of ``value`` at ``path``, or the deepest part on the way (a missing key's dict)."""
    for key in path:
        if isinstance(key, str):
            reachable = isinstance(value, dict) and key in value
        else:
            reachable = isinstance(value, list) and 0 <= key < len(value)
        if not reachable:
            break
        value = value[key]  # type: ignore[index]
    return value


if TYPE_CHECKING:
    Validated: TypeAlias = Annotated[T, _ProtocolType]
    """``Validated[T]`` is ``T`` to type checkers."""
    ValidatedClosed: TypeAlias = Annotated[T, _ProtocolType]
    """``ValidatedClosed[T]`` is ``T`` to type checkers."""
else:

    class Validated:
        """``Validated[T]``: ``Annotated[T, …]`` whose pydantic validation is ``validate(T, …)``."""

        __slots__ = ()

        def __class_getitem__(cls, tp: Any) -> Any:
            return Annotated[tp, _ProtocolType(tp)]

    class ValidatedClosed:
        """``ValidatedClosed[T]``: ``Validated[T]`` rejecting keys ``T``'s open types lack."""

        __slots__ = ()

        def __class_getitem__(cls, tp: Any) -> Any:
            return Annotated[tp, _ProtocolType(tp, closed=True)]
