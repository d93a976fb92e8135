"""Named ``Annotated`` aliases for the value constraints the protocol uses.

The metadata is annotated-types' (``Gt``, ``Ge``, ``Le`` …), so mypy sees the
plain type while ``validate()``, pydantic, hypothesis and JSON Schema all read
the same bounds. String formats the protocol defines itself (device strings,
UUID strings) are :class:`StringFormat` markers.
"""

import re
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le, Len

__all__ = [
    "DEVICE_FORMAT",
    "OPENAI_STOP_SEQUENCES",
    "UUID_FORMAT",
    "BestOf",
    "ChoiceCount",
    "CompletionLogprobCount",
    "DeviceStr",
    "JSONObject",
    "LogitBias",
    "NonNegativeFloat",
    "NonNegativeInt",
    "Penalty",
    "PositiveFloat",
    "PositiveInt",
    "StopSequences",
    "StringFormat",
    "Temperature",
    "TopLogprobCount",
    "TopP",
    "UUIDStr",
    "UnitInterval",
]


@dataclass(frozen=True)
class StringFormat:
    """A named string format, checked with a full-match regular expression."""

    name: str
    """The format's name, also its JSON Schema ``format`` keyword."""
    pattern: str
    """A regular expression the whole string must match."""
    description: str
    """What a matching string is, for messages: ``"a device string such as 'cuda:0'"``."""

    def matches(self, value: str) -> bool:
        """Whether ``value`` is in this format."""
        return self._compiled().fullmatch(value) is not None

    def _compiled(self) -> "re.Pattern[str]":
        return _compile(self.pattern)


_patterns: dict[str, "re.Pattern[str]"] = {}


def _compile(pattern: str) -> "re.Pattern[str]":
    compiled = _patterns.get(pattern)
    if compiled is None:
        compiled = _patterns[pattern] = re.compile(pattern)
    return compiled


DEVICE_FORMAT = StringFormat(
    name="device",
    pattern=r"[a-z][a-z0-9_]*(?::(?:0|[1-9][0-9]*))?",
    description="a device string ('type' or 'type:index', lower-case type, index >= 0)",
)
"""``type`` or ``type:index``: lower-case type, decimal index >= 0 without sign or leading zeros."""

UUID_FORMAT = StringFormat(
    name="uuid",
    pattern=r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    description="a UUID string (lower-case, hyphenated)",
)
"""A UUID in its canonical lower-case hyphenated form."""

PositiveInt = Annotated[int, Gt(0)]
"""An integer > 0."""
NonNegativeInt = Annotated[int, Ge(0)]
"""An integer >= 0."""
PositiveFloat = Annotated[float, Gt(0)]
"""A finite number > 0."""
NonNegativeFloat = Annotated[float, Ge(0)]
"""A finite number >= 0."""
UnitInterval = Annotated[float, Ge(0), Le(1)]
"""A finite number in [0, 1] (rates, probabilities)."""
Temperature = Annotated[float, Ge(0), Le(2)]
"""A sampling temperature in [0, 2]; 0 means greedy."""
TopP = Annotated[float, Gt(0), Le(1)]
"""A nucleus-sampling threshold in (0, 1]."""
Penalty = Annotated[float, Ge(-2), Le(2)]
"""An OpenAI-style presence/frequency penalty in [-2, 2]."""
DeviceStr = Annotated[str, DEVICE_FORMAT]
"""A device string such as ``"cuda:0"``, ``"npu:1"`` or ``"cpu"``."""
UUIDStr = Annotated[str, UUID_FORMAT]
"""A UUID as a canonical lower-case hyphenated string."""
JSONObject = dict[str, Any]
"""Free-form metadata: a JSON object with string keys."""

OPENAI_STOP_SEQUENCES = 4
"""Most stop sequences an OpenAI request may carry."""
ChoiceCount = Annotated[int, Ge(1), Le(128)]
"""OpenAI's ``n``: choices to generate, in [1, 128]."""
TopLogprobCount = Annotated[int, Ge(0), Le(20)]
"""OpenAI chat ``top_logprobs``: most likely tokens returned per position, in [0, 20]."""
CompletionLogprobCount = Annotated[int, Ge(0), Le(5)]
"""OpenAI legacy completions ``logprobs``: most likely tokens returned per position, in [0, 5]."""
BestOf = Annotated[int, Ge(0), Le(20)]
"""OpenAI legacy completions ``best_of``: candidates generated server-side, in [0, 20]."""
LogitBias = Annotated[float, Ge(-100), Le(100)]
"""An OpenAI ``logit_bias`` value: added to a token's logit, in [-100, 100]."""
StopSequences = Annotated[list[str], Len(1, OPENAI_STOP_SEQUENCES)]
"""OpenAI's list form of ``stop``: 1 to 4 strings."""
