"""validate_stream() and stream_checker(): each event by the compiled validator, then the
stream rules registered for its type."""

from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar, cast

from typing_extensions import TypeForm

from .._registry import STREAM_RULES, InvariantViolation, StreamRules, StreamState
from .._tree.analyse import analyze
from .._tree.rules import builtin_view
from ._api import _fast
from ._issues import Issue, ValidationError
from ._names import type_by_name, type_names
from ._precise import collect, unreadable

__all__ = ["StreamChecker", "stream_checker", "stream_rules", "validate_stream"]

T = TypeVar("T")


def stream_rules(tp: object) -> StreamRules:
    """The rules registered for streams of ``tp``; ``TypeError`` if there are none."""
    try:
        return STREAM_RULES[tp]
    except (KeyError, TypeError):
        known = [name for name in type_names() if type_by_name(name) in STREAM_RULES]
        raise TypeError(f"no stream rules for {tp!r}; streams of: {', '.join(known)}") from None


class StreamChecker(Generic[T]):
    """Checks one live stream event by event: :meth:`feed` each, then :meth:`close`.

    It keeps the running state of the rules (for Protocol v0.1, the text and tokens the end
    event must carry), never the events.
    """

    __slots__ = ("_count", "_fast", "_node", "_state")

    def __init__(self, tp: TypeForm[T]) -> None:
        self._state: StreamState = stream_rules(tp).state()
        self._fast = _fast(tp)
        self._node = analyze(tp)
        self._count = 0

    @property
    def count(self) -> int:
        """How many events were fed."""
        return self._count

    def feed(self, event: object) -> T:
        """``event`` itself if it is valid and breaks no rule that is already certain; else
        raise :class:`ValidationError` (paths start with the event's index)."""
        index = self._count
        self._count = index + 1
        ruled = event
        if not self._fast(event):
            own, ruled = self._own(index, event)
            if own:
                raise ValidationError(own)
        found = self._state.feed(index, ruled)
        if found:
            raise ValidationError(_sequence(found))
        # Returned as is, not through ``typing.cast``: that call is 4 % of a feed's instructions.
        return event  # type: ignore[return-value]

    def issues(self, event: object) -> list[Issue]:
        """Every issue of the next event, without raising: its own (then the rules skip it),
        else the rules it breaks."""
        if not self._fast(event):
            own, event = self._own(self._count, event)
            if own:
                self._count += 1
                return own
        return self.advance(event)

    def _own(self, index: int, event: object) -> tuple[list[Issue], object]:
        """The issues of an event the compiled checker did not confirm, under its index, and
        the event as the rules read it: its builtin view (it may hold subclasses)."""
        own = collect(self._node, event, confirmed_invalid=True)
        if own:
            return [Issue((index, *issue.path), issue.code, issue.message) for issue in own], event
        try:
            return [], builtin_view(event, {})
        except Exception as error:  # another thread resized it since the walk
            return [unreadable((index,), error)], event

    def advance(self, event: object) -> list[Issue]:
        """The rules ``event``, already known valid, breaks: for checkers that validated it."""
        index = self._count
        self._count = index + 1
        found = self._state.feed(index, event)
        return _sequence(found) if found else []

    def close(self) -> None:
        """Raise :class:`ValidationError` for what the stream's end reveals (no end event, a
        choice without its finish_reason); the path is ``[n]``, one past the last event."""
        found = self._state.close(self._count)
        if found:
            raise ValidationError(_sequence(found))

    def close_issues(self) -> list[Issue]:
        """What :meth:`close` would raise, as issues."""
        return _sequence(self._state.close(self._count))


def _sequence(found: Sequence[InvariantViolation]) -> list[Issue]:
    return [Issue(path, "sequence", message) for path, message in found]


def stream_checker(tp: TypeForm[T]) -> StreamChecker[T]:
    """A checker of one live stream of ``tp`` events (``StreamEvent``,
    ``ChatCompletionStreamResponse``, ``CompletionResponse``); ``TypeError`` for other types."""
    return StreamChecker(tp)


def validate_stream(tp: TypeForm[T], events: Iterable[object]) -> list[T]:
    """The events of a complete stream, as a list, if each is a valid ``tp`` and together
    they keep the stream rules of ``tp``; else raise :class:`ValidationError` with every
    issue (code ``sequence`` for a broken rule). An event invalid on its own is reported and
    left out of the rules."""
    stream: StreamChecker[T] = StreamChecker(tp)
    issues: list[Issue] = []
    kept: list[T] = []
    for event in events:
        kept.append(cast(T, event))
        issues += stream.issues(event)
    issues += stream.close_issues()
    if issues:
        raise ValidationError(issues)
    return kept
