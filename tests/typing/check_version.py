"""Static contract of sagellm_protocol.version (run by mypy only)."""

from collections.abc import Mapping
from typing import Literal

from typing_extensions import assert_type

import sagellm_protocol
from sagellm_protocol.version import (
    BACKWARD_COMPATIBLE_SINCE,
    CURRENT_VERSION,
    FROZEN_INTERFACES,
    PROTOCOL_MAJOR,
    PROTOCOL_VERSION,
    ProtocolVersion,
    get_interface_since_version,
    is_interface_frozen,
    negotiate_version,
    parse_protocol_version,
)

assert_type(PROTOCOL_VERSION, Literal["0.1"])
assert_type(PROTOCOL_MAJOR, Literal[0])
assert_type(CURRENT_VERSION, ProtocolVersion)
assert_type(parse_protocol_version("0.1"), ProtocolVersion)
assert_type(ProtocolVersion.parse("0.1"), ProtocolVersion)
assert_type(negotiate_version("0.1"), ProtocolVersion)
assert_type(CURRENT_VERSION.is_compatible_with(ProtocolVersion(0, 0)), bool)
assert_type(is_interface_frozen("Request"), bool)
assert_type(get_interface_since_version("Request"), str | None)

# Ordered and hashable.
assert_type(ProtocolVersion(major=1, minor=0) > CURRENT_VERSION, bool)
versions: set[ProtocolVersion] = {CURRENT_VERSION}
by_version: dict[ProtocolVersion, str] = {CURRENT_VERSION: "current"}
parse_protocol_version(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
CURRENT_VERSION.is_compatible_with("0.1")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]

# Frozen: neither the version nor the registries can be changed.
CURRENT_VERSION.minor = 2  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
FROZEN_INTERFACES.add("Engine")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
assert_type(BACKWARD_COMPATIBLE_SINCE, Mapping[str, str])
BACKWARD_COMPATIBLE_SINCE["Engine"] = "0.2"  # type: ignore[index]  # pyright: ignore[reportIndexIssue]

# The distribution's version is a str; the protocol's is PROTOCOL_VERSION.
assert_type(sagellm_protocol.__version__, str)
sagellm_protocol.__version__ + 1  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue]
