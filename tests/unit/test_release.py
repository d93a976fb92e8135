"""The release: ``python -m build`` makes a wheel and an sdist, the licence ships in both, the
sdist carries every file its tests read, and the wheel installed alone into a fresh virtual
environment runs the README's main job.

Offline: the build runs without isolation (``build`` and ``setuptools`` come with the dev
extra), and the fresh environment installs the wheel's three dependencies through pip's
configured index. Marked ``static``: the archives do not depend on the running Python, so CI
builds them once, in the 3.11 run.
"""

import importlib.machinery
import importlib.metadata
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

import sagellm_protocol

ROOT = Path(__file__).parent.parent.parent
VERSION = sagellm_protocol.__version__
DISTRIBUTION = "isagellm-protocol"
ARCHIVE_NAME = f"isagellm_protocol-{VERSION}"
FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
WHEEL_TAG = "cp{0}{1}-cp{0}{1}t".format(*sys.version_info) if FREE_THREADED else "cp311-abi3"
"""One wheel for 3.11 and later (the C module uses the limited API), but for free-threaded
interpreters, which cannot load abi3 modules."""
SHIPPED_TREES = ("tests", "examples", "scripts")
"""Directories whose every file the sdist must hold: the tests read them (data, typing checks,
examples, the generators the drift tests run); what other drift tests read (contracts/, docs/,
stubs/) is grafted by MANIFEST.in."""
SHIPPED_FILES = ("LICENSE", "README.md", "CHANGELOG.md", "mypy.ini", "pyproject.toml", "setup.py")

pytestmark = pytest.mark.static


def _run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist, and the wheel built from it (``build``'s default order)."""
    out = tmp_path_factory.mktemp("dist")
    done = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT)
    assert done.returncode == 0, done.stderr
    # The C list checks make it a wheel for a platform.
    (wheel,) = out.glob(f"{ARCHIVE_NAME}-{WHEEL_TAG}-*.whl")
    return out / f"{ARCHIVE_NAME}.tar.gz", wheel


def test_version_is_the_distributions() -> None:
    assert sagellm_protocol.__version__ == importlib.metadata.version(DISTRIBUTION)
    assert "__version__" not in sagellm_protocol.__all__


def test_the_licence_ships_in_both_archives(archives: tuple[Path, Path]) -> None:
    sdist, wheel = archives
    licence = (ROOT / "LICENSE").read_bytes()
    assert licence.startswith(b"                              Apache License\n")
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"{ARCHIVE_NAME}/LICENSE")
        assert member is not None
        assert member.read() == licence
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"{ARCHIVE_NAME}.dist-info/licenses/LICENSE") == licence
        metadata = archive.read(f"{ARCHIVE_NAME}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0\n" in metadata
    assert "License-File: LICENSE\n" in metadata


def test_the_wheel_is_one_for_every_python_of_its_platform(archives: tuple[Path, Path]) -> None:
    _, wheel = archives
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"{ARCHIVE_NAME}.dist-info/METADATA").decode()
        wheel_file = archive.read(f"{ARCHIVE_NAME}.dist-info/WHEEL").decode()
    assert f"Name: {DISTRIBUTION}\n" in metadata
    assert f"Version: {VERSION}\n" in metadata
    assert "Requires-Python: >=3.11\n" in metadata
    assert "Root-Is-Purelib: false\n" in wheel_file
    platform = wheel.name.removesuffix(".whl").rsplit("-", 1)[1]
    assert f"Tag: {WHEEL_TAG}-{platform}\n" in wheel_file


def test_the_sdist_holds_what_its_tests_read(archives: tuple[Path, Path]) -> None:
    sdist, _ = archives
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = set(SHIPPED_FILES)
    for tree in SHIPPED_TREES:
        wanted |= {
            path.relative_to(ROOT).as_posix()
            for path in (ROOT / tree).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        }
    assert sorted(wanted - names) == []
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


def test_the_c_list_checks_ship_as_source_and_as_a_built_module(
    archives: tuple[Path, Path],
) -> None:
    sdist, wheel = archives
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    source = f"{ARCHIVE_NAME}/src/sagellm_protocol/validation/_scalar_lists"
    assert {f"{source}.c", f"{source}.pyi"} <= names
    assert not [name for name in names if name.endswith(".so")]
    with zipfile.ZipFile(wheel) as archive:
        built = [name for name in archive.namelist() if "_scalar_lists" in name]
    # The abi3 suffix setuptools gives: ".abi3.so", or 3.15's ".abi3-<multiarch>.so" on Debian.
    abi3 = next(suffix for suffix in importlib.machinery.EXTENSION_SUFFIXES if ".abi3" in suffix)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") if FREE_THREADED else abi3
    assert sorted(built) == [
        f"sagellm_protocol/validation/_scalar_lists{suffix}",
        "sagellm_protocol/validation/_scalar_lists.pyi",
    ]


def test_the_wheel_carries_the_root_stub(archives: tuple[Path, Path]) -> None:
    """Without it, type checkers would see none of the names the root loads lazily."""
    _, wheel = archives
    with zipfile.ZipFile(wheel) as archive:
        stub = archive.read("sagellm_protocol/__init__.pyi")
        assert archive.read("sagellm_protocol/py.typed") == b""
    assert stub == (ROOT / "src" / "sagellm_protocol" / "__init__.pyi").read_bytes()


def test_the_wheel_alone_runs_the_main_job(archives: tuple[Path, Path], tmp_path: Path) -> None:
    """A fresh environment with the wheel and its runtime dependencies only, run on the sdist's
    own examples: the same report, and exit 1, as the development install gives."""
    sdist, wheel = archives
    venv.create(tmp_path / "env", with_pip=True)
    bin_dir = tmp_path / "env" / ("Scripts" if sys.platform == "win32" else "bin")
    installed = _run(bin_dir / "python", "-m", "pip", "install", "-q", wheel)
    assert installed.returncode == 0, installed.stderr
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    unpacked = tmp_path / ARCHIVE_NAME
    fresh = _run(bin_dir / "sagellm-protocol", "validate", "--by-name", "examples/", cwd=unpacked)
    here = _run(sys.executable, "-m", "sagellm_protocol", "validate", "--by-name", "examples/")
    assert (fresh.returncode, fresh.stderr) == (1, "")
    assert fresh.stdout.endswith("\n12 valid, 3 invalid\n")
    assert fresh.stdout == here.stdout
    where = _run(
        bin_dir / "python", "-c", "import sagellm_protocol; print(sagellm_protocol.__file__)"
    )
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "env")
    native = _run(
        bin_dir / "python",
        "-c",
        "from sagellm_protocol.validation._compile import native_lists; print(native_lists())",
    )
    assert native.stdout.startswith("<module 'sagellm_protocol.validation._scalar_lists' from ")
