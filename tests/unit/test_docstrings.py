"""The key listing of each TypedDict's ``__doc__``: built on first access from the key docstrings
(none of it in the source), shown by ``inspect.getdoc``, kept out of the docs that list the keys
themselves."""

import importlib
import importlib.util
import inspect
import pkgutil
import pydoc
import re
import subprocess
import sys
from pathlib import Path

from typing_extensions import is_typeddict

import sagellm_protocol
from sagellm_protocol import Request
from sagellm_protocol._snapshot import _named_nodes
from sagellm_protocol._tree.analyse import KEYS_HEADING, analyze, documentation, split_keys_section
from sagellm_protocol._tree.listing import key_listing
from sagellm_protocol._tree.nodes import TypedDictNode
from sagellm_protocol.openai import ChatMessage

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "python scripts/regenerate.py"

REQUEST_DESCRIPTION = "An inference request. Carries a prompt or chat messages, never both."
REQUEST_HELP = """\
An inference request. Carries a prompt or chat messages, never both.

Keys:
    request_id: Unique request identifier.
    trace_id: Distributed tracing identifier.
    model (optional): Model name; empty for the engine's default.
    prompt (optional): Input text (alternative to ``messages``).
    messages (optional): Chat messages (alternative to ``prompt``); the engine renders them to a
        prompt.
    max_tokens: Maximum number of tokens to generate (> 0).
    stream (optional): Whether to stream the output as events.
    sampling_params (optional): Full sampling parameters; wins over ``temperature``/``top_p``
        when given.
    temperature (optional): Sampling temperature in [0, 2].
    top_p (optional): Nucleus sampling threshold in (0, 1].
    kv_budget_tokens (optional): KV cache budget (tokens), > 0 when given.
    metadata (optional): Opaque metadata passed through to the engine/adapter.
    phase (optional): Execution phase, for prefill/decode separation.
    rank (optional): This node's rank (distributed), < ``world_size``.
    world_size (optional): Total number of nodes (distributed).
    group_id (optional): Communication group (distributed).
    tp_rank (optional): Tensor-parallel rank, < ``tp_size``.
    pp_rank (optional): Pipeline-parallel rank, < ``pp_size``.
    tp_size (optional): Tensor-parallel group size.
    pp_size (optional): Pipeline-parallel group size.
"""
"""What ``help(Request)`` shows between its class line and the method resolution order."""


def protocol_typed_dicts() -> list[tuple[str, TypedDictNode]]:
    """Every TypedDict of the protocol snapshot, with its snapshot name."""
    _, names = _named_nodes()
    return [(name, node) for node, name in names.items()]


def test_no_generated_listing_is_left_in_the_source() -> None:
    listed = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src" / "sagellm_protocol").rglob("*.py")
        if re.search(rf"^\s*{KEYS_HEADING}$", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert listed == []


def test_every_typed_dict_of_the_package_lists_its_keys_in_its_doc() -> None:
    """All of them, private bases included (``openai._SamplingExtensions`` …)."""
    for module in pkgutil.walk_packages(sagellm_protocol.__path__, "sagellm_protocol."):
        importlib.import_module(module.name)
    defined = {
        value
        for name, module in list(sys.modules.items())
        if name.startswith("sagellm_protocol.")
        for value in vars(module).values()
        if is_typeddict(value) and value.__module__ == name
    }
    assert {node.cls for _, node in protocol_typed_dicts()} <= defined
    for cls in defined:
        fields = [line.split(":")[0] for line in split_keys_section(cls.__doc__)[1].splitlines()]
        assert fields[0] == KEYS_HEADING.rstrip(":"), cls
        keys = [
            field.strip().removesuffix(" (optional)") for field in fields[1:] if field[4] != " "
        ]
        assert keys == list(cls.__annotations__), cls


def test_help_shows_the_description_and_getdoc_every_key_with_its_one_line_doc() -> None:
    text = pydoc.render_doc(Request, renderer=pydoc.plaintext)
    lines = text.splitlines()
    start = lines.index("class Request(builtins.dict)") + 1
    assert lines[start].removeprefix(" |  ") == REQUEST_DESCRIPTION
    assert inspect.getdoc(Request) == REQUEST_HELP.rstrip("\n")
    # Each key's line, then its wrapped continuation lines, indented one step further.
    entries = re.findall(r"^    (\w+)( \(optional\))?: ", REQUEST_HELP, re.MULTILINE)
    assert [key for key, _ in entries] == list(Request.__annotations__)
    assert [key for key, optional in entries if not optional] == sorted(
        Request.__required_keys__, key=list(Request.__annotations__).index
    )


def test_each_runtime_docstring_is_the_description_then_the_listing() -> None:
    for name, node in protocol_typed_dicts():
        description, _ = documentation(node)
        listing = "\n".join(key_listing(node))
        expected = f"{description}\n\n{listing}" if description else listing
        assert inspect.getdoc(node.cls) == expected, name


def printed(code: str) -> str:
    """What ``python -c code`` prints, in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_the_listing_is_built_once_whatever_the_threads() -> None:
    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from sagellm_protocol.openai import ChatCompletionRequest as T\n"
        "with ThreadPoolExecutor(8) as pool:\n"
        "    docs = list(pool.map(lambda _: T.__doc__, range(64)))\n"
        "print(len({id(doc) for doc in docs}), 'Keys:' in docs[0])"
    )
    assert printed(code).split() == ["1", "True"]


def test_documentation_leaves_the_listing_out() -> None:
    doc, key_docs = documentation(analyze(Request))
    assert doc == REQUEST_DESCRIPTION
    assert key_docs["request_id"] == "Unique request identifier."
    chat_doc, _ = documentation(analyze(ChatMessage))
    assert chat_doc.startswith("One chat message, of any role,")
    assert chat_doc.endswith("``function``\ncontent is a string or ``null``.")


def test_no_type_description_repeats_its_keys() -> None:
    for name, node in protocol_typed_dicts():
        doc, _ = documentation(node)
        assert KEYS_HEADING not in doc.splitlines(), name


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
    assert printed(code).strip() == "False"
