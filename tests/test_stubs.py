"""The stub-only distribution ``stubs/``: up to date, true to the runtime, enough on its own.

Stub-only checks run in an environment where the runtime package cannot be found: a venv
without pip whose ``site-packages`` holds the stubs as ``pip install ./stubs`` lays them out,
plus a ``.pth`` line naming this interpreter's ``site-packages`` for mypy, basedpyright and the
typing tests' other imports. ``.pth`` files there are not read again, so the editable install's
path to ``src`` stays out; mypy and pyright ask that interpreter for ``sys.path``.
"""

import ast
import configparser
import filecmp
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import types
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
STUBS = ROOT / "stubs" / "sagellm_protocol-stubs"
TYPING_TESTS = ROOT / "tests" / "typing"
REGENERATE = "python scripts/regenerate.py"
pytestmark = pytest.mark.static


def stub_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*.pyi"))


def test_committed_stubs_match_the_generator(tmp_path: Path) -> None:
    fresh = tmp_path / "sagellm_protocol-stubs"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_stubs.py"), str(fresh)],
        check=True,
        capture_output=True,
    )
    assert stub_files(fresh) == stub_files(STUBS), f"stub files differ; run {REGENERATE}"
    differing = [
        name for name in stub_files(fresh) if not filecmp.cmp(fresh / name, STUBS / name, False)
    ]
    assert differing == [], f"stale stubs {differing}; run {REGENERATE}"


def test_the_runtime_root_ships_the_root_stub() -> None:
    """The root loads its names lazily; ``__init__.pyi`` beside it gives type checkers them,
    written from the same ``_HOMES`` map as the stub distribution's."""
    shipped = ROOT / "src" / "sagellm_protocol" / "__init__.pyi"
    assert shipped.read_bytes() == (STUBS / "__init__.pyi").read_bytes(), f"run {REGENERATE}"


def test_the_stub_distribution_is_released_with_the_runtime() -> None:
    import sagellm_protocol

    with (ROOT / "stubs" / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    assert project["name"] == "isagellm-protocol-stubs"
    assert project["version"] == sagellm_protocol.__version__, f"run {REGENERATE}"


class StubEnvironment:
    """A Python whose import path has the stubs and the test tools but not the package."""

    def __init__(self, root: Path, *, with_runtime: bool = False) -> None:
        venv.create(root, with_pip=False)
        self.python = root / "bin" / "python"
        purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        site = Path(self.run("-c", purelib).stdout.strip())
        shutil.copytree(STUBS, site / STUBS.name)
        lines = [sysconfig.get_paths()["purelib"]] + ([str(ROOT / "src")] if with_runtime else [])
        (site / "test_tools.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.site = site

    def run(self, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.python), *args], cwd=cwd, capture_output=True, text=True, check=False
        )


@pytest.fixture(scope="module")
def stubs_alone(tmp_path_factory: pytest.TempPathFactory) -> StubEnvironment:
    return StubEnvironment(tmp_path_factory.mktemp("stubs-alone"))


def write_mypy_config(directory: Path, python_version: str | None = None) -> Path:
    """The project's mypy settings (``mypy.ini``) without ``mypy_path`` and ``files``.

    ``python_version`` overrides the project's: stubtest compares the stubs with the running
    interpreter, so it reads them as that version does (``__replace__`` exists from 3.13 on).
    """
    settings = configparser.ConfigParser()
    settings.read(ROOT / "mypy.ini", encoding="utf-8")
    for option in ("mypy_path", "files"):
        settings.remove_option("mypy", option)
    if python_version is not None:
        settings.set("mypy", "python_version", python_version)
    config = directory / "mypy.ini"
    with config.open("w", encoding="utf-8") as file:
        settings.write(file)
    return config


def mypy_on_stubs(env: StubEnvironment, tmp_path: Path, *files: Path) -> tuple[str, int]:
    config = write_mypy_config(tmp_path)
    cache = tmp_path / "mypy-cache"
    result = env.run(
        "-m", "mypy", "--config-file", str(config), "--cache-dir", str(cache), *map(str, files)
    )
    return result.stdout + result.stderr, result.returncode


def test_runtime_package_is_absent(stubs_alone: StubEnvironment) -> None:
    result = stubs_alone.run("-c", "import sagellm_protocol", cwd=stubs_alone.site)
    assert "ModuleNotFoundError: No module named 'sagellm_protocol'" in result.stderr


def test_typing_tests_pass_against_the_stubs_alone(
    stubs_alone: StubEnvironment, tmp_path: Path
) -> None:
    output, status = mypy_on_stubs(stubs_alone, tmp_path, TYPING_TESTS)
    assert status == 0, output
    assert output.startswith("Success: no issues found in"), output


def test_a_wrong_stub_fails_the_typing_tests(tmp_path: Path) -> None:
    """Proof that mypy reads the stubs there, not the source: break one, see the failure."""
    env = StubEnvironment(tmp_path / "env")
    home = env.site / STUBS.name / "_error.pyi"  # where core's Error is defined
    text = home.read_text(encoding="utf-8")
    home.write_text(text.replace("    message: str\n", "    message: int\n", 1), encoding="utf-8")
    check = tmp_path / "check_error.py"
    check.write_text(
        'from sagellm_protocol.core import Error\n\nerror: Error = {"code": "unavailable", '
        '"message": "ok"}\n',
        encoding="utf-8",
    )
    output, status = mypy_on_stubs(env, tmp_path, check)
    assert status == 1, output
    assert (
        'check_error.py:3: error: Incompatible types (expression has type "str", TypedDict item '
        '"message" has type "int")  [typeddict-item]'
    ) in output


