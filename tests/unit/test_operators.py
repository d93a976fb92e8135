"""operators: the registry entry, cross-field invariants (enum values: test_spec_conformance)."""

import dataclasses
import typing

import pytest

from sagellm_protocol import operators as ops
from sagellm_protocol._registry import INVARIANTS


def violations(value: dict[str, typing.Any]) -> list[typing.Any]:
    return [v for check in INVARIANTS[ops.OperatorConstraint] for v in check(value)]


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"min_batch_size": 4},
        {"max_batch_size": 4},
        {"min_batch_size": 4, "max_batch_size": 4},
        {"min_batch_size": 1, "max_batch_size": None},
    ],
)
def test_batch_range_holds(value: dict[str, typing.Any]) -> None:
    assert violations(value) == []


def test_batch_range_inverted() -> None:
    assert violations({"min_batch_size": 9, "max_batch_size": 8}) == [
        (("min_batch_size",), "expected min_batch_size <= max_batch_size (8), got 9")
    ]


def test_registry_entry_is_frozen_with_defaults() -> None:
    physical: ops.PhysicalOperator = {
        "kernel_name": "k",
        "backend": "cpu",
        "device": "cpu",
        "dtype": "fp32",
        "kernel_kind": "matmul",
    }
    entry = ops.OperatorRegistryEntry(physical)
    assert entry.kernel_callable is None
    assert entry.registration_metadata == {}
    assert ops.OperatorRegistryEntry(physical).registration_metadata is not (
        entry.registration_metadata
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.kernel_callable = print  # type: ignore[misc]


def test_shapes_are_json_arrays() -> None:
    hints = typing.get_type_hints(ops.LogicalOperator)
    assert hints["input_shapes"] == list[list[int]]
    assert hints["output_shape"] == list[int]
