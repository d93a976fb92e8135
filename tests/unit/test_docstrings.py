"""The key listing in each TypedDict's class docstring: current, shown by ``help()``, kept out of
the docs that list the keys themselves, and written by ``scripts/generate_docstrings.py``."""

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import pydoc
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from typing_extensions import is_typeddict

import sagellm_protocol
from sagellm_protocol import Request
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


@pytest.fixture(scope="module")
def generator() -> Iterator[types.ModuleType]:
    """``scripts/generate_docstrings.py`` as a module (its dataclass needs ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(
        "generate_docstrings", ROOT / "scripts" / "generate_docstrings.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]
        sys.path[:] = path


def test_every_class_docstring_has_the_current_listing(generator: types.ModuleType) -> None:
    stale = [docstring.name for docstring in generator.docstrings() if docstring.stale]
    assert stale == [], f"stale key listings in the class docstrings of {stale}; run {REGENERATE}"


def test_the_generator_covers_every_typed_dict_of_the_package(
    generator: types.ModuleType,
) -> None:
    """All but private bases (``openai._SamplingExtensions``, the Responses events' bases), whose
    keys their subclasses list."""
    for module in pkgutil.walk_packages(sagellm_protocol.__path__, "sagellm_protocol."):
        importlib.import_module(module.name)
    defined = {
        value
        for name, module in list(sys.modules.items())
        if name.startswith("sagellm_protocol.")
        for value in vars(module).values()
        if is_typeddict(value) and value.__module__ == name
    }
    covered = {node.cls for _, node in generator.typed_dicts()}
    assert covered <= defined
    assert sorted(cls.__qualname__ for cls in defined - covered) == [
        "_ResponsesEventBase",
        "_ResponsesItemEvent",
        "_ResponsesPartEvent",
        "_SamplingExtensions",
    ]
    modules = {cls.__module__.removeprefix("sagellm_protocol.") for cls in covered}
    assert {"core", "openai", "backend", "sampling", "kv.types", "kv.hooks"} <= modules


def test_help_lists_every_key_of_request_with_its_one_line_doc() -> None:
    text = pydoc.render_doc(Request, renderer=pydoc.plaintext)
    lines = text.splitlines()
    start = lines.index("class Request(builtins.dict)") + 1
    end = lines.index(" |  Method resolution order:")
    # pydoc prefixes each line with " |  " (3.13 writes a blank line as " |" alone).
    shown = [line.removeprefix(" |").removeprefix("  ").rstrip() for line in lines[start:end]]
    assert shown == [*REQUEST_HELP.splitlines(), ""]
    # Each key's line, then its wrapped continuation lines, indented one step further.
    entries = re.findall(r"^    (\w+)( \(optional\))?: ", REQUEST_HELP, re.MULTILINE)
    assert [key for key, _ in entries] == list(Request.__annotations__)
    assert [key for key, optional in entries if not optional] == sorted(
        Request.__required_keys__, key=list(Request.__annotations__).index
    )


def test_each_runtime_docstring_is_the_description_then_the_listing(
    generator: types.ModuleType,
) -> None:
    """What ``help()`` cleans from ``__doc__`` ends with exactly the rendered listing."""
    nodes = dict(generator.typed_dicts())
    for docstring in generator.docstrings():
        node = nodes[docstring.name]
        description, _ = documentation(node)
        listing = "\n".join(key_listing(node, docstring.start[1]))
        expected = f"{description}\n\n{listing}" if description else listing
        assert inspect.getdoc(node.cls) == expected, docstring.name


def test_documentation_leaves_the_listing_out() -> None:
    doc, key_docs = documentation(analyze(Request))
    assert doc == REQUEST_DESCRIPTION
    assert key_docs["request_id"] == "Unique request identifier."
    chat_doc, _ = documentation(analyze(ChatMessage))
    assert chat_doc.startswith("One chat message, of any role,")
    assert chat_doc.endswith("``function``\ncontent is a string or ``null``.")


def test_no_type_description_repeats_its_keys(generator: types.ModuleType) -> None:
    for name, node in generator.typed_dicts():
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
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


# The generator on sources of its own ---------------------------------------------------------

LISTING = ["Keys:", "    a: The a.", "    b (optional): The b."]


def rewrite(generator: types.ModuleType, literal: str, listing: list[str] = LISTING) -> str:
    new: str = generator.rewritten("T", literal, listing, 4)
    return new


def test_rewritten_keeps_the_description_and_replaces_the_listing(
    generator: types.ModuleType,
) -> None:
    once = rewrite(generator, '"""One line."""')
    assert once == (
        '"""One line.\n\n    Keys:\n        a: The a.\n        b (optional): The b.\n    """'
    )
    assert rewrite(generator, once) == once
    changed = rewrite(generator, once, ["Keys:", "    c: The c."])
    assert changed == '"""One line.\n\n    Keys:\n        c: The c.\n    """'
    multi = '"""Title.\n\n    More, with a ``Keys:`` mention.\n    """'
    assert rewrite(generator, multi) == (
        '"""Title.\n\n    More, with a ``Keys:`` mention.\n\n'
        '    Keys:\n        a: The a.\n        b (optional): The b.\n    """'
    )


