"""Core request/response types: Request, Response, Metrics, Timestamps, stream events, Error."""

import math
from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any, Final, Literal, TypeAlias

from typing_extensions import NotRequired, TypedDict

from ._error import Error, ErrorCode, ErrorCodeName
from ._key_help import list_keys_in_help
from ._registry import (
    InvariantViolation,
    register_defaults,
    register_invariant,
    register_stream_rules,
    register_suggestions,
)
from .constraints import (
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    Temperature,
    TopP,
    UnitInterval,
)
from .openai import ChatMessage
from .sampling import SamplingParams

__all__ = [
    "DeltaEvent",
    "EndEvent",
    "Error",
    "ErrorCode",
    "ErrorCodeName",
    "FinishReason",
    "Metrics",
    "Phase",
    "Request",
    "Response",
    "StartEvent",
    "StreamEvent",
    "StreamEventDelta",
    "StreamEventEnd",
    "StreamEventStart",
    "Timestamps",
    "metrics_from_timestamps",
]

FinishReason: TypeAlias = Literal["stop", "length", "error"]
"""Why generation ended: a stop condition, the token limit, or an error."""

Phase: TypeAlias = Literal["prefill", "decode"]
"""The execution phase of a disaggregated (prefill/decode separated) request."""


class Timestamps(TypedDict, closed=True):
    """Observation timestamps of one request, in Unix seconds, in order."""

    queued_at: float
    """When the request entered the queue (Unix seconds)."""
    scheduled_at: float
    """When compute/resources were assigned (Unix seconds)."""
    executed_at: float
    """When the first token started generating (Unix seconds)."""
    completed_at: float
    """When generation completed (Unix seconds)."""


_TIMESTAMP_ORDER: Final = ("queued_at", "scheduled_at", "executed_at", "completed_at")


def _timestamps_disorder(value: Mapping[str, Any], prefix: str) -> InvariantViolation | None:
    """The first stamp earlier than the one before it, or ``None`` when all are ordered.

    ``prefix`` qualifies the field names in the message (``"timestamps."`` outside a validator).
    """
    for before, after in pairwise(_TIMESTAMP_ORDER):
        if value[after] < value[before]:
            return (after,), (
                f"expected {prefix}{after} >= {prefix}{before} ({value[before]!r}), "
                f"got {value[after]!r}"
            )
    return None


def _stamps_in_order(value: Mapping[str, Any]) -> bool:
    return bool(
        value["queued_at"] <= value["scheduled_at"] <= value["executed_at"] <= value["completed_at"]
    )


