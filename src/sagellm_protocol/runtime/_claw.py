"""The package-wide hook: ``@checked``'s argument and return checks through ``beartype.claw``."""

from ._beartype_kit import beartype_kit
from ._switch import sampling_period

__all__ = ["checked_package"]


def checked_package(package_name: str) -> bool:
    """Check every annotated function of ``package_name`` imported from now on.

    Call it first thing in the package's ``__init__.py`` (``checked_package(__name__)``) or
    in a test ``conftest.py`` before the package is imported: ``beartype.claw`` decorates
    each submodule as it is imported, with ``@checked``'s protocol overrides, so protocol dicts
    are checked deeply wherever they stand in an annotation and a violation raises
    :class:`CheckViolation`. Yielded items are not checked (the hook can only apply beartype
    itself): put ``@checked`` on stream entrypoints for that.

    Follows the switch when called (:func:`override_checks`, :func:`set_checks_mode`,
    ``SAGELLM_PROTOCOL_CHECKS``): installs the hook only when it is ``on`` and returns whether
    it did. ``sample:N`` does not install it, since an import hook decorates for every call and
    cannot sample; once installed, no override silences the functions it checks.
    """
    if sampling_period() != 1:
        return False
    from beartype.claw import beartype_package

    beartype_package(package_name, conf=beartype_kit().package_conf)
    return True
