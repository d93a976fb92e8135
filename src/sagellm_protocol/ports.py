"""Default TCP ports of the sageLLM services."""

from typing import Final

__all__ = [
    "SAGELLM_EMBEDDING_PORT",
    "SAGELLM_ENGINE_PORT",
    "SAGELLM_GATEWAY_PORT",
    "SAGELLM_SERVE_PORT",
    "SageLLMPorts",
    "SagePorts",
]

SAGELLM_GATEWAY_PORT: Final = 8889
"""The OpenAI-compatible gateway."""

SAGELLM_SERVE_PORT: Final = 8901
"""The serving front end."""

SAGELLM_ENGINE_PORT: Final = 8902
"""The inference engine."""

SAGELLM_EMBEDDING_PORT: Final = 8090
"""The embedding service."""


class SageLLMPorts:
    """Every default port as a class attribute, including the legacy and fallback ones."""

    SAGELLM_GATEWAY: Final = SAGELLM_GATEWAY_PORT
    """The OpenAI-compatible gateway."""
    SAGELLM_SERVE_PORT: Final = SAGELLM_SERVE_PORT
    """The serving front end."""
    SAGELLM_ENGINE_PORT: Final = SAGELLM_ENGINE_PORT
    """The inference engine."""
    SAGELLM_SERVE_PORT_2: Final = 8903
    """A second serving front end."""
    SAGELLM_ENGINE_PORT_2: Final = 8904
    """A second inference engine."""
    SAGELLM_EMBEDDING_PORT: Final = SAGELLM_EMBEDDING_PORT
    """The embedding service."""
    SAGELLM_LEGACY_PORT: Final = 8001
    """The port older sageLLM releases served on."""
    SAGELLM_DEFAULT: Final = SAGELLM_LEGACY_PORT
    """Default sageLLM port (the legacy one)."""
    GATEWAY_DEFAULT: Final = SAGELLM_GATEWAY_PORT
    """Default gateway port."""
    LLM_WSL_FALLBACK: Final = SAGELLM_SERVE_PORT
    """Serving port to fall back to under WSL."""
    BENCHMARK_LLM: Final = SAGELLM_SERVE_PORT
    """Serving port benchmarks target."""
    EMBEDDING_DEFAULT: Final = SAGELLM_EMBEDDING_PORT
    """Default embedding port."""


SagePorts = SageLLMPorts
"""The same class under its shorter name."""
