"""The one build step pyproject.toml cannot declare stably: the optional C list checks.

Where the extension cannot be compiled (no C compiler), the install goes on without it and the
compiled checkers use pure-Python list checks: the same answers, slower on long lists.
(setuptools' ``[tool.setuptools.ext-modules]`` table would do the same, but is experimental.)
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "sagellm_protocol.validation._scalar_lists",
            sources=["src/sagellm_protocol/validation/_scalar_lists.c"],
            optional=True,
        )
    ]
)
