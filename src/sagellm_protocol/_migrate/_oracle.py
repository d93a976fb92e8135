"""The type oracle: mypy's build API over a mirror of the repo, every expression's type read
back by its span. Only the files that reach this package through their imports are checked;
mypy's incremental cache lives between runs, so a rerun only re-checks those files."""

import ast
import dataclasses
import hashlib
import itertools
import os
import pickle
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from mypy import build
from mypy.errors import CompileError
from mypy.modulefinder import BuildSource
from mypy.nodes import Expression, MemberExpr, MypyFile
from mypy.options import Options
from mypy.server.subexpr import get_subexpressions
from mypy.types import (
    AnyType,
    Instance,
    ProperType,
    Type,
    TypedDictType,
    UnionType,
    get_proper_type,
)

from ._names import Protocol

__all__ = ["Blind", "Oracle", "Seen", "Span", "TypeMap", "users_of_package"]

_PACKAGE: Final = "sagellm_protocol"
_FORMAT: Final = 1  # of the stored type maps: a new one starts a new store

Span = tuple[int, int, int, int]
"""line, column, end line, end column of an expression (1-based lines, 0-based columns)."""


@dataclasses.dataclass(frozen=True)
class Seen:
    """What mypy knows of one expression: the protocol types it can hold (a union's options
    too), or that it is unknown (``Any`` or ``object``: it could hold one)."""

    types: tuple[str, ...] = ()
    unknown: bool = False


TypeMap = dict[Span, Seen]


class Blind(Exception):
    """mypy cannot see the code: rewriting without types would half-migrate it."""


_NOT_FOUND: Final = re.compile(
    r"^(.+?):(\d+):(?:\d+:)? error: (?:Cannot find implementation or library stub for "
    r'module named|Skipping analyzing) "([\w.]+)"'
)


def _module_names(files: Iterable[Path]) -> dict[Path, tuple[str, str]]:
    """Each file's module name and the directory its top package sits in, as mypy crawls
    them (up through the ``__init__.py`` files)."""
    names = {}
    for path in files:
        parts = [path.stem] if path.stem != "__init__" else []
        folder = path.parent
        while (folder / "__init__.py").exists() and folder.parent != folder:
            parts.insert(0, folder.name)
            folder = folder.parent
        names[path] = (".".join(parts), str(folder))
    return names


