"""Typing checks for validation (mypy only, never executed)."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from annotated_types import Ge
from typing_extensions import assert_type

from sagellm_protocol.core import Error, Request, StreamEvent
from sagellm_protocol.validation import (
    Issue,
    ValidationError,
    checker,
    collect_issues,
    is_valid,
    type_by_name,
    type_names,
    validate,
    validate_by_name,
)

x: object = {}

assert_type(validate(Request, x), Request)
assert_type(validate(StreamEvent, x), StreamEvent)
assert_type(validate(list[Request], x), list[Request])
assert_type(validate(int | None, x), int | None)
assert_type(validate(Literal["a", "b"], x), Literal["a", "b"])
assert_type(validate(Annotated[int, Ge(0)], x), int)
assert_type(is_valid(Request, x), bool)
assert_type(checker(Request), Callable[[object], bool])
assert_type(collect_issues(Request, x), list[Issue])
assert_type(validate_by_name("Request", x), Any)
assert_type(type_names(), list[str])

error = ValidationError([Issue(("a", 0), "type", "expected an int, got 'x'")])
assert_type(error.issues, list[Issue])
assert_type(error.to_error(), Error)
assert_type(error.issues[0].path, tuple[str | int, ...])
assert isinstance(error, ValueError)

request: Request = validate(Request, x)
response_from_request: int = validate(Request, x)  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
Issue(("a",), 1, "message")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
type_by_name(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