@register_invariant(Timestamps, holds=_stamps_in_order)
def _timestamps_ordered(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """Stamps are ordered: queued_at <= scheduled_at <= executed_at <= completed_at.

    Equal stamps are fine. The path is the first stamp earlier than the one before it.
    """
    violation = _timestamps_disorder(value, "")
    if violation is not None:
        yield violation


class Metrics(TypedDict, closed=True):
    """Performance metrics of one request. Durations in ms, memory in MB."""

    ttft_ms: NonNegativeFloat
    """Time to first token (ms)."""
    tbt_ms: NotRequired[NonNegativeFloat]
    """Time between tokens (ms); 0 without data."""
    tpot_ms: NotRequired[NonNegativeFloat]
    """Time per output token (ms); 0 without data."""
    throughput_tps: NonNegativeFloat
    """Throughput (tokens/second)."""
    peak_mem_mb: NonNegativeInt
    """Peak memory (MB)."""
    error_rate: UnitInterval
    """Error rate in [0, 1]."""
    kv_used_tokens: NotRequired[NonNegativeInt]
    """Tokens held in the KV cache; 0 when the KV cache is off."""
    kv_used_bytes: NotRequired[NonNegativeInt]
    """Bytes held in the KV cache; 0 when the KV cache is off."""
    prefix_hit_rate: NotRequired[UnitInterval]
    """Prefix cache hit rate in [0, 1]; 0 when prefix caching is off."""
    evict_count: NotRequired[NonNegativeInt]
    """Number of evictions; 0 when none happened."""
    evict_ms: NotRequired[NonNegativeFloat]
    """Time spent evicting (ms)."""
    spec_accept_rate: NotRequired[UnitInterval]
    """Speculative decoding acceptance rate in [0, 1]; 0 when off."""
    prefill_ms: NotRequired[NonNegativeFloat]
    """Prefill phase duration (ms); 0 when phases are not separated."""
    decode_ms: NotRequired[NonNegativeFloat]
    """Decode phase duration (ms); 0 when phases are not separated."""
    prefill_tokens: NotRequired[NonNegativeInt]
    """Tokens the prefill phase processed; 0 when phases are not separated (an extension of
    Protocol v0.1: the engine's core and control plane send it)."""
    decode_tokens: NotRequired[NonNegativeInt]
    """Tokens the decode phase generated; 0 when phases are not separated (an extension of
    Protocol v0.1: the engine's core and control plane send it)."""
    kv_transfer_count: NotRequired[NonNegativeInt]
    """Number of KV transfers."""
    kv_transfer_bytes: NotRequired[NonNegativeInt]
    """Bytes moved by KV transfers."""
    kv_transfer_ms: NotRequired[NonNegativeFloat]
    """Total KV transfer time (ms)."""
    comm_overhead_ms: NotRequired[NonNegativeFloat]
    """Communication overhead (ms)."""
    allreduce_count: NotRequired[NonNegativeInt]
    """Number of AllReduce calls."""
    allgather_count: NotRequired[NonNegativeInt]
    """Number of AllGather calls."""
    itl_list: NotRequired[list[float]]
    """Inter-token latencies (ms), one per streamed delta."""
    timestamps: NotRequired[Timestamps | None]
    """Observation timestamps, when recorded."""
    component_trace: NotRequired[list[str] | None]
    """Components the request passed through, e.g. ``["sagellm-gateway", "sagellm-core"]``."""


register_defaults(
    Metrics,
    {
        "tbt_ms": 0.0,
        "tpot_ms": 0.0,
        "kv_used_tokens": 0,
        "kv_used_bytes": 0,
        "prefix_hit_rate": 0.0,
        "evict_count": 0,
        "evict_ms": 0.0,
        "spec_accept_rate": 0.0,
        "prefill_ms": 0.0,
        "decode_ms": 0.0,
        "prefill_tokens": 0,
        "decode_tokens": 0,
        "kv_transfer_count": 0,
        "kv_transfer_bytes": 0,
        "kv_transfer_ms": 0.0,
        "comm_overhead_ms": 0.0,
        "allreduce_count": 0,
        "allgather_count": 0,
        "itl_list": [],
        "timestamps": None,
        "component_trace": None,
    },
)


_MS_PER_SECOND: Final = 1000.0


def metrics_from_timestamps(
    timestamps: Timestamps,
    output_tokens: int,
    *,
    peak_mem_mb: int = 0,
    error_rate: float = 0.0,
    itl_list: list[float] | None = None,
) -> Metrics:
    """Latency and throughput of one request from its four timestamps (Unix seconds).

    - ``ttft_ms`` = (executed_at - queued_at) in ms;
    - ``tpot_ms`` = (completed_at - executed_at) / (output_tokens - 1) in ms, 0 for at most
      one token (no interval between tokens exists);
    - ``throughput_tps`` = output_tokens / (completed_at - queued_at) in tokens/second, 0 when
      that duration is 0;
    - ``tbt_ms`` = the mean of ``itl_list`` (measured inter-token latencies, ms) when it is
      non-empty, else ``tpot_ms`` (the mean interval derived from the timestamps);
    - ``itl_list`` (a copy, ``[]`` when not given) and ``timestamps`` (a copy) are included;
      every other optional key is left out, i.e. at its default.

    ``peak_mem_mb`` (MB, >= 0) and ``error_rate`` (in [0, 1]) are passed through.
    Raises ``ValueError`` naming the field and its value when ``output_tokens`` < 0, a timestamp
    is not finite or out of order, or another argument is out of range, so the result is
    always a valid ``Metrics``.
    """
    if output_tokens < 0:
        raise ValueError(f"expected output_tokens >= 0, got {output_tokens}")
    for name in _TIMESTAMP_ORDER:
        if not math.isfinite(timestamps[name]):
            raise ValueError(f"expected timestamps.{name} to be finite, got {timestamps[name]!r}")
    disorder = _timestamps_disorder(timestamps, "timestamps.")
    if disorder is not None:
        raise ValueError(disorder[1])
    if peak_mem_mb < 0:
        raise ValueError(f"expected peak_mem_mb >= 0, got {peak_mem_mb}")
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError(f"expected 0 <= error_rate <= 1, got {error_rate!r}")
    itl = [] if itl_list is None else list(itl_list)
    for index, latency in enumerate(itl):
        if not 0.0 <= latency < math.inf:
            raise ValueError(f"expected itl_list[{index}] to be finite and >= 0, got {latency!r}")

    queued_at, executed_at, completed_at = (
        timestamps["queued_at"],
        timestamps["executed_at"],
        timestamps["completed_at"],
    )
    total_s = completed_at - queued_at
    tpot_ms = (
        (completed_at - executed_at) * _MS_PER_SECOND / (output_tokens - 1)
        if output_tokens > 1
        else 0.0
    )
    return {
        "ttft_ms": (executed_at - queued_at) * _MS_PER_SECOND,
        "tbt_ms": math.fsum(itl) / len(itl) if itl else tpot_ms,
        "tpot_ms": tpot_ms,
        "throughput_tps": output_tokens / total_s if total_s > 0 else 0.0,
        "peak_mem_mb": peak_mem_mb,
        "error_rate": error_rate,
        "itl_list": itl,
        "timestamps": {
            "queued_at": queued_at,
            "scheduled_at": timestamps["scheduled_at"],
            "executed_at": executed_at,
            "completed_at": completed_at,
        },
    }


class Request(TypedDict, closed=True):
    """An inference request. Carries a prompt or chat messages, never both."""

    request_id: str
    """Unique request identifier."""
    trace_id: str
    """Distributed tracing identifier."""
    model: NotRequired[str]
    """Model name; empty for the engine's default."""
    prompt: NotRequired[str]
    """Input text (alternative to ``messages``)."""
    messages: NotRequired[list[ChatMessage] | None]
    """Chat messages (alternative to ``prompt``); the engine renders them to a prompt."""
    max_tokens: PositiveInt
    """Maximum number of tokens to generate (> 0)."""
    stream: NotRequired[bool]
    """Whether to stream the output as events."""
    sampling_params: NotRequired[SamplingParams | None]
    """Full sampling parameters; wins over ``temperature``/``top_p`` when given."""
    temperature: NotRequired[Temperature | None]
    """Sampling temperature in [0, 2]."""
    top_p: NotRequired[TopP | None]
    """Nucleus sampling threshold in (0, 1]."""
    kv_budget_tokens: NotRequired[PositiveInt | None]
    """KV cache budget (tokens), > 0 when given."""
    metadata: NotRequired[dict[str, Any] | None]
    """Opaque metadata passed through to the engine/adapter."""
    phase: NotRequired[Phase | None]
    """Execution phase, for prefill/decode separation."""
    rank: NotRequired[NonNegativeInt | None]
    """This node's rank (distributed), < ``world_size``."""
    world_size: NotRequired[PositiveInt | None]
    """Total number of nodes (distributed)."""
    group_id: NotRequired[str | None]
    """Communication group (distributed)."""
    tp_rank: NotRequired[NonNegativeInt | None]
    """Tensor-parallel rank, < ``tp_size``."""
    pp_rank: NotRequired[NonNegativeInt | None]
    """Pipeline-parallel rank, < ``pp_size``."""
    tp_size: NotRequired[PositiveInt | None]
    """Tensor-parallel group size."""
    pp_size: NotRequired[PositiveInt | None]
    """Pipeline-parallel group size."""


register_defaults(
    Request,
    {
        "model": "",
        "prompt": "",
        "messages": None,
        "stream": False,
        "sampling_params": None,
        "temperature": None,
        "top_p": None,
        "kv_budget_tokens": None,
        "metadata": None,
        "phase": None,
        "rank": None,
        "world_size": None,
        "group_id": None,
        "tp_rank": None,
        "pp_rank": None,
        "tp_size": None,
        "pp_size": None,
    },
)


def _single_input(value: Mapping[str, Any]) -> bool:
    # ``get`` rather than ``in`` and a subscript: the compiled checker reads each as a local.
    return not (value.get("prompt") and value.get("messages"))


@register_invariant(Request, holds=_single_input)
def _request_prompt_or_messages(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """Never both a non-empty ``prompt`` and a non-empty ``messages`` list.

    ``messages`` of ``None`` or ``[]`` carries no messages. A request with neither input is
    accepted whatever its ``phase``: a decode-phase request continues from a transferred KV
    cache, and the original package accepted an empty input for any request (its defaults
    are ``""`` and ``None``); the protocol adds only the "never both" rule, so refusing an
    empty input is left to engines. The message gives sizes, never the prompt text (errors go
    to logs).
    """
    if not _single_input(value):
        prompt, messages = value["prompt"], value["messages"]
        both = f"a prompt ({len(prompt)} characters) and messages ({len(messages)})"
        yield ("messages",), f"expected prompt or messages, not both, got {both}"


_RANK_LIMITS: Final = (("rank", "world_size"), ("tp_rank", "tp_size"), ("pp_rank", "pp_size"))


def _ranks_below_sizes(value: Mapping[str, Any]) -> bool:
    """Each rank below its size where both are set."""
    return bool(
        (
            value.get("rank") is None
            or value.get("world_size") is None
            or value["rank"] < value["world_size"]
        )
        and (
            value.get("tp_rank") is None
            or value.get("tp_size") is None
            or value["tp_rank"] < value["tp_size"]
        )
        and (
            value.get("pp_rank") is None
            or value.get("pp_size") is None
            or value["pp_rank"] < value["pp_size"]
        )
    )


@register_invariant(Request, holds=_ranks_below_sizes)
def _request_ranks(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """rank < world_size, tp_rank < tp_size, pp_rank < pp_size, each when both are set."""
    for rank_key, size_key in _RANK_LIMITS:
        rank, size = value.get(rank_key), value.get(size_key)
        if rank is not None and size is not None and rank >= size:
            yield (rank_key,), f"expected {rank_key} < {size_key} ({size}), got {rank}"


class Response(TypedDict, closed=True):
    """The complete result of a non-streamed request."""

    request_id: str
    """The request this answers."""
    trace_id: str
    """Distributed tracing identifier."""
    output_text: str
    """Generated text."""
    output_tokens: list[int]
    """Generated token ids."""
    prompt_tokens: NotRequired[int | None]
    """Number of prompt tokens, when known."""
    finish_reason: FinishReason
    """Why generation ended; ``"error"`` exactly when ``error`` is set."""
    metrics: Metrics
    """Performance metrics."""
    error: NotRequired[Error | None]
    """The error, when generation failed."""


register_defaults(Response, {"prompt_tokens": None, "error": None})
# One caller put the request's timestamps beside the metrics; Metrics carries them.
register_suggestions(Response, {"timestamps": "metrics.timestamps"})


class StreamEventStart(TypedDict, closed=True):
    """First event of a stream: the engine accepted the request."""

    event: Literal["start"]
    """Event tag."""
    request_id: str
    """The request this stream answers."""
    trace_id: str
    """Distributed tracing identifier."""
    engine_id: str
    """The engine instance serving the request (observability)."""
    prompt_tokens: NotRequired[int | None]
    """Number of prompt tokens, when known."""


register_defaults(StreamEventStart, {"prompt_tokens": None})


class StreamEventDelta(TypedDict, closed=True):
    """An increment of generated text."""

    event: Literal["delta"]
    """Event tag."""
    request_id: str
    """The request this stream answers."""
    trace_id: str
    """Distributed tracing identifier."""
    engine_id: str
    """The engine instance serving the request (observability)."""
    content: str
    """The new text."""
    content_tokens: list[int]
    """The new token ids."""


class StreamEventEnd(TypedDict, closed=True):
    """Last event of a stream: the full output, finish reason and metrics."""

    event: Literal["end"]
    """Event tag."""
    request_id: str
    """The request this stream answers."""
    trace_id: str
    """Distributed tracing identifier."""
    engine_id: str
    """The engine instance serving the request (observability)."""
    prompt_tokens: NotRequired[int | None]
    """Number of prompt tokens, when known."""
    content: str
    """The complete generated text."""
    output_tokens: list[int]
    """The complete generated token ids."""
    finish_reason: FinishReason
    """Why generation ended; ``"error"`` exactly when ``error`` is set."""
    metrics: Metrics
    """Performance metrics."""
    error: NotRequired[Error | None]
    """The error, when generation failed."""


register_defaults(StreamEventEnd, {"prompt_tokens": None, "error": None})


def _error_iff_error_finish(value: Mapping[str, Any]) -> bool:
    return (value["finish_reason"] == "error") is (value.get("error") is not None)


@register_invariant(StreamEventEnd)
@register_invariant(Response, holds=_error_iff_error_finish)
def _finish_reason_matches_error(value: Mapping[str, Any]) -> Iterator[InvariantViolation]:
    """``finish_reason`` is ``"error"`` exactly when ``error`` is present and not ``None``."""
    finish_reason, error = value["finish_reason"], value.get("error")
    if finish_reason == "error" and error is None:
        yield ("error",), "expected an error when finish_reason is 'error', got None"
    elif finish_reason != "error" and error is not None:
        yield ("finish_reason",), f"expected 'error' when error is set, got {finish_reason!r}"


StreamEvent: TypeAlias = StreamEventStart | StreamEventDelta | StreamEventEnd
"""Any stream event, discriminated by its ``event`` key."""


_STREAM_RULES: Final = {
    "one_start_first": "Exactly one 'start' event, the first.",
    "one_end_last": "Exactly one 'end' event, the last: nothing follows it, and a stream that "
    "stops without it is broken (reported one past the last event).",
    "same_identity": "request_id, trace_id and engine_id are the same in every event.",
    "end_content_joins_deltas": "The end's content is the deltas' content joined.",
    "end_tokens_join_deltas": "The end's output_tokens are the deltas' content_tokens "
    "concatenated.",
}
"""A failed request may end right after its start (``finish_reason: "error"``, no deltas):
the end then carries an empty content, as the joined deltas are."""

_IDENTITY: Final = ("request_id", "trace_id", "engine_id")


@register_stream_rules(StreamEvent, _STREAM_RULES)
class _EventStream:
    """One Protocol v0.1 stream: its identity, the text and tokens so far, where it ended.

    It keeps what the end event will carry (the joined text, the tokens), not the events.
    """

    __slots__ = ("end_at", "identity", "pieces", "started_at", "tokens")

    def __init__(self) -> None:
        self.identity: tuple[str, str, str] | None = None
        self.started_at: int | None = None
        self.end_at: int | None = None
        self.pieces: list[str] = []
        self.tokens: list[int] = []

    def feed(self, index: int, event: Any) -> Sequence[InvariantViolation]:
        identity = self.identity
        if (
            event["event"] == "delta"
            and self.end_at is None
            and identity is not None
            and event["request_id"] == identity[0]
            and event["trace_id"] == identity[1]
            and event["engine_id"] == identity[2]
        ):
            self.pieces.append(event["content"])
            self.tokens += event["content_tokens"]
            return ()
        return self._settle(index, event)

    def _settle(self, index: int, event: Any) -> list[InvariantViolation]:
        """Every rule of an event off the common path (a start, an end, a change, a misplace)."""
        from ._reprs import short_repr

        found: list[InvariantViolation] = []
        kind = event["event"]
        if self.identity is None:
            self.identity = (event["request_id"], event["trace_id"], event["engine_id"])
        else:
            for key, first in zip(_IDENTITY, self.identity, strict=True):
                if event[key] != first:
                    found.append(
                        (
                            (index, key),
                            f"expected {short_repr(first)} as in [0], got {short_repr(event[key])}",
                        )
                    )
        if self.end_at is not None:
            found.append(
                (
                    (index,),
                    f"expected nothing after the end at [{self.end_at}], got {kind!r}",
                )
            )
        elif kind == "start":
            if self.started_at is not None:
                found.append(
                    (
                        (index, "event"),
                        f"expected one 'start', got another after [{self.started_at}]",
                    )
                )
            else:  # a late first start: the first event was already reported
                self.started_at = index
        elif index == 0:
            found.append(((index, "event"), f"expected 'start' first, got {kind!r}"))
        if kind == "delta" and self.end_at is None:
            self.pieces.append(event["content"])
            self.tokens += event["content_tokens"]
        elif kind == "end" and self.end_at is None:
            self.end_at = index
            found.extend(self._totals(index, event))
        return found

    def _totals(self, index: int, end: Any) -> Iterator[InvariantViolation]:
        joined = "".join(self.pieces)
        if end["content"] != joined:
            yield (index, "content"), _mismatch("text", "characters", joined, end["content"])
        if end["output_tokens"] != self.tokens:
            yield (
                (index, "output_tokens"),
                _mismatch("tokens", "tokens", self.tokens, end["output_tokens"]),
            )

    def close(self, count: int) -> list[InvariantViolation]:
        if not count:
            return [((0,), "expected a 'start' event, got an empty stream")]
        if self.end_at is None:
            return [
                ((count,), f"expected an 'end' event after [{count - 1}], got the stream's end")
            ]
        return []


def _mismatch(what: str, unit: str, joined: Any, got: Any) -> str:
    at = next(
        (at for at, (one, other) in enumerate(zip(joined, got, strict=False)) if one != other),
        min(len(joined), len(got)),
    )
    return (
        f"expected the deltas' {what} joined ({len(joined)} {unit}), got {len(got)} {unit}, "
        f"differing from {unit[:-1]} {at + 1}"  # counted from 1, as people count
    )


StartEvent: TypeAlias = StreamEventStart
DeltaEvent: TypeAlias = StreamEventDelta
EndEvent: TypeAlias = StreamEventEnd

list_keys_in_help(globals())
