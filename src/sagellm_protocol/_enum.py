"""The string enumeration base shared by every protocol enumeration."""

from enum import StrEnum

__all__ = ["StrEnum"]
