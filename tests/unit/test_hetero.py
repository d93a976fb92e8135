"""Heterogeneous scheduling and KV offload types: keys, bounds and defaults."""

from typing import Any, get_args

import annotated_types
import pytest
from typing_extensions import NotRequired, get_type_hints

from sagellm_protocol import defaults
from sagellm_protocol._registry import INVARIANTS
from sagellm_protocol.constraints import DEVICE_FORMAT
from sagellm_protocol.hetero import (
    DeviceClass,
    DeviceClassName,
    HeteroSchedulingHint,
    KVOffloadSpec,
    KVOffloadStats,
    KVOffloadTrigger,
    KVOffloadTriggerName,
    KVRestoreTrigger,
    KVRestoreTriggerName,
)
from sagellm_protocol.validation import is_valid, validate

STAT_KEYS = [
    "offloads_triggered",
    "restores_triggered",
    "offload_tokens",
    "restore_tokens",
    "offload_failures",
    "restore_failures",
    "nvme_offloads_triggered",
    "nvme_restores_triggered",
    "nvme_offload_tokens",
    "nvme_restore_tokens",
    "nvme_offload_failures",
    "nvme_restore_failures",
]


@pytest.mark.parametrize(
    ("enum", "literal", "values"),
    [
        (DeviceClass, DeviceClassName, ["cpu", "npu", "cuda", "auto"]),
        (
            KVOffloadTrigger,
            KVOffloadTriggerName,
            ["memory_pressure", "idle_sequence", "explicit", "batch_eviction", "nvme_pressure"],
        ),
        (KVRestoreTrigger, KVRestoreTriggerName, ["schedule", "prefetch", "explicit"]),
    ],
)
def test_enums(enum: Any, literal: Any, values: list[str]) -> None:
    assert [m.value for m in enum] == values
    assert list(get_args(literal)) == values


def metadata(tp: Any, key: str) -> list[Any]:
    """The Annotated metadata of ``tp[key]``, through NotRequired."""
    hint = get_type_hints(tp, include_extras=True)[key]
    while not hasattr(hint, "__metadata__"):
        (hint,) = get_args(hint)
    return list(hint.__metadata__)


def test_hetero_scheduling_hint() -> None:
    assert HeteroSchedulingHint.__required_keys__ == frozenset()
    assert HeteroSchedulingHint.__closed__ is True
    assert defaults(HeteroSchedulingHint) == {
        "preferred_device": "auto",
        "allow_cpu_fallback": True,
        "kv_offload_on_idle": False,
        "kv_offload_threshold": 0.85,
        "affinity_engine_id": None,
        "extra": {},
    }
    assert list(get_type_hints(HeteroSchedulingHint)) == list(defaults(HeteroSchedulingHint))
    # A fraction of device memory: [0, 1] (our bound, documented on the key).
    assert metadata(HeteroSchedulingHint, "kv_offload_threshold") == [
        annotated_types.Ge(0),
        annotated_types.Le(1),
    ]


def test_hetero_extra_default_is_fresh() -> None:
    first = defaults(HeteroSchedulingHint)
    first["extra"]["x"] = 1
    assert defaults(HeteroSchedulingHint)["extra"] == {}


def test_kv_offload_spec() -> None:
    assert KVOffloadSpec.__required_keys__ == frozenset({"handle_id", "src_device", "dst_device"})
    assert KVOffloadSpec.__closed__ is True
    assert list(get_type_hints(KVOffloadSpec)) == [
        "handle_id",
        "src_device",
        "dst_device",
        "trigger",
        "priority",
        "num_tokens",
        "request_id",
    ]
    assert defaults(KVOffloadSpec) == {
        "trigger": "explicit",
        "priority": 10,
        "num_tokens": 0,
        "request_id": "",
    }
    assert metadata(KVOffloadSpec, "src_device") == [DEVICE_FORMAT]
    assert metadata(KVOffloadSpec, "dst_device") == [DEVICE_FORMAT]
    assert metadata(KVOffloadSpec, "num_tokens") == [annotated_types.Ge(0)]
    # Priority stays unbounded, as in the original: negative means "after everything".
    assert get_type_hints(KVOffloadSpec, include_extras=True)["priority"] == NotRequired[int]


def test_kv_offload_stats() -> None:
    assert KVOffloadStats.__required_keys__ == frozenset()
    assert KVOffloadStats.__closed__ is True
    assert list(get_type_hints(KVOffloadStats)) == STAT_KEYS
    assert defaults(KVOffloadStats) == dict.fromkeys(STAT_KEYS, 0)
    for key in STAT_KEYS:
        assert metadata(KVOffloadStats, key) == [annotated_types.Ge(0)], key


def test_no_cross_field_rules() -> None:
    """None is clearly right: offloading to the same device is odd but harmless."""
    for tp in (HeteroSchedulingHint, KVOffloadSpec, KVOffloadStats):
        assert tp not in INVARIANTS


def test_bounds_are_enforced_by_validate() -> None:
    spec: KVOffloadSpec = {"handle_id": "h1", "src_device": "cuda:0", "dst_device": "cpu"}
    assert validate(KVOffloadSpec, spec) is spec
    assert not is_valid(KVOffloadSpec, {**spec, "src_device": "CUDA:0"})
    assert not is_valid(KVOffloadSpec, {**spec, "num_tokens": -1})
    assert is_valid(KVOffloadSpec, {**spec, "priority": -5})
    assert is_valid(HeteroSchedulingHint, {"kv_offload_threshold": 1.0})
    assert not is_valid(HeteroSchedulingHint, {"kv_offload_threshold": 1.5})
    assert not is_valid(KVOffloadStats, {"offload_failures": -1})
