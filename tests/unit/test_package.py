"""The public surface: a sorted, complete ``__all__``, every spec name, a light, lazy import."""

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

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
    """``dir()``, not ``vars()``: the root loads some names on first use."""
    public = {
        name
        for name in dir(package)
        if not name.startswith("_") and not isinstance(getattr(package, name), types.ModuleType)
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


def run_fresh(code: str) -> str:
    """What ``code`` prints in a new interpreter, where nothing of the package is loaded yet."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


LAZY_SUBMODULES = (
    "backend",
    "comm",
    "compression",
    "engine",
    "hetero",
    "kv",
    "operators",
    "pd",
    "ports",
    "runtime",
    "validation",
    "version",
)
"""Submodules that neither ``Request`` nor ``Response`` nor ``validate`` needs."""


LOADED = (
    "import sys\n"
    "def loaded():\n"
    "    return sorted({m.split('.')[1] for m in sys.modules\n"
    "                   if m.split('.')[:1] == ['sagellm_protocol'] and m.count('.')}\n"
    f"                  & {set(LAZY_SUBMODULES)!r})\n"
)
"""Defines ``loaded()``: which of :data:`LAZY_SUBMODULES` are loaded, sorted."""


def test_names_load_their_submodule_on_first_use() -> None:
    code = LOADED + (
        "import sagellm_protocol\n"
        "print(loaded())\n"
        "from sagellm_protocol import Request, Response\n"
        "print(loaded())\n"
        "from sagellm_protocol import validate\n"
        "print(loaded())\n"
        "sagellm_protocol.checked\n"
        "print(loaded())\n"
        "sagellm_protocol.BackendProvider\n"
        "print(loaded())\n"
    )
    assert run_fresh(code).splitlines() == [
        "[]",
        "[]",
        "['validation']",
        "['runtime', 'validation']",
        "['backend', 'kv', 'runtime', 'validation']",
    ]


def test_uuid_loads_with_the_first_default_id() -> None:
    code = (
        "import sys\n"
        "from sagellm_protocol import *\n"
        "print('uuid' in sys.modules)\n"
        "plan_id = defaults(PDDispatchPlan)['plan_id']\n"
        "print('uuid' in sys.modules, str(sys.modules['uuid'].UUID(plan_id)) == plan_id)\n"
    )
    assert run_fresh(code).splitlines() == ["False", "True True"]


def test_submodules_are_attributes_before_they_load() -> None:
    code = LOADED + (
        "import sagellm_protocol\n"
        "print(sagellm_protocol.validation.__name__, loaded())\n"
        "print(sagellm_protocol.kv.DType is sagellm_protocol.DType, loaded())\n"
    )
    assert run_fresh(code).splitlines() == [
        "sagellm_protocol.validation ['validation']",
        "True ['backend', 'kv', 'validation']",
    ]


def home_modules() -> dict[str, str]:
    """Name -> defining submodule, as type checkers see the root: its ``__init__.pyi`` imports."""
    stub = Path(sagellm_protocol.__file__).with_suffix(".pyi")
    tree = ast.parse(stub.read_text(encoding="utf-8"))
    return {
        alias.name: str(node.module)
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_lazy_names_are_the_ones_type_checkers_see() -> None:
    homes = home_modules()
    lazy = vars(sagellm_protocol)["_LAZY"]
    assert {name: home for name, home in lazy.items() if name != home} == homes
    assert set(sagellm_protocol.__all__) == set(homes)


ROOT_NAMES = [
    line
    for line in (Path(__file__).parent.parent / "data" / "root_names.txt").read_text().splitlines()
    if line and not line.startswith("#")
]
"""The 403 names the root exported before it declared them once (tests/data/root_names.txt)."""


@pytest.mark.parametrize("name", ROOT_NAMES)
def test_every_root_name_exported_before_still_imports(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from sagellm_protocol import {name}", namespace)
    assert namespace[name] is getattr(sagellm_protocol, name)
    assert name in sagellm_protocol.__all__
    assert name in dir(sagellm_protocol)


def test_all_is_built_on_first_use_in_the_export_order() -> None:
    code = (
        "import sagellm_protocol as p\n"
        "print('__all__' in vars(p), '__all__' in dir(p))\n"
        "names = p.__all__\n"
        "print(names is p.__all__, names[0], names[-1])\n"
    )
    assert run_fresh(code).splitlines() == [
        "False True",
        "True BACKWARD_COMPATIBLE_SINCE with_defaults",
    ]


def test_every_name_is_its_home_modules_object_after_everything_loaded() -> None:
    """Also catches a submodule shadowing a root name once every submodule has been imported."""
    code = (
        "import importlib, pkgutil, types, sagellm_protocol as p\n"
        "before = set(dir(p))\n"
        "print(sorted(set(p.__all__) - before))\n"
        "for info in pkgutil.walk_packages(p.__path__, 'sagellm_protocol.'):\n"
        "    importlib.import_module(info.name)\n"
        f"homes = {home_modules()!r}\n"
        "print(sorted(n for n, home in homes.items()\n"
        "             if getattr(p, n) is not getattr(importlib.import_module(\n"
        "                 'sagellm_protocol.' + home), n)))\n"
        "print(p.defaults is importlib.import_module('sagellm_protocol._defaults').defaults)\n"
        "from sagellm_protocol import *\n"
        "print(sorted(n for n in p.__all__ if globals()[n] is not getattr(p, n)))\n"
        "print(sorted(n for n in before ^ set(dir(p)) if not n.startswith('_')\n"
        "             and not isinstance(getattr(p, n), types.ModuleType)))\n"
    )
    assert run_fresh(code).splitlines() == ["[]", "[]", "True", "[]", "[]"]


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'sagellm_protocol' has no attribute 'nope'"):
        sagellm_protocol.nope  # noqa: B018
    assert not hasattr(sagellm_protocol, "testing_helpers")
