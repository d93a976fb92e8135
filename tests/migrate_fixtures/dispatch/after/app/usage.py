"""A dict branch written for another engine's output: protocol values take it now."""

from collections.abc import Mapping

from sagellm_protocol import Response


def tokens(result: Response | list[int]) -> int:
    if isinstance(result, dict):  # another engine answers with a plain dict
        return 0
    return len(result)


def ttft(result: Response) -> object:
    ttft_ms = result["metrics"]["ttft_ms"]
    if type(result) is dict or isinstance(result, Mapping):
        return None
    return ttft_ms
