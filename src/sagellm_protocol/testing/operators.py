"""An in-memory :class:`~sagellm_protocol.operators.OperatorRegistry`."""

import builtins
import copy
from collections import Counter

from ..backend import parse_device_str
from ..operators import (
    OperatorConstraint,
    OperatorMapping,
    OperatorRegistryEntry,
    OperatorRegistryQuery,
    OperatorRegistrySnapshot,
    OperatorType,
    OperatorTypeName,
    PhysicalOperator,
)

__all__ = ["InMemoryOperatorRegistry"]

_Key = tuple[str, str, str, str, str]


class InMemoryOperatorRegistry:
    """Registered kernels in a list, matched against queries on every lookup.

    A kernel matches a query when:

    - its logical operator type is the query's ``op_type``;
    - ``device``: same device type, and same index unless either side has none
      (``"cuda"`` matches ``"cuda:1"``; ``"cuda:0"`` does not match ``"cuda:1"``);
    - ``dtype`` and ``backend`` are equal where the query sets them;
    - the query's ``constraints`` describe the caller: its ``device_type``, ``dtype`` and
      ``kernel_kind`` must equal the kernel's; its ``min_compute_capability`` is the
      capability the caller's device has, and must reach the kernel's minimum (compared
      numerically, ``"8.0"`` < ``"10.0"``); its batch range must lie within the kernel's;
      ``custom_constraints`` keys set on both sides must be equal.

    Whatever the query leaves unset does not exclude a kernel. Matches are ordered by
    ``priority``, highest first, then by registration order.
    """

    def __init__(self) -> None:
        self._registered: list[tuple[OperatorMapping, OperatorRegistryEntry]] = []

    def register(
        self, op_type: OperatorTypeName | OperatorType, entry: OperatorRegistryEntry
    ) -> OperatorMapping:
        """Register ``entry`` for ``op_type``; ``ValueError`` for a duplicate or bad device."""
        physical = entry.physical_op
        parse_device_str(physical["device"])
        mapping: OperatorMapping = {
            "logical_op_type": OperatorType(op_type),
            "physical_kernel": physical["kernel_name"],
            "backend": physical["backend"],
            "device": physical["device"],
            "dtype": physical["dtype"],
            "constraints": copy.deepcopy(physical.get("constraints")),
            "priority": physical.get("priority", 0),
            "metadata": {},
        }
        key = _key(mapping)
        if any(_key(existing) == key for existing, _ in self._registered):
            raise ValueError(f"operator already registered: {_describe(key)}")
        self._registered.append((mapping, entry))
        return copy.deepcopy(mapping)

    def unregister(self, mapping: OperatorMapping) -> None:
        """Remove the registration ``mapping`` identifies; ``LookupError`` when absent."""
        key = _key(mapping)
        for index, (existing, _) in enumerate(self._registered):
            if _key(existing) == key:
                del self._registered[index]
                return
        raise LookupError(f"no operator registered: {_describe(key)}")

    def lookup(self, query: OperatorRegistryQuery) -> OperatorRegistryEntry | None:
        """The highest-priority matching kernel, the earliest registered among equals."""
        matches = self.list(query)
        return matches[0] if matches else None

    def snapshot(self) -> OperatorRegistrySnapshot:
        """Counts, kernels and mappings as they are now (copies)."""
        mappings = [mapping for mapping, _ in self._registered]
        return {
            "total_operators": len(mappings),
            "operators_by_type": dict(Counter(str(m["logical_op_type"]) for m in mappings)),
            "operators_by_backend": dict(Counter(m["backend"] for m in mappings)),
            "registered_operators": [
                copy.deepcopy(entry.physical_op) for _, entry in self._registered
            ],
            "active_mappings": copy.deepcopy(mappings),
            "metadata": {},
        }

    # builtins.list: evaluated lazily (PEP 649), a bare ``list`` here names this method.
    def list(
        self, query: OperatorRegistryQuery | None = None
    ) -> builtins.list[OperatorRegistryEntry]:
        """Matching kernels (all without a query), highest priority first."""
        matches = [
            (mapping, entry)
            for mapping, entry in self._registered
            if query is None or _matches(mapping, entry, query)
        ]
        # sorted() is stable: equal priorities keep registration order.
        matches.sort(key=lambda item: -item[0].get("priority", 0))
        return [entry for _, entry in matches]


def _key(mapping: OperatorMapping) -> _Key:
    return (
        str(mapping["logical_op_type"]),
        mapping["physical_kernel"],
        mapping["backend"],
        mapping["device"],
        str(mapping["dtype"]),
    )


def _describe(key: _Key) -> str:
    op_type, kernel, backend, device, dtype = key
    return f"{kernel!r} for {op_type} on backend {backend!r}, device {device!r}, dtype {dtype}"


def _matches(
    mapping: OperatorMapping, entry: OperatorRegistryEntry, query: OperatorRegistryQuery
) -> bool:
    if str(mapping["logical_op_type"]) != str(query["op_type"]):
        return False
    device_type, index = parse_device_str(mapping["device"])
    wanted_device = query.get("device")
    if wanted_device is not None:
        wanted_type, wanted_index = parse_device_str(wanted_device)
        if wanted_type != device_type:
            return False
        if index is not None and wanted_index is not None and index != wanted_index:
            return False
    dtype, backend = query.get("dtype"), query.get("backend")
    if dtype is not None and str(dtype) != str(mapping["dtype"]):
        return False
    if backend is not None and backend != mapping["backend"]:
        return False
    caller = query.get("constraints")
    return caller is None or _admits(entry.physical_op, device_type, caller)


def _admits(physical: PhysicalOperator, device_type: str, caller: OperatorConstraint) -> bool:
    """Whether the kernel ``physical`` can serve a caller described by ``caller``."""
    kernel = physical.get("constraints") or {}
    wanted_type = caller.get("device_type")
    if wanted_type is not None and wanted_type != device_type:
        return False
    wanted_dtype = caller.get("dtype")
    if wanted_dtype is not None and str(wanted_dtype) != str(physical["dtype"]):
        return False
    wanted_kind = caller.get("kernel_kind")
    if wanted_kind is not None and str(wanted_kind) != str(physical["kernel_kind"]):
        return False
    minimum, available = kernel.get("min_compute_capability"), caller.get("min_compute_capability")
    if minimum is not None and available is not None and not _at_least(available, minimum):
        return False
    low, high = caller.get("min_batch_size"), caller.get("max_batch_size")
    kernel_low, kernel_high = kernel.get("min_batch_size"), kernel.get("max_batch_size")
    for bound in (low, high):
        if bound is None:
            continue
        if (kernel_low is not None and bound < kernel_low) or (
            kernel_high is not None and bound > kernel_high
        ):
            return False
    mine_custom, theirs_custom = kernel.get("custom_constraints"), caller.get("custom_constraints")
    if mine_custom and theirs_custom:
        shared = mine_custom.keys() & theirs_custom.keys()
        if any(mine_custom[name] != theirs_custom[name] for name in shared):
            return False
    return True


def _at_least(capability: str, minimum: str) -> bool:
    """``capability >= minimum`` for dotted numbers; unparsable ones only equal themselves."""
    try:
        return _numbers(capability) >= _numbers(minimum)
    except ValueError:
        return capability == minimum


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
