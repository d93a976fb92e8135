"""The public surface: a sorted, complete ``__all__``, every spec name, a light import."""

import importlib
import subprocess
import sys
import types

import pytest
from spec_reference import ENTRIES, MODULES, SpecEntry

import sagellm_protocol
import sagellm_protocol.kv
import sagellm_protocol.testing

SPEC_KV_ONLY = {("kv.types", "KVHandle")}
"""The full KV-cache handle is ``sagellm_protocol.kv.KVHandle``; the root one is the hook handle."""


def isort_style(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then CamelCase, then everything else."""
    if name.isupper():
        return 0, name
    return (1 if name[:1].isupper() else 2), name


@pytest.mark.parametrize(
    "package", [sagellm_protocol, sagellm_protocol.kv, sagellm_protocol.testing]
)
def test_all_is_sorted_and_matches_public_names(package: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert package.__all__ == sorted(package.__all__, key=isort_style)
    assert set(package.__all__) == public


@pytest.mark.parametrize(
    "entry",
    [pytest.param(e, id=e.id) for e in ENTRIES if (e.module, e.name) not in SPEC_KV_ONLY],
)
def test_spec_name_exported_from_root(entry: SpecEntry) -> None:
    module = importlib.import_module(MODULES[entry.module])
    name = entry.name
    assert getattr(sagellm_protocol, name) is getattr(module, name)


@pytest.mark.parametrize(
    "entry", [pytest.param(e, id=e.id) for e in ENTRIES if e.module.startswith("kv.")]
)
def test_kv_spec_name_exported_from_kv(entry: SpecEntry) -> None:
    module = importlib.import_module(MODULES[entry.module])
    name = entry.name
    assert getattr(sagellm_protocol.kv, name) is getattr(module, name)


def test_two_kv_handles_and_one_dtype() -> None:
    assert sagellm_protocol.KVHandle is sagellm_protocol.kv.hooks.KVHandle
    assert sagellm_protocol.kv.KVHandle is sagellm_protocol.kv.types.KVHandle
    assert sagellm_protocol.KVHandle is not sagellm_protocol.kv.KVHandle
    assert sagellm_protocol.DType is sagellm_protocol.kv.DType
    assert sagellm_protocol.StartEvent is sagellm_protocol.StreamEventStart
    assert sagellm_protocol.DeltaEvent is sagellm_protocol.StreamEventDelta
    assert sagellm_protocol.EndEvent is sagellm_protocol.StreamEventEnd


def test_import_is_light() -> None:
    code = (
        "import sys, sagellm_protocol\n"
        "heavy = {'pydantic', 'beartype', 'typeguard', 'msgspec', 'hypothesis'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
