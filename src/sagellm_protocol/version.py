"""The protocol version, version negotiation and the interfaces frozen since 0.1."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "BACKWARD_COMPATIBLE_SINCE",
    "CURRENT_VERSION",
    "FROZEN_INTERFACES",
    "PROTOCOL_MAJOR",
    "PROTOCOL_MINOR",
    "PROTOCOL_VERSION",
    "ProtocolVersion",
    "get_interface_since_version",
    "is_interface_frozen",
    "negotiate_version",
    "parse_protocol_version",
]

PROTOCOL_VERSION: Final = "0.1"
"""This package's protocol version, ``"MAJOR.MINOR"``."""

PROTOCOL_MAJOR: Final = 0
"""Major part of :data:`PROTOCOL_VERSION`; a change breaks compatibility."""

PROTOCOL_MINOR: Final = 1
"""Minor part of :data:`PROTOCOL_VERSION`; a change only adds."""

BACKWARD_COMPATIBLE_SINCE: Final[Mapping[str, str]] = MappingProxyType(
    {
        "Request": "0.1",
        "Response": "0.1",
        "Metrics": "0.1",
        "StreamEvent": "0.1",
        "ErrorCode": "0.1",
        "Timestamps": "0.1",
        "KVAllocateParams": "0.1",
        "KVHandle": "0.1",
        "KVEvictReason": "0.1",
        "KVMigrateParams": "0.1",
        "CommGroupInfo": "0.1",
        "CollectiveRequest": "0.1",
        "CollectiveResponse": "0.1",
        "P2PSendRequest": "0.1",
        "P2PRecvRequest": "0.1",
        "CompressionConfig": "0.1",
        "QuantizationConfig": "0.1",
        "SparseConfig": "0.1",
        "SpeculativeDecodingConfig": "0.1",
        "KVPriority": "0.1",
        "KVHookEvent": "0.1",
        "KVHookPayload": "0.1",
        "KVFreeParams": "0.1",
        "KVEvictParams": "0.1",
        "KVPrefetchParams": "0.1",
    }
)
"""Interface name -> the protocol version since which it stays backward compatible (read-only)."""

FROZEN_INTERFACES: Final[frozenset[str]] = frozenset(
    {
        "StreamEventStart",
        "StreamEventDelta",
        "StreamEvent",
        "Request",
        "KVFreeParams",
        "KVPrefetchParams",
        "KVHandle",
        "KVAllocateParams",
        "QuantizationConfig",
        "Metrics",
        "Timestamps",
        "CompressionConfig",
        "CollectiveRequest",
        "KVMigrateParams",
        "SparseConfig",
        "Response",
        "KVEvictParams",
        "SpeculativeDecodingConfig",
        "KVHookPayload",
        "ErrorCode",
        "CollectiveResponse",
        "StreamEventEnd",
        "CommGroupInfo",
        "KVEvictReason",
    }
)
"""Names of the interfaces whose fields may only be added to, never changed or removed."""

# ASCII digits only (``\d`` also matches other scripts' digits) and no leading zeros,
# so every accepted string is the canonical spelling of exactly one version.
_VERSION_RE: Final = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


@dataclass(frozen=True, order=True)
class ProtocolVersion:
    """A protocol version ``MAJOR.MINOR``; prints as ``"0.1"``.

    A frozen, ordered dataclass rather than a TypedDict: versions are compared
    (``<``, ``>=``), hashed (set members, dict keys) and must not change once made,
    and a dict can do none of that. On the wire a version is its string form.
    """

    major: int
    """Major version (>= 0); versions with different majors are incompatible."""
    minor: int
    """Minor version (>= 0); a higher minor only adds to a lower one."""

    def __post_init__(self) -> None:
        for part in ("major", "minor"):
            value = getattr(self, part)
            # bool is an int subclass, but True is no version number.
            if type(value) is not int or value < 0:
                raise ValueError(
                    f"invalid protocol version: {part} must be an int >= 0, got {value!r}"
                )

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @classmethod
    def parse(cls, version: str) -> "ProtocolVersion":
        """The version ``"MAJOR.MINOR"`` names; same as :func:`parse_protocol_version`."""
        return parse_protocol_version(version)

    def is_compatible_with(self, other: "ProtocolVersion") -> bool:
        """Whether this version serves ``other``'s peers: same major and ``self >= other``."""
        return self.major == other.major and self >= other


def parse_protocol_version(version: str) -> ProtocolVersion:
    """The version ``"MAJOR.MINOR"`` names, e.g. ``"0.1"``.

    Both parts are decimal integers >= 0 without sign, spaces or leading zeros.
    Raises ``ValueError`` naming ``version`` otherwise (``"0.1.2"``, ``"1"``, ``"v0.1"``,
    ``"0.-1"``, ``" 0.1"``).
    """
    match = _VERSION_RE.fullmatch(version)
    if match is None:
        raise ValueError(
            f"invalid protocol version {version!r}: expected 'MAJOR.MINOR' with decimal "
            "integers >= 0, e.g. '0.1'"
        )
    return ProtocolVersion(major=int(match[1]), minor=int(match[2]))


CURRENT_VERSION: Final = ProtocolVersion(major=PROTOCOL_MAJOR, minor=PROTOCOL_MINOR)
"""This package's protocol version, :data:`PROTOCOL_VERSION` parsed."""


def negotiate_version(client_version: str) -> ProtocolVersion:
    """The version to speak with a client that speaks ``client_version``.

    That is :data:`CURRENT_VERSION` when the client has the same major and a minor no
    higher than ours. Raises ``ValueError`` naming both versions otherwise, and
    ``ValueError`` naming the string when it is not a version.
    """
    client = parse_protocol_version(client_version)
    if not CURRENT_VERSION.is_compatible_with(client):
        raise ValueError(
            f"incompatible protocol version: client {client}, server {CURRENT_VERSION} "
            f"(expected major {CURRENT_VERSION.major} and minor <= {CURRENT_VERSION.minor})"
        )
    return CURRENT_VERSION


def is_interface_frozen(interface_name: str) -> bool:
    """Whether ``interface_name`` is in :data:`FROZEN_INTERFACES`."""
    return interface_name in FROZEN_INTERFACES


def get_interface_since_version(interface_name: str) -> str | None:
    """The version since which ``interface_name`` is backward compatible, or ``None``."""
    return BACKWARD_COMPATIBLE_SINCE.get(interface_name)
