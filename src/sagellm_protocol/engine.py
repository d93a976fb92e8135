"""The ``Engine`` interface: one inference engine instance as the core and gateway drive it."""

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from .core import Request, Response, StreamEvent

__all__ = ["Engine"]


@runtime_checkable
class Engine(Protocol):
    """An inference engine instance: lifecycle, whole and streamed generation, PD phases.

    ``isinstance(obj, Engine)`` checks only that the members exist; mypy checks signatures.
    Generation methods raise ``RuntimeError`` when called before :meth:`start` or after
    :meth:`stop`.
    """

    @property
    def engine_id(self) -> str:
        """This instance's identifier, carried by every stream event (observability)."""

    async def start(self) -> None:
        """Acquire resources (load the model, allocate the KV cache) and begin serving.

        Calling it on a running engine does nothing.
        """

    async def stop(self) -> None:
        """Stop serving and release resources; state of unfinished requests is dropped.

        Calling it on a stopped engine does nothing.
        """

    async def health_check(self) -> bool:
        """Whether the engine can serve requests now; never raises."""

    async def execute(self, request: Request) -> Response:
        """Generate the whole output of ``request`` (at most ``max_tokens`` tokens).

        ``finish_reason`` is ``"length"`` when ``max_tokens`` cut the output; the metrics
        cover the request from arrival to completion.
        """

    def stream(self, request: Request) -> AsyncIterator[StreamEvent]:
        """Generate ``request``'s output as events: one start, deltas, one end.

        Usually an ``async def`` generator. The end event carries the complete output, finish
        reason and metrics, as :meth:`execute`'s ``Response`` would.
        """

    async def prefill(self, request: Request) -> Response:
        """Run only the prefill phase of a prefill/decode-separated request.

        Processes the input, keeps its KV cache under ``request_id`` for :meth:`decode` (here,
        or on a decode engine after a KV transfer) and returns the first generated token with
        ``prompt_tokens`` and metrics (``prefill_ms``).
        """

    async def decode(self, request: Request) -> Response:
        """Run the decode phase of a request whose KV cache was prefilled.

        ``request`` (``phase="decode"``) may carry neither prompt nor messages: the input is
        in the KV cache found by ``request_id``. Returns the complete output, the first token
        included, with metrics (``decode_ms``). Raises ``LookupError`` when no KV cache for
        ``request_id`` is held.
        """
