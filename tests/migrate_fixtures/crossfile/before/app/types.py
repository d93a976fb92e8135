from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sagellm_protocol import Metrics


@dataclass
class Result:
    metrics: "Metrics"
    itl_list: list[float]
