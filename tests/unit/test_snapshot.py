"""The wire snapshot (``sagellm-protocol snapshot``) and the breaking-change check (``diff``)."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sagellm_protocol._cli import main
from sagellm_protocol._snapshot import (
    _first_names,
    _named_nodes,
    _sides,
    declared_sides,
    diff,
    reference,
    snapshot,
)

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "contracts" / "protocol-v0.1.json"
REGENERATE = "python scripts/regenerate.py"

Edit = Callable[[dict[str, Any]], None]


def test_the_committed_snapshot_matches_the_code() -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == snapshot(), f"the wire contract changed: regenerate with {REGENERATE}"


def test_the_snapshot_command_prints_the_committed_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snapshot"]) == 0
    printed = capsys.readouterr().out
    assert printed == COMMITTED.read_text(encoding="utf-8"), f"regenerate with {REGENERATE}"


def test_the_snapshot_lists_keys_constraints_defaults_invariants_and_sides() -> None:
    types = snapshot()["types"]
    request = types["Request"]
    assert request["closed"] is True
    assert request["side"] == "request"
    assert request["keys"]["max_tokens"] == {
        "required": True,
        "nullable": False,
        "type": {"type": "integer", "gt": 0},
    }
    assert request["keys"]["phase"] == {
        "required": False,
        "nullable": True,
        "type": {"type": "literal", "values": ["decode", "prefill"]},
        "default": None,
    }
    assert request["invariants"] == ["_request_prompt_or_messages", "_request_ranks"]
    assert types["Response"]["side"] == "response"
    assert types["ChatCompletionRequest"]["closed"] is False
    assert snapshot()["protocol_version"] == "0.1"


def test_the_committed_reference_matches_the_code() -> None:
    committed = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert committed == reference(), f"the protocol reference changed: run {REGENERATE}"


def test_the_reference_has_a_section_per_type_with_keys_invariants_and_users() -> None:
    text = reference()
    for name in snapshot()["types"]:
        assert f"\n## {name}\n" in text
    section = text.split("\n## Request\n", 1)[1].split("\n## ", 1)[0]
    assert (
        "| `max_tokens` | integer (> 0) | yes | no |  | "
        "Maximum number of tokens to generate (> 0). |"
    ) in section
    assert (
        "Received by the engine (request-side); closed (unknown keys are rejected). *frozen*"
        in (section)
    )
    assert "- `_request_ranks`: " in section


def _diff(
    tmp_path: Path, edit: Edit, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, list[str]]:
    new = copy.deepcopy(json.loads(COMMITTED.read_text(encoding="utf-8")))
    edit(new)
    path = tmp_path / "new.json"
    path.write_text(json.dumps(new), encoding="utf-8")
    status = main(["diff", str(COMMITTED), str(path), *extra])
    return status, capsys.readouterr().out.splitlines()


def _keys(types: dict[str, Any], name: str) -> dict[str, Any]:
    keys: dict[str, Any] = types["types"][name]["keys"]
    return keys


def _set(name: str, key: str, field: str, value: object) -> Edit:
    return lambda s: _keys(s, name)[key].__setitem__(field, value)


def _type(name: str, key: str, value: object) -> Edit:
    return _set(name, key, "type", value)


def _add_key(name: str, key: str, required: bool) -> Edit:
    entry = {"required": required, "nullable": False, "type": {"type": "integer"}}
    return lambda s: _keys(s, name).__setitem__(key, entry)


def _literals(name: str, key: str, values: list[str]) -> Edit:
    return _type(name, key, {"type": "literal", "values": values})


BREAKING_FROZEN: list[tuple[Edit, str]] = [
    (lambda s: _keys(s, "Request").pop("prompt"), "Request.prompt: breaking: key removed"),
    (
        _set("Request", "model", "required", True),
        "Request.model: breaking: optional key made required",
    ),
    (
        _set("Request", "group_id", "nullable", False),
        "Request.group_id: breaking: null no longer allowed",
    ),
    (
        _type("Request", "max_tokens", {"type": "integer", "gt": 10}),
        "Request.max_tokens: breaking: range narrowed: (0, inf) -> (10, inf)",
    ),
    (
        _type("Request", "prompt", {"type": "integer"}),
        "Request.prompt: breaking: value type changed from string to integer",
    ),
    (
        _literals("Request", "phase", ["prefill"]),
        'Request.phase: breaking: literal value "decode" removed',
    ),
    (
        lambda s: s["types"]["Request"]["invariants"].append("_new_rule"),
        "Request: breaking: new invariant _new_rule",
    ),
    (
        _add_key("Request", "priority_class", True),
        "Request.priority_class: breaking: new required key",
    ),
    (
        _type("Request", "prompt", {"type": "string", "formats": ["uuid"]}),
        "Request.prompt: breaking: format uuid added",
    ),
    (lambda s: s["types"].pop("Timestamps"), "Timestamps: breaking: type removed"),
    (
        _set("Response", "request_id", "nullable", True),
        "Response.request_id: breaking: null now allowed",
    ),
    (
        _set("Response", "finish_reason", "required", False),
        "Response.finish_reason: breaking: required key made optional",
    ),
    (
        _type("Metrics", "peak_mem_mb", {"type": "number"}),
        "Metrics.peak_mem_mb: breaking: value type widened from integer to number",
    ),
]
"""Each edit of the snapshot that breaks a frozen interface, and the line diff prints for it."""


@pytest.mark.parametrize(("edit", "line"), BREAKING_FROZEN, ids=[b for _, b in BREAKING_FROZEN])
def test_a_breaking_change_to_a_frozen_interface_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Edit, line: str
) -> None:
    status, lines = _diff(tmp_path, edit, capsys)
    assert status == 1
    assert lines == [line, "1 change: 1 breaking, 1 to frozen interfaces"]


COMPATIBLE: list[tuple[Edit, str]] = [
    (
        lambda s: s["types"]["SamplingParams"].__setitem__("closed", False),
        "SamplingParams: compatible: closed type opened",
    ),
    (
        _add_key("Metrics", "gpu_util_rate", False),
        "Metrics.gpu_util_rate: compatible: new optional key",
    ),
    (
        lambda s: s["types"].__setitem__("NewThing", copy.deepcopy(s["types"]["Timestamps"])),
        "NewThing: compatible: new type",
    ),
    (
        _type("Request", "max_tokens", {"type": "integer", "ge": 0}),
        "Request.max_tokens: compatible: range widened: (0, inf) -> [0, inf)",
    ),
    (
        _literals("Response", "finish_reason", ["error", "length", "stop", "new"]),
        'Response.finish_reason: compatible: literal value "new" added',
    ),
    (
        _literals("Request", "phase", ["decode", "prefill", "verify"]),
        'Request.phase: compatible: literal value "verify" added',
    ),
    (
        lambda s: s["types"]["Request"]["invariants"].remove("_request_ranks"),
        "Request: compatible: invariant _request_ranks removed",
    ),
    (
        lambda s: s["types"]["Response"]["invariants"].append("_new_rule"),
        "Response: compatible: new invariant _new_rule",
    ),
    (
        _set("Response", "prompt_tokens", "required", True),
        "Response.prompt_tokens: compatible: optional key made required",
    ),
    (
        _set("Response", "prompt_tokens", "nullable", False),
        "Response.prompt_tokens: compatible: null no longer allowed",
    ),
    (
        _set("Request", "max_tokens", "nullable", True),
        "Request.max_tokens: compatible: null now allowed",
    ),
    (
        _set("Request", "max_tokens", "required", False),
        "Request.max_tokens: compatible: required key made optional",
    ),
]
"""Each compatible edit and its line: request-side widening, response-side narrowing, additions."""


@pytest.mark.parametrize(("edit", "line"), COMPATIBLE, ids=[c for _, c in COMPATIBLE])
def test_a_compatible_change_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Edit, line: str
) -> None:
    assert _diff(tmp_path, edit, capsys) == (
        0,
        [line, "1 change: 0 breaking, 0 to frozen interfaces"],
    )


def test_a_literal_value_check_reads_the_finish_reasons_of_the_snapshot() -> None:
    finish = _keys(json.loads(COMMITTED.read_text(encoding="utf-8")), "Response")["finish_reason"]
    assert finish["type"]["values"] == ["error", "length", "stop"]


def test_a_breaking_change_outside_the_frozen_interfaces_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit = lambda s: s["types"]["ChatCompletionRequest"].__setitem__("closed", True)  # noqa: E731
    assert _diff(tmp_path, edit, capsys) == (
        0,
        [
            "ChatCompletionRequest: breaking: open type closed",
            "1 change: 1 breaking, 0 to frozen interfaces",
        ],
    )


def test_a_type_a_frozen_interface_uses_is_frozen_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit = _set("SamplingParams", "seed", "nullable", False)
    assert _diff(tmp_path, edit, capsys) == (
        1,
        [
            "SamplingParams.seed: breaking: null no longer allowed",
            "1 change: 1 breaking, 1 to frozen interfaces",
        ],
    )


def test_a_new_major_version_may_break(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def edit(new: dict[str, Any]) -> None:
        new["protocol_version"] = "1.0"
        _keys(new, "Request").pop("prompt")

    assert _diff(tmp_path, edit, capsys) == (
        0,
        [
            "Request.prompt: breaking: key removed",
            "1 change: 1 breaking, 0 to frozen interfaces "
            "(allowed: protocol 0.1 -> 1.0 is a new major)",
        ],
    )


def test_a_new_minor_version_may_not_break(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def edit(new: dict[str, Any]) -> None:
        new["protocol_version"] = "0.2"
        _keys(new, "Request").pop("prompt")

    assert _diff(tmp_path, edit, capsys)[0] == 1


def test_json_output_for_machines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines = _diff(
        tmp_path, _set("Request", "model", "required", True), capsys, "--format", "json"
    )
    assert status == 1
    assert json.loads("\n".join(lines)) == {
        "old_version": "0.1",
        "new_version": "0.1",
        "changes": [
            {
                "type": "Request",
                "key": "model",
                "change": "optional key made required",
                "breaking": True,
                "frozen": True,
            }
        ],
        "blocking": 1,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file or directory"),
        (
            b"{",
            "not a JSON snapshot (Expecting property name enclosed in double quotes: "
            "line 1, column 2)",
        ),
        (b"[]", "not a protocol snapshot: no 'types' object"),
        (b'{"types": {}}', "snapshot_format None, expected 1"),
    ],
)
def test_an_unreadable_snapshot_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    path = tmp_path / "old.json"
    if content is not None:
        path.write_bytes(content)
    assert main(["diff", str(path), str(COMMITTED)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"sagellm-protocol: error: {path}: {message}\n"


# ---------------------------------------------------------------------------------------------
# Sides: declared by the interfaces and registrations, and how each change lands on each side

PROBE = "probe"
"""A key added to a type of each side, then changed one way per change kind."""

CHANGE_KINDS: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    # kind: (the key before, after (empty: removed), what diff says)
    "key removed": (
        {"required": True, "nullable": False, "type": {"type": "integer"}},
        {},
        "key removed",
    ),
    "made required": (
        {"required": False, "nullable": False, "type": {"type": "integer"}},
        {"required": True, "nullable": False, "type": {"type": "integer"}},
        "optional key made required",
    ),
    "made optional": (
        {"required": True, "nullable": False, "type": {"type": "integer"}},
        {"required": False, "nullable": False, "type": {"type": "integer"}},
        "required key made optional",
    ),
    "made nullable": (
        {"required": True, "nullable": False, "type": {"type": "integer"}},
        {"required": True, "nullable": True, "type": {"type": "integer"}},
        "null now allowed",
    ),
    "type widened": (
        {"required": True, "nullable": False, "type": {"type": "integer"}},
        {"required": True, "nullable": False, "type": {"type": "number"}},
        "value type widened from integer to number",
    ),
    "type narrowed": (
        {"required": True, "nullable": False, "type": {"type": "number"}},
        {"required": True, "nullable": False, "type": {"type": "integer"}},
        "value type narrowed from number to integer",
    ),
    "literal value added": (
        {"required": True, "nullable": False, "type": {"type": "literal", "values": ["a"]}},
        {"required": True, "nullable": False, "type": {"type": "literal", "values": ["a", "b"]}},
        'literal value "b" added',
    ),
    "literal value removed": (
        {"required": True, "nullable": False, "type": {"type": "literal", "values": ["a", "b"]}},
        {"required": True, "nullable": False, "type": {"type": "literal", "values": ["a"]}},
        'literal value "b" removed',
    ),
}

BREAKS_ON: dict[str, set[str]] = {
    "key removed": {"request", "response"},
    "made required": {"request"},
    "made optional": {"response"},
    "made nullable": {"response"},
    "type widened": {"response"},
    "type narrowed": {"request"},
    "literal value added": set(),  # readers treat enumerations as open (see docs/evolving.md)
    "literal value removed": {"request"},
}
"""The sides on which each change kind breaks: a request-side type must keep accepting what
old senders send, a response-side type must not take away what old readers read."""

TYPE_OF_SIDE = {"request": "Request", "response": "Response", "both": "kv.KVBlock"}


def test_each_side_is_declared_by_an_interface_or_a_registration() -> None:
    types = snapshot()["types"]
    assert {side: types[name]["side"] for side, name in TYPE_OF_SIDE.items()} == {
        side: side for side in TYPE_OF_SIDE
    }
    # BackendProvider.capability() returns it; kv_block_alloc returns and kv_block_free takes it.
    assert types["CapabilityDescriptor"]["side"] == "response"
    # Registered beside the type: no interface returns the OpenAI error bodies.
    assert types["OpenAIErrorResponse"]["side"] == "response"
    nodes, names = _named_nodes()
    sides = _sides(types, declared_sides(), _first_names(nodes, names))
    undeclared = [name for name, found in sides.items() if not found]
    assert undeclared == [], "declare their side with register_wire_side beside the type"


@pytest.mark.parametrize("kind", CHANGE_KINDS)
@pytest.mark.parametrize("side", TYPE_OF_SIDE)
def test_every_change_kind_is_classified_by_the_side_of_the_type(side: str, kind: str) -> None:
    name = TYPE_OF_SIDE[side]
    before, after, what = CHANGE_KINDS[kind]
    old = copy.deepcopy(snapshot())
    _keys(old, name)[PROBE] = before
    new = copy.deepcopy(old)
    if after:
        _keys(new, name)[PROBE] = after
    else:
        del _keys(new, name)[PROBE]
    breaking = side in BREAKS_ON[kind] or (side == "both" and bool(BREAKS_ON[kind]))
    assert [(c.type, c.key, c.what, c.breaking) for c in diff(old, new)] == [
        (name, PROBE, what, breaking)
    ]


@pytest.mark.parametrize(
    ("name", "key"), [("CapabilityDescriptor", "device_type"), ("kv.KVBlock", "block_id")]
)
def test_a_value_an_interface_returns_made_nullable_breaks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, key: str
) -> None:
    _, lines = _diff(tmp_path, _set(name, key, "nullable", True), capsys)
    assert lines[0] == f"{name}.{key}: breaking: null now allowed"