def _imports(module: str, tree: ast.Module, is_package: bool) -> set[str]:
    """The absolute modules (and the names under them) a module's import statements name."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - node.level + 1] if node.level > 1 else parent
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def users_of_package(texts: Mapping[Path, str]) -> set[Path]:
    """The files that import this package, or import (through any chain) a file that does:
    the only ones whose values can be protocol values."""
    modules = _module_names(texts)
    by_name = {name: path for path, (name, _) in modules.items()}
    imported: dict[Path, set[str]] = {}
    for path, text in texts.items():
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        imported[path] = _imports(modules[path][0], tree, path.stem == "__init__")
    users = {
        path
        for path, names in imported.items()
        if any(n == _PACKAGE or n.startswith(f"{_PACKAGE}.") for n in names)
    }
    while True:
        names = {modules[path][0] for path in users}
        more = {
            path
            for path, wanted in imported.items()
            if path not in users and any(n in names for n in wanted if n in by_name)
        }
        if not more:
            return users
        users |= more


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Oracle:
    """Runs mypy over a mirror of ``root`` kept in ``cache`` (mypy's incremental cache
    beside it) and answers with each file's :data:`TypeMap`."""

    def __init__(self, root: Path, protocol: Protocol, cache: Path, unparsable: set[Path]):
        self.root = root
        self.protocol = protocol
        self.mirror = cache / "tree"
        # One mypy cache per repo: module names of two repos would share its entries
        self.mypy_cache = cache / "mypy"
        self.unparsable = unparsable
        self.runs = itertools.count()
        self.memo: dict[str, dict[Path, TypeMap]] = {}
        # Each checked file's types when mypy last checked it, by the hash of its text: mypy
        # checks again only what changed (or depends on a changed interface).
        self.known: dict[Path, tuple[str, TypeMap]] = {}
        self.store = cache / f"types-{_FORMAT}.pickle"
        try:
            self.known = pickle.loads(self.store.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            self.known = {}

    def _mirrored(self, path: Path) -> Path:
        return self.mirror / path.relative_to(self.root)

    def _write(self, texts: Mapping[Path, str], forced: set[Path], nonce: str) -> None:
        wanted = {self._mirrored(path) for path in texts}
        for path, text in texts.items():
            copy = self._mirrored(path)
            # mypy exports the types of the modules it checks, never of those its cache holds:
            # a file whose types we lack is changed (a trailing comment) to be checked.
            body = text + f"\n# {nonce}\n" if path in forced else text
            if not copy.exists() or copy.read_text(encoding="utf-8") != body:
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(body, encoding="utf-8")
        if self.mirror.exists():
            for old in self.mirror.rglob("*.py"):
                if old not in wanted:
                    old.unlink()

    def types(self, texts: Mapping[Path, str], checked: set[Path]) -> dict[Path, TypeMap]:
        """The protocol-typed and unknown expressions of the ``checked`` files, with ``texts``
        (every Python file of the repo) as they stand. Raises :class:`Blind`."""
        key = _digest(repr(sorted((str(p), t, p in checked) for p, t in texts.items())))
        if key not in self.memo:
            self.memo[key] = self._run(texts, checked)
        return self.memo[key]

    def _run(
        self, texts: Mapping[Path, str], checked: set[Path], retry: set[Path] | None = None
    ) -> dict[Path, TypeMap]:
        """One mypy build; ``retry``: the files to make mypy check (it held them fresh)."""
        if not checked:
            return {}
        digests = {path: _digest(texts[path]) for path in checked}
        forced = retry or {p for p in checked if self.known.get(p, ("",))[0] != digests[p]}
        self._write(texts, forced, f"sagellm-protocol migrate {os.getpid()}.{next(self.runs)}")
        modules = _module_names(self._mirrored(path) for path in texts)
        options = Options()
        options.incremental = True
        options.cache_dir = str(self.mypy_cache)
        options.export_types = True
        options.preserve_asts = True
        options.check_untyped_defs = True  # what mypy infers in untyped functions counts too
        options.follow_imports = "silent"
        options.show_column_numbers = True
        options.mypy_path = sorted({base for _, base in modules.values()})
        sources = [
            BuildSource(str(self._mirrored(path)), modules[self._mirrored(path)][0], None)
            for path in sorted(checked)
        ]
        here = os.getcwd()
        os.chdir(self.mirror)  # mypy searches the working directory too: not the real tree
        try:
            result = build.build(sources, options)
        except CompileError as error:
            raise Blind(self._shown("\n".join(error.messages))) from None
        finally:
            os.chdir(here)
        bases = {self.root / Path(base).relative_to(self.mirror) for base in options.mypy_path}
        lost = [
            self._shown(line)
            for line in result.errors
            if (match := _NOT_FOUND.match(line))
            and self._own(match.group(3).split(".")[0], bases | {self.root})
        ]
        if lost:
            raise Blind("\n".join(lost))
        unread = set()
        for path in checked:
            state = result.graph.get(modules[self._mirrored(path)][0])
            types = None
            if state is not None and state.tree is not None:
                types = _TypeReader(self.protocol, result.types).read(state.tree)
            if types is not None:
                self.known[path] = (digests[path], types)
            elif self.known.get(path, ("",))[0] != digests[path]:
                unread.add(path)
        if unread and not retry:
            return self._run(texts, checked, unread)
        self.store.parent.mkdir(parents=True, exist_ok=True)
        self.store.write_bytes(pickle.dumps(self.known))
        found = {path: self.known.get(path, ("", {}))[1] for path in checked}
        return found

    def _own(self, name: str, bases: set[Path]) -> bool:
        """Whether the repo holds top-level module ``name`` (and it parses)."""
        for base in bases:
            for path in (base / f"{name}.py", base / name / "__init__.py", base / name):
                if path.exists() and path not in self.unparsable:
                    return True
        return False

    def _shown(self, text: str) -> str:
        return text.replace(f"{self.mirror}{os.sep}", "")


class _TypeReader:
    """Walks one module's mypy tree: each expression that is protocol-typed or unknown, by
    span. A key read by attribute (``r.metrics``) is typed by the key, not by mypy (which says
    ``Any`` after its error), so a chain resolves in one run."""

    def __init__(self, protocol: Protocol, types: Mapping[Expression, Type]) -> None:
        self.protocol = protocol
        self.types = types
        self.memo: dict[int, ProperType | None] = {}

    def read(self, tree: MypyFile) -> TypeMap | None:
        """The map, or ``None`` if mypy did not check this tree (its cache held it)."""
        found: TypeMap = {}
        nodes = get_subexpressions(tree)
        if not any(node in self.types for node in nodes):
            return None
        for node in nodes:
            if node.line > 0 and node.end_line is not None:
                seen = self.seen(node)
                if seen is not None:
                    found[(node.line, node.column, node.end_line, node.end_column or 0)] = seen
        return found

    def _type(self, node: Expression) -> ProperType | None:
        if id(node) in self.memo:
            return self.memo[id(node)]
        known = self.types.get(node)
        typ = get_proper_type(known) if known is not None else None
        if isinstance(node, MemberExpr):
            values = [
                get_proper_type(option.items[node.name])
                for option in _options(self._type(node.expr))
                if isinstance(option, TypedDictType) and node.name in option.items
            ]
            if values:
                typ = get_proper_type(UnionType.make_union(values))
        self.memo[id(node)] = typ
        return typ

    def seen(self, node: Expression) -> Seen | None:
        typ = self._type(node)
        if isinstance(typ, AnyType) or (
            isinstance(typ, Instance) and typ.type.fullname == "builtins.object"
        ):
            return Seen(unknown=True)
        names = tuple(
            name
            for option in _options(typ)
            if isinstance(option, TypedDictType)
            and (name := option.fallback.type.name) in self.protocol.typed_dicts
        )
        return Seen(names) if names else None


def _options(typ: ProperType | None) -> list[ProperType]:
    """A union's options, or the type itself."""
    if isinstance(typ, UnionType):
        return [get_proper_type(option) for option in typ.items]
    return [typ] if typ is not None else []
