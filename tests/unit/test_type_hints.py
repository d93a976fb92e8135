"""Every annotation in the package resolves at run time.

A name imported only under ``if TYPE_CHECKING:`` (the usual way to hide an import cycle)
type-checks but makes ``typing.get_type_hints`` raise ``NameError``, which breaks the
validator, ``@checked`` and every other tool that reads the hints. So each ``TypedDict`` and
each member of each ``typing.Protocol`` defined in the package is resolved here, with both
``typing`` and ``typing_extensions``.
"""

import importlib
import inspect
import pkgutil
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import typing_extensions

import sagellm_protocol


def package_modules() -> Iterator[types.ModuleType]:
    yield sagellm_protocol
    for info in pkgutil.walk_packages(sagellm_protocol.__path__, "sagellm_protocol."):
        yield importlib.import_module(info.name)


def defined_classes() -> Iterator[tuple[str, type]]:
    """``(qualified name, class)`` of every class whose home is a module of the package."""
    for module in package_modules():
        for name, value in sorted(vars(module).items()):
            if isinstance(value, type) and value.__module__ == module.__name__:
                yield f"{module.__name__}.{name}", value


CLASSES = list(defined_classes())
TYPED_DICTS = [(name, cls) for name, cls in CLASSES if typing_extensions.is_typeddict(cls)]
PROTOCOLS = [(name, cls) for name, cls in CLASSES if typing_extensions.is_protocol(cls)]


def annotated(member: object) -> Callable[..., Any] | None:
    """The function behind ``member`` whose annotations describe it, if it has one."""
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if isinstance(member, property):
        member = member.fget
    return member if inspect.isfunction(member) else None


def protocol_methods() -> Iterator[tuple[str, Callable[..., Any]]]:
    for name, cls in PROTOCOLS:
        for member_name in sorted(typing_extensions.get_protocol_members(cls)):
            function = annotated(inspect.getattr_static(cls, member_name))
            if function is not None:
                yield f"{name}.{member_name}", function


METHODS = list(protocol_methods())


def resolve(target: object) -> None:
    typing.get_type_hints(target)
    typing_extensions.get_type_hints(target, include_extras=True)


def test_the_walk_finds_the_package() -> None:
    """Guards the walk itself: an empty or partial walk would pass everything below."""
    typed_dicts = {name for name, _ in TYPED_DICTS}
    protocols = {name for name, _ in PROTOCOLS}
    methods = {name for name, _ in METHODS}
    assert "sagellm_protocol.core.Request" in typed_dicts
    assert "sagellm_protocol.kv.types.KVBlock" in typed_dicts
    assert "sagellm_protocol.backend.BackendProvider" in protocols
    assert "sagellm_protocol.kv.protocols.KVCacheManager" in protocols
    assert {
        "sagellm_protocol.backend.BackendProvider.kv_block_alloc",
        "sagellm_protocol.backend.BackendProvider.kv_block_copy",
        "sagellm_protocol.backend.BackendProvider.kv_block_free",
        "sagellm_protocol.backend.BackendProvider.kv_block_migrate",
        "sagellm_protocol.backend.BackendProvider.memory_stats",
    } <= methods


def params(named: list[tuple[str, Any]]) -> list[Any]:
    """One case per target, its id the qualified name a failure reports."""
    return [pytest.param(target, id=name) for name, target in named]


@pytest.mark.parametrize("cls", params(TYPED_DICTS))
def test_typed_dict_hints_resolve(cls: type) -> None:
    resolve(cls)


@pytest.mark.parametrize("cls", params(PROTOCOLS))
def test_protocol_class_hints_resolve(cls: type) -> None:
    resolve(cls)


@pytest.mark.parametrize("method", params(METHODS))
def test_protocol_method_hints_resolve(method: Callable[..., Any]) -> None:
    resolve(method)


def test_backend_provider_kv_signatures_name_the_kv_types() -> None:
    provider = sagellm_protocol.BackendProvider
    assert typing.get_type_hints(provider.kv_block_alloc)["return"] is sagellm_protocol.KVBlock
    assert typing.get_type_hints(provider.memory_stats)["return"] is sagellm_protocol.KVPoolStats


def test_one_dtype_on_every_path() -> None:
    import sagellm_protocol._dtype
    import sagellm_protocol.backend
    import sagellm_protocol.kv.enums

    for module in (
        sagellm_protocol,
        sagellm_protocol.backend,
        sagellm_protocol.kv,
        sagellm_protocol.kv.enums,
    ):
        assert module.DType is sagellm_protocol._dtype.DType, module.__name__
        assert module.DTypeName is sagellm_protocol._dtype.DTypeName, module.__name__
