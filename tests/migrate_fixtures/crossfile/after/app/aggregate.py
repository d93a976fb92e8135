"""Never imports the protocol package, yet reads protocol values by name."""

from app.types import Result


def itl(results: list[Result]) -> list[float]:
    samples: list[float] = []
    for r in results:
        samples += r.itl_list or list(r.metrics.get("itl_list", []) or [])
    return samples


def has_timestamps(r: Result) -> bool:
    return "timestamps" in r.metrics and "component_trace" not in r.metrics
