"""Properties of the Responses conversions over values generated from the types.

Every Responses request becomes a valid ``Request`` or a rejection naming a field of the body;
every engine ``Response`` and stream becomes a response object and events that validate and
that the official SDK parses.
"""

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.responses import Response as SDKResponse
from openai.types.responses import ResponseStreamEvent as SDKStreamEvent
from pydantic import TypeAdapter
from test_gateway_properties import _streams as engine_streams
from typeguard import suppress_type_checks

from sagellm_protocol import (
    ConversionError,
    Error,
    Request,
    Response,
    ResponsesRequest,
    ResponsesResponse,
    ResponsesStreamEvent,
    response_to_responses,
    responses_request_to_request,
    stream_to_responses_events,
    validate,
    validate_stream,
)
from sagellm_protocol.testing.strategies import from_type

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
IDS = {"request_id": "req", "trace_id": "trace"}
BODY: Any = {"model": "m", "input": "hi"}
SDK_EVENT: Any = TypeAdapter(SDKStreamEvent)


def _attempt(convert: Any, *args: Any, **kwargs: Any) -> tuple[Any, Error | None]:
    try:
        with suppress_type_checks():  # typeguard treats the open TypedDicts as closed
            return convert(*args, **kwargs), None
    except ConversionError as error:
        return None, error.error


@SETTINGS
@given(from_type(ResponsesRequest))
def test_requests_become_valid_requests_or_named_rejections(body: Any) -> None:
    request, error = _attempt(responses_request_to_request, body, **IDS)
    if error is not None:
        assert validate(Error, error) is error
        assert error["code"] in ("invalid_argument", "not_implemented")
        field = error["message"].split(":")[0]
        assert re.split(r"[.\[]", field)[0] in body
        return
    assert validate(Request, request) is request
    assert request["model"] == body["model"]


@SETTINGS
@given(from_type(Response), st.integers(0, 2**31))
def test_responses_become_answers_the_sdk_parses(response: Any, created: int) -> None:
    if response.get("error") is not None:
        assert _attempt(response_to_responses, response, request=BODY) == (None, response["error"])
        return
    answer = response_to_responses(response, request=BODY, created_at=created)
    assert validate(ResponsesResponse, answer) is answer
    assert SDKResponse.model_validate(answer).output_text == response["output_text"]


@SETTINGS
@given(engine_streams())
def test_streams_become_event_streams_the_sdk_parses(events: list[Any]) -> None:
    converted = list(stream_to_responses_events(events, request=BODY))
    validate_stream(ResponsesStreamEvent, converted)
    parsed = [SDK_EVENT.validate_python(event) for event in converted]
    final = parsed[-1].response
    if events[-1].get("error") is not None:
        assert final.status == "failed"
        return
    joined = "".join(e.delta for e in parsed if e.type == "response.output_text.delta")
    assert joined == final.output_text == events[-1]["content"]
