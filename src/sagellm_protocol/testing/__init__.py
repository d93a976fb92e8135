"""Test doubles for downstream repos: a working reference implementation of every protocol.

Hypothesis strategies live in ``sagellm_protocol.testing.strategies`` (imported on its own,
since it needs hypothesis).
"""

from .backend import (
    CPUBackendProvider,
    CPUEvent,
    CPUStream,
)
from .comm import (
    ITEM_BYTES,
    WORLD_GROUP_ID,
    LoopbackCommBackend,
    LoopbackWorld,
)
from .engine import (
    EchoEngine,
    echo_tokenize,
)
from .kv import (
    ConstantLifetimePredictor,
    FCFSSchedulerPolicy,
    FIFOEvictionStrategy,
    InMemoryKVCache,
    LFUEvictionStrategy,
    LRUEvictionStrategy,
)
from .operators import (
    InMemoryOperatorRegistry,
)

__all__ = [
    "ITEM_BYTES",
    "WORLD_GROUP_ID",
    "CPUBackendProvider",
    "CPUEvent",
    "CPUStream",
    "ConstantLifetimePredictor",
    "EchoEngine",
    "FCFSSchedulerPolicy",
    "FIFOEvictionStrategy",
    "InMemoryKVCache",
    "InMemoryOperatorRegistry",
    "LFUEvictionStrategy",
    "LRUEvictionStrategy",
    "LoopbackCommBackend",
    "LoopbackWorld",
    "echo_tokenize",
]
