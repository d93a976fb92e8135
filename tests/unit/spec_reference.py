"""The Protocol v0.1 reference (tests/data/protocol-v0.1.md), parsed into entries."""

import re
from dataclasses import dataclass, field
from pathlib import Path

SPEC = Path(__file__).parent.parent / "data" / "protocol-v0.1.md"

MODULES = {
    "backend_types": "sagellm_protocol.backend",
    "comm_types": "sagellm_protocol.comm",
    "compression_types": "sagellm_protocol.compression",
    "errors": "sagellm_protocol.core",
    "heterogeneous_types": "sagellm_protocol.hetero",
    "kv": "sagellm_protocol.kv.errors",
    "kv.enums": "sagellm_protocol.kv.enums",
    "kv.errors": "sagellm_protocol.kv.errors",
    "kv.metrics": "sagellm_protocol.kv.metrics",
    "kv.operations": "sagellm_protocol.kv.operations",
    "kv.types": "sagellm_protocol.kv.types",
    "kv_hooks": "sagellm_protocol.kv.hooks",
    "openai_types": "sagellm_protocol.openai",
    "operator_mapping": "sagellm_protocol.operators",
    "pd_sep_types": "sagellm_protocol.pd",
    "ports": "sagellm_protocol.ports",
    "protocol_version": "sagellm_protocol.version",
    "sampling": "sagellm_protocol.sampling",
    "timestamps": "sagellm_protocol.core",
    "types": "sagellm_protocol.core",
}


@dataclass
class SpecField:
    name: str
    wire_type: str
    default: str  # "REQUIRED" or the original default as printed


@dataclass
class SpecEntry:
    kind: str  # object, dataclass, TypedDict, enum, constant, function, class
    module: str
    name: str
    fields: list[SpecField] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    constant: str = ""

    @property
    def id(self) -> str:
        return f"{self.module}.{self.name}"


def parse_spec() -> list[SpecEntry]:
    entries: list[SpecEntry] = []
    module = ""
    for line in SPEC.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"## Module `([\w.]+)`", line):
            module = match[1]
        elif match := re.match(r"### (\w+) `(\w+)", line):
            entry = SpecEntry(kind=match[1], module=module, name=match[2])
            if constant := re.match(r"### constant `\w+` = `(.*)`", line):
                entry.constant = constant[1]
            entries.append(entry)
        elif line.startswith("Values: ") and entries:
            entries[-1].values = dict(re.findall(r"`(\w+)`=`([^`]*)`", line))
        elif line.startswith("| `") and entries:
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            name = cells[0].strip("`")
            if entries[-1].kind == "TypedDict":  # | key | type |
                wire_type, default = cells[1], ""
            elif entries[-1].kind == "dataclass":  # | field | type (may hold " | ") | default |
                wire_type, default = " | ".join(cells[1:-1]), cells[-1]
            else:  # | field | wire type | default | gloss |
                wire_type, default = cells[1], cells[2]
            entries[-1].fields.append(SpecField(name, wire_type, default))
    return entries


ENTRIES = parse_spec()
