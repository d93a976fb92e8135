"""Opt-in runtime checks: ``@checked``, its switch, the package hook, protocol conformance.

beartype is imported only when checking is actually used (the first ``@checked`` with
checks on), so importing this module stays light.
"""

from ._checked import checked
from ._claw import checked_package
from ._conformance import ConformanceError, ConformanceProblem, assert_conforms, conformance
from ._switch import CHECKS_ENV, checks_mode, override_checks, set_checks_mode
from ._violation import CheckViolation, CheckYieldViolation

__all__ = [
    "CHECKS_ENV",
    "CheckViolation",
    "CheckYieldViolation",
    "ConformanceError",
    "ConformanceProblem",
    "assert_conforms",
    "checked",
    "checked_package",
    "checks_mode",
    "conformance",
    "override_checks",
    "set_checks_mode",
]
