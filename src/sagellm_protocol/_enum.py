"""The string enumeration base shared by every protocol enumeration."""

import enum

__all__ = ["StrEnum"]


class StrEnum(str, enum.Enum):
    """A ``str`` enumeration whose members print and format as their value.

    Members compare and hash equal to their value, so ``DType.FP16 == "fp16"``
    and ``json.dumps`` writes the value. (``enum.StrEnum`` needs Python 3.11.)
    """

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, format_spec: str) -> str:
        return str.__format__(str(self), format_spec)