def allowlists(version: tuple[int, ...]) -> list[str]:
    """stubtest's ``--allowlist`` arguments for a Python ``version``: the shared list, and the
    one for the versions before 3.15, whose typing module has no PEP 728 (unused entries fail)."""
    names = ["stubtest_allowlist.txt"]
    if version < (3, 15):
        names.append("stubtest_allowlist_before_py315.txt")
    return [argument for name in names for argument in ("--allowlist", str(ROOT / "stubs" / name))]


def test_stubtest_agrees_with_the_runtime(tmp_path: Path) -> None:
    env = StubEnvironment(tmp_path / "env", with_runtime=True)
    config = write_mypy_config(tmp_path, python_version="{}.{}".format(*sys.version_info))
    result = env.run(
        "-m",
        "mypy.stubtest",
        "sagellm_protocol",
        "--mypy-config-file",
        str(config),
        *allowlists(sys.version_info),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def basedpyright(env: StubEnvironment, project: Path) -> tuple[str, int]:
    """basedpyright over ``project`` (a directory with a ``pyrightconfig.json``) on the stubs."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "basedpyright",
            "--project",
            str(project / "pyrightconfig.json"),
            "--pythonpath",
            str(env.python),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return result.stdout + result.stderr, result.returncode


def test_typing_tests_pass_under_basedpyright(stubs_alone: StubEnvironment) -> None:
    output, status = basedpyright(stubs_alone, TYPING_TESTS)
    assert status == 0, output
    assert "0 errors, 0 warnings, 0 notes" in output, output


def test_disappearing_expected_error_fails_under_basedpyright(
    stubs_alone: StubEnvironment, tmp_path: Path
) -> None:
    """The mechanism itself: a pyright ignore on a line that type-checks is reported."""
    shutil.copy(TYPING_TESTS / "pyrightconfig.json", tmp_path / "pyrightconfig.json")
    check = tmp_path / "check_no_error.py"
    check.write_text(
        "from sagellm_protocol.core import Error\n\n"
        'error: Error = {"code": "unavailable", "message": "ok"}'
        "  # pyright: ignore[reportAssignmentType]\n",
        encoding="utf-8",
    )
    output, status = basedpyright(stubs_alone, tmp_path)
    assert status == 1, output
    assert (
        'check_no_error.py:3:76 - error: Unnecessary "# pyright: ignore" rule: '
        '"reportAssignmentType" (reportUnnecessaryTypeIgnoreComment)'
    ) in output


def test_pyright_configuration_ignores_mypy_comments() -> None:
    """With ``# type: ignore`` honoured, pyright's own expected errors could never go unused."""
    config = json.loads(
        "\n".join(
            line
            for line in (TYPING_TESTS / "pyrightconfig.json").read_text().splitlines()
            if not line.strip().startswith("//")
        )
    )
    assert config["enableTypeIgnoreComments"] is False
    assert config["reportUnnecessaryTypeIgnoreComment"] == "error"


@pytest.fixture(scope="module")
def generator() -> Iterator[types.ModuleType]:
    """``scripts/generate_stubs.py`` as a module (its dataclass needs it in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(
        "generate_stubs", ROOT / "scripts" / "generate_stubs.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def class_fields(generator: types.ModuleType, source: str) -> list[str]:
    cls = ast.parse(textwrap.dedent(source)).body[0]
    return [ast.unparse(field) for field in generator.init_attributes(cls)]


def test_generator_declares_the_attributes_init_sets(generator: types.ModuleType) -> None:
    fields = class_fields(
        generator,
        """
        class Holder:
            __slots__ = ("__weakref__", "_cache", "make", "size")

            def __init__(self, make: Callable[[], object], size: int, label: str) -> None:
                self.make = make
                self.size: Final = size
                self.label: str = label.strip()
                self.unslotted = label
                self._cache = None
        """,
    )
    assert fields == ["make: Callable[[], object]", "size: Final[int]", "label: str"]


def test_generator_stops_on_a_slot_without_a_type(generator: types.ModuleType) -> None:
    source = """
        class Holder:
            __slots__ = ("items",)

            def __init__(self, items: list[int]) -> None:
                self.items = sorted(items)
        """
    with pytest.raises(generator.StubError) as raised:
        class_fields(generator, source)
    assert str(raised.value) == "class Holder: annotate slot 'items' where __init__ sets it"


def test_generator_stops_on_a_final_attribute_without_a_type(generator: types.ModuleType) -> None:
    source = """
        class Holder:
            def __init__(self, items: list[int]) -> None:
                self.count: Final = len(items)
        """
    with pytest.raises(generator.StubError) as raised:
        class_fields(generator, source)
    assert str(raised.value) == "class Holder: give self.count an explicit Final[type]"


def test_generator_types_module_dunders(generator: types.ModuleType) -> None:
    statement = ast.parse('__version__ = "1.2.3"').body[0]
    assert ast.unparse(generator.assign_stub(statement)) == "__version__: str"
