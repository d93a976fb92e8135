"""Never imports the protocol package, yet reads protocol values by name."""

from app.types import Result


def itl(results: list[Result]) -> list[float]:
    samples: list[float] = []
    for r in results:
        samples += r.itl_list or list(getattr(r.metrics, "itl_list", []) or [])
    return samples


def has_timestamps(r: Result) -> bool:
    return hasattr(r.metrics, "timestamps") and not hasattr(r.metrics, "component_trace")
