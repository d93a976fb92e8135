"""The key listing for each TypedDict's class docstring: how it is rendered, and how
``documentation()`` finds where it starts."""

import subprocess
import sys

from sagellm_protocol import Request
from sagellm_protocol._tree.analyse import KEYS_HEADING, analyze, split_keys_section
from sagellm_protocol._tree.listing import key_listing
from sagellm_protocol._tree.nodes import TypedDictNode


def test_split_keys_section() -> None:
    assert split_keys_section("Text.\n\nKeys:\n    a: A.") == ("Text.", "Keys:\n    a: A.")
    assert split_keys_section("Keys:\n    a: A.") == ("", "Keys:\n    a: A.")
    assert split_keys_section("\n    Keys:\n        a: A.\n    ") == (
        "",
        "    Keys:\n        a: A.\n    ",
    )
    # Not a heading: no blank line before it; the last heading starts the listing.
    assert split_keys_section("Text.\nKeys:\n    a") == ("Text.\nKeys:\n    a", "")
    assert split_keys_section("A.\n\nKeys:\n\nKeys:\n    b") == ("A.\n\nKeys:", "Keys:\n    b")
    assert split_keys_section("Text.  \n") == ("Text.", "")


def test_listing_wraps_at_the_docstring_column() -> None:
    node = analyze(Request)
    assert isinstance(node, TypedDictNode)
    for column in (4, 8, 40):
        lines = key_listing(node, column)
        assert lines[0] == KEYS_HEADING
        assert all(column + len(line) <= 100 for line in lines)
        assert all(line.startswith("    ") for line in lines[1:])
        assert any(line.startswith("        ") for line in lines)  # a wrapped key
    assert key_listing(node)[1:4] == [
        "    request_id: Unique request identifier.",
        "    trace_id: Distributed tracing identifier.",
        "    model (optional): Model name; empty for the engine's default.",
    ]


def test_the_listing_is_not_loaded_at_import() -> None:
    code = (
        "import sys\n"
        "from sagellm_protocol import Request, Response, validate\n"
        "validate(Request, {'request_id': 'r', 'trace_id': 't', 'max_tokens': 1})\n"
        "print('sagellm_protocol._tree.listing' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
