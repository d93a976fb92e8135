"""The one build step pyproject.toml cannot declare stably: the optional C list checks.

Where the extension cannot be compiled (no C compiler), the install goes on without it and the
compiled checkers use pure-Python list checks: the same answers, slower on long lists.
(setuptools' ``[tool.setuptools.ext-modules]`` table would do the same, but is experimental.)

On an interpreter with a GIL the extension is built against the limited API of 3.11, so one
``cp311-abi3`` wheel serves 3.11 and every later version. A free-threaded interpreter cannot
load abi3 modules (until abi3t), so there it is built for that interpreter alone.
"""

import sysconfig

from setuptools import Extension, setup

LIMITED_API = "cp311"
"""The oldest CPython the abi3 module supports (``requires-python``)."""

free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))

setup(
    ext_modules=[
        Extension(
            "sagellm_protocol.validation._scalar_lists",
            sources=[
                "src/sagellm_protocol/validation/_scalar_lists.c",
                "src/sagellm_protocol/validation/_typed_decode.c",
            ],
            depends=["src/sagellm_protocol/validation/_typed_decode.h"],
            optional=True,
            py_limited_api=not free_threaded,
            define_macros=[] if free_threaded else [("Py_LIMITED_API", "0x030B0000")],
        )
    ],
    options={} if free_threaded else {"bdist_wheel": {"py_limited_api": LIMITED_API}},
)
