"""Protocol version: constants, parsing, ordering, compatibility, negotiation, frozen interfaces."""

import dataclasses
import re
from types import MappingProxyType

import pytest

from sagellm_protocol.version import (
    BACKWARD_COMPATIBLE_SINCE,
    CURRENT_VERSION,
    FROZEN_INTERFACES,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    PROTOCOL_VERSION,
    ProtocolVersion,
    get_interface_since_version,
    is_interface_frozen,
    negotiate_version,
    parse_protocol_version,
)


def exactly(message: str) -> str:
    """A ``match`` pattern accepting ``message`` and nothing else."""
    return f"^{re.escape(message)}\\Z"


def test_constants() -> None:
    assert (PROTOCOL_VERSION, PROTOCOL_MAJOR, PROTOCOL_MINOR) == ("0.1", 0, 1)
    assert ProtocolVersion(major=0, minor=1) == CURRENT_VERSION
    assert str(CURRENT_VERSION) == PROTOCOL_VERSION
    assert parse_protocol_version(PROTOCOL_VERSION) is not CURRENT_VERSION
    assert parse_protocol_version(PROTOCOL_VERSION) == CURRENT_VERSION


def test_frozen_interfaces_is_immutable() -> None:
    assert type(FROZEN_INTERFACES) is frozenset
    assert len(FROZEN_INTERFACES) == 24
    assert "StreamEventStart" in FROZEN_INTERFACES
    assert "KVPriority" not in FROZEN_INTERFACES


def test_backward_compatible_since_is_read_only() -> None:
    assert type(BACKWARD_COMPATIBLE_SINCE) is MappingProxyType
    assert len(BACKWARD_COMPATIBLE_SINCE) == 25
    assert set(BACKWARD_COMPATIBLE_SINCE.values()) == {"0.1"}
    with pytest.raises(TypeError) as info:
        BACKWARD_COMPATIBLE_SINCE["Request"] = "0.2"  # type: ignore[index]
    assert str(info.value) == "'mappingproxy' object does not support item assignment"


@pytest.mark.parametrize(
    ("text", "major", "minor"), [("0.1", 0, 1), ("0.0", 0, 0), ("1.0", 1, 0), ("10.23", 10, 23)]
)
def test_parse(text: str, major: int, minor: int) -> None:
    assert parse_protocol_version(text) == ProtocolVersion(major, minor)
    assert ProtocolVersion.parse(text) == ProtocolVersion(major, minor)
    assert str(parse_protocol_version(text)) == text


@pytest.mark.parametrize(
    "text",
    # "0.-1" and " 0.1" were accepted by the original (defects).
    ["0.1.2", "1", "v0.1", "0.-1", " 0.1", "0.1 ", "abc", "", "0.", ".1", "+0.1", "00.1", "0.٣"],
)
def test_parse_rejects(text: str) -> None:
    message = (
        f"invalid protocol version {text!r}: expected 'MAJOR.MINOR' with decimal integers >= 0, "
        "e.g. '0.1'"
    )
    with pytest.raises(ValueError, match=exactly(message)):
        parse_protocol_version(text)
    with pytest.raises(ValueError, match=exactly(message)):
        ProtocolVersion.parse(text)


@pytest.mark.parametrize(
    ("major", "minor", "message"),
    [
        (-1, 0, "invalid protocol version: major must be an int >= 0, got -1"),
        (0, -1, "invalid protocol version: minor must be an int >= 0, got -1"),
        (True, 1, "invalid protocol version: major must be an int >= 0, got True"),
        (0, 1.0, "invalid protocol version: minor must be an int >= 0, got 1.0"),
    ],
)
def test_constructor_rejects(major: int, minor: int, message: str) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        ProtocolVersion(major, minor)


def test_ordered_hashable_frozen() -> None:
    versions = [ProtocolVersion(1, 0), ProtocolVersion(0, 10), ProtocolVersion(0, 2)]
    assert sorted(versions) == [
        ProtocolVersion(0, 2),
        ProtocolVersion(0, 10),
        ProtocolVersion(1, 0),
    ]
    assert ProtocolVersion(0, 2) < ProtocolVersion(0, 10)  # numeric, not string, order
    assert len({ProtocolVersion(0, 1), CURRENT_VERSION, ProtocolVersion(0, 2)}) == 2
    assert hash(ProtocolVersion(0, 1)) == hash(CURRENT_VERSION)
    with pytest.raises(dataclasses.FrozenInstanceError):
        CURRENT_VERSION.minor = 2  # type: ignore[misc]
    assert repr(CURRENT_VERSION) == "ProtocolVersion(major=0, minor=1)"


@pytest.mark.parametrize(
    ("server", "client", "compatible"),
    [
        ("0.1", "0.1", True),
        ("0.2", "0.1", True),
        ("0.1", "0.0", True),
        ("0.1", "0.2", False),
        ("1.0", "0.1", False),
        ("0.1", "1.0", False),
    ],
)
def test_is_compatible_with(server: str, client: str, compatible: bool) -> None:
    """Same major and ``self >= other``."""
    assert ProtocolVersion.parse(server).is_compatible_with(ProtocolVersion.parse(client)) is (
        compatible
    )


@pytest.mark.parametrize("client", ["0.1", "0.0"])
def test_negotiate_version(client: str) -> None:
    assert negotiate_version(client) is CURRENT_VERSION


@pytest.mark.parametrize(
    ("client", "message"),
    [
        (
            "0.2",
            "incompatible protocol version: client 0.2, server 0.1 "
            "(expected major 0 and minor <= 1)",
        ),
        (
            "1.0",
            "incompatible protocol version: client 1.0, server 0.1 "
            "(expected major 0 and minor <= 1)",
        ),
        (
            "abc",
            "invalid protocol version 'abc': expected 'MAJOR.MINOR' with decimal integers >= 0, "
            "e.g. '0.1'",
        ),
    ],
)
def test_negotiate_version_rejects(client: str, message: str) -> None:
    with pytest.raises(ValueError, match=exactly(message)):
        negotiate_version(client)


@pytest.mark.parametrize(
    ("name", "frozen", "since"),
    [
        ("Request", True, "0.1"),
        ("KVPriority", False, "0.1"),  # compatible since 0.1 but not frozen
        ("StreamEventStart", True, None),  # frozen but not listed with a version
        ("NoSuchType", False, None),
    ],
)
def test_interface_lookups(name: str, frozen: bool, since: str | None) -> None:
    assert is_interface_frozen(name) is frozen
    assert get_interface_since_version(name) == since
