"""Default ports: module constants and the port classes."""

from sagellm_protocol import ports
from sagellm_protocol.ports import SageLLMPorts, SagePorts


def test_module_constants() -> None:
    assert ports.SAGELLM_GATEWAY_PORT == 8889
    assert ports.SAGELLM_SERVE_PORT == 8901
    assert ports.SAGELLM_ENGINE_PORT == 8902
    assert ports.SAGELLM_EMBEDDING_PORT == 8090


def test_port_class() -> None:
    assert {
        name: value for name, value in vars(SageLLMPorts).items() if not name.startswith("_")
    } == {
        "SAGELLM_GATEWAY": 8889,
        "SAGELLM_SERVE_PORT": 8901,
        "SAGELLM_ENGINE_PORT": 8902,
        "SAGELLM_SERVE_PORT_2": 8903,
        "SAGELLM_ENGINE_PORT_2": 8904,
        "SAGELLM_EMBEDDING_PORT": 8090,
        "SAGELLM_LEGACY_PORT": 8001,
        "SAGELLM_DEFAULT": 8001,
        "GATEWAY_DEFAULT": 8889,
        "LLM_WSL_FALLBACK": 8901,
        "BENCHMARK_LLM": 8901,
        "EMBEDDING_DEFAULT": 8090,
    }


def test_sage_ports_is_the_same_class() -> None:
    assert SagePorts is SageLLMPorts
    assert SagePorts.GATEWAY_DEFAULT == ports.SAGELLM_GATEWAY_PORT