def test_rewritten_keeps_prefix_and_quotes_and_escapes(generator: types.ModuleType) -> None:
    listing = ["Keys:", '    a: A \\d+ path, "quoted" and """triple""".']
    new = rewrite(generator, "'''Back\\\\slash, \\' quote.'''", listing)
    assert new == (
        "'''Back\\\\slash, \\' quote.\n\n    Keys:\n"
        '        a: A \\\\d+ path, "quoted" and """triple""".\n    \'\'\''
    )
    value = ast.literal_eval(new)
    assert inspect.cleandoc(value).endswith('a: A \\d+ path, "quoted" and """triple""".')
    escaped = rewrite(generator, '"""Doc."""', listing)
    assert '\\"\\"\\"triple\\"\\"\\"' in escaped
    assert inspect.cleandoc(ast.literal_eval(escaped)).endswith('"""triple""".')
    assert rewrite(generator, "'Short.'").startswith('"""Short.\n\n    Keys:')
    assert rewrite(generator, 'r"""Raw \\d."""').startswith('r"""Raw \\d.\n\n')
    with pytest.raises(generator.DocstringError, match="raw docstring"):
        rewrite(generator, 'r"""Raw."""', listing)
    # An escaped line break would be dedented as one block with the listing: refused.
    with pytest.raises(generator.DocstringError, match="does not read back"):
        rewrite(generator, '"""Broken \\n line."""')


def test_the_generator_splices_sources_and_creates_missing_docstrings(
    generator: types.ModuleType, tmp_path: Path
) -> None:
    source = textwrap.dedent(
        '''\
        from typing import TypedDict


        class Documented(TypedDict):
            """Has a doc."""  # a comment after it stays

            a: int
            """The a."""


        class Bare(TypedDict):
            # A comment above the first key.
            b: int
        '''
    )
    tree = ast.parse(source)
    documented = generator.class_definition(tree, "Documented")
    bare = generator.class_definition(tree, "Bare")
    first = documented.body[0]
    edits = [
        generator.Docstring(
            "Documented",
            tmp_path,
            (first.lineno, first.col_offset),
            (first.end_lineno, first.end_col_offset),
            '"""Has a doc."""',
            rewrite(generator, '"""Has a doc."""', ["Keys:", "    a: The a."]),
        ),
        generator.Docstring(
            "Bare",
            tmp_path,
            (bare.body[0].lineno, 4),
            (bare.body[0].lineno, 4),
            None,
            rewrite(generator, '""""""', ["Keys:", "    b: The b."]),
        ),
    ]
    result = generator.apply(source, edits)
    assert result == textwrap.dedent(
        '''\
        from typing import TypedDict


        class Documented(TypedDict):
            """Has a doc.

            Keys:
                a: The a.
            """  # a comment after it stays

            a: int
            """The a."""


        class Bare(TypedDict):
            # A comment above the first key.
            """
            Keys:
                b: The b.
            """

            b: int
        '''
    )
    namespace: dict[str, object] = {}
    exec(compile(result, "<generated>", "exec"), namespace)
    assert inspect.getdoc(namespace["Bare"]) == "Keys:\n    b: The b."
    assert inspect.getdoc(namespace["Documented"]) == "Has a doc.\n\nKeys:\n    a: The a."
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--config", str(ROOT / "pyproject.toml"), "-"],
        input=result,
        capture_output=True,
        text=True,
        check=True,
    )
    assert formatted.stdout == result
