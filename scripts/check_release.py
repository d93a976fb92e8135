"""Check the release archives as a user would meet them, for every Python given.

Usage::

    python scripts/check_release.py build DIST         # sdist and wheel into DIST, then check them
    python scripts/check_release.py install WHEEL [PYTHON ...]
    python scripts/check_release.py replace WHEEL [PYTHON]

``build`` makes the sdist and the wheel with the running interpreter (``python -m build
--no-isolation``: the ``release`` extra has what it needs) and checks their names, tags and
contents: one ``cp311-abi3`` wheel per platform, holding the compiled C list checks and their
``.pyi`` but not the C source, which the sdist holds with ``setup.py``; and abi3audit finds no
symbol in the C module outside the 3.11 limited API.

``install`` puts the wheel into a fresh virtual environment of each interpreter (the running one
when none is named) with no compiler reachable (``PATH`` is the environment's own ``bin`` and
``--only-binary :all:``), then checks that the package imports, loads the C module and validates
through it. CI runs ``install`` on the host's 3.11–3.13 and inside Debian sid for 3.14 and 3.15.

``replace`` installs the original pydantic package (``isagellm-protocol==0.5.4.16``, from the
index) and then the wheel over it, as ``pip install -U`` does for a user upgrading: pip must
remove the original whole, so that none of its modules (``sagellm_protocol.types`` …) stays
importable beside ours, and the installed version must be the wheel's.

Exit status 0 when every check holds, 1 with one line per failed check on stderr.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTION = "isagellm_protocol"
MODULE = "sagellm_protocol/validation/_scalar_lists"

PROBE = """
import sys
from sagellm_protocol import ValidationError, is_valid, validate
from sagellm_protocol.validation._compile import native_lists
native = native_lists()
assert native is not None, "the C list checks did not load"
assert native.__file__.endswith(".abi3.so"), native.__file__
assert validate(list[float], [1, 2.5]) == [1, 2.5]
assert not is_valid(list[int], [1, True])
print(sys.version.split()[0], native.__file__.rsplit("/", 1)[1])
"""


def version() -> str:
    text = (ROOT / "src" / "sagellm_protocol" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    assert found is not None, "src/sagellm_protocol/__init__.py assigns no __version__"
    return found.group(1)


def check_archives(dist: Path) -> list[str]:
    """Problems with the sdist and the one wheel in ``dist`` (none: an empty list)."""
    problems = []
    release = f"{DISTRIBUTION}-{version()}"
    wheels = sorted(dist.glob(f"{release}-*.whl"))
    abi3 = [
        wheel for wheel in wheels if re.fullmatch(rf"{release}-cp311-abi3-\w+\.whl", wheel.name)
    ]
    if len(abi3) != 1:
        return [f"expected one {release}-cp311-abi3-<platform>.whl in {dist}, found {wheels}"]
    (wheel,) = abi3
    platform = wheel.name.removesuffix(".whl").rsplit("-", 1)[1]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        tags = archive.read(f"{release}.dist-info/WHEEL").decode()
    if f"Tag: cp311-abi3-{platform}\n" not in tags or "Root-Is-Purelib: false\n" not in tags:
        problems.append(f"{wheel.name}: WHEEL says {tags!r}")
    built = sorted(name for name in names if name.startswith(MODULE))
    if built != [f"{MODULE}.abi3.so", f"{MODULE}.pyi"]:
        problems.append(f"{wheel.name}: the C module ships as {built}")
    if "sagellm_protocol/py.typed" not in names:
        problems.append(f"{wheel.name}: no py.typed")
    audit = [sys.executable, "-m", "abi3audit", "--strict", "--assume-minimum-abi3", "3.11"]
    audited = subprocess.run([*audit, str(wheel)], capture_output=True, text=True, check=False)
    if audited.returncode != 0:
        problems.append(f"abi3audit: {audited.stdout}{audited.stderr}")
    with tarfile.open(dist / f"{release}.tar.gz") as archive:
        sdist = set(archive.getnames())
    wanted = {f"{release}/src/{MODULE}.c", f"{release}/src/{MODULE}.pyi", f"{release}/setup.py"}
    if missing := sorted(wanted - sdist):
        problems.append(f"the sdist lacks {missing}")
    if built_files := sorted(name for name in sdist if name.endswith((".so", ".pyd"))):
        problems.append(f"the sdist holds built files {built_files}")
    return problems


def build(dist: Path) -> list[str]:
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return [f"python -m build failed:\n{done.stdout}{done.stderr}"]
    return check_archives(dist)


def install(wheel: Path, python: str) -> list[str]:
    """Problems installing ``wheel`` into a fresh environment of ``python`` and using it."""
    with tempfile.TemporaryDirectory() as scratch:
        env_dir = Path(scratch) / "env"
        made = subprocess.run(
            [python, "-m", "venv", str(env_dir)], capture_output=True, text=True, check=False
        )
        if made.returncode != 0:
            return [f"{python}: cannot make a virtual environment: {made.stderr.strip()}"]
        bin_dir = env_dir / "bin"
        # Nothing but the environment's own programs: no cc, gcc or clang to fall back on.
        environment = {**os.environ, "PATH": str(bin_dir), "CC": "false"}
        steps = [
            [
                str(bin_dir / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--only-binary",
                ":all:",
                str(wheel),
            ],
            [str(bin_dir / "python"), "-c", PROBE],
        ]
        for step in steps:
            done = subprocess.run(
                step, capture_output=True, text=True, env=environment, cwd=scratch
            )
            if done.returncode != 0:
                return [f"{python}: {step[1:3]} failed:\n{done.stdout}{done.stderr}"]
        print(f"{python}: installed without a compiler and loaded {done.stdout.strip()}")
    return []


ORIGINAL = "isagellm-protocol==0.5.4.16"

LEFTOVERS = """
import importlib.metadata, importlib.util, json, sys
names = json.loads(sys.argv[1])
left = [name for name in names if importlib.util.find_spec(name) is not None]
print(json.dumps([importlib.metadata.version("isagellm-protocol"), left]))
"""


def original_modules(site_packages: Path) -> set[str]:
    """The dotted names of the modules the original installed (from its files there)."""
    return {
        ".".join(path.relative_to(site_packages).with_suffix("").parts).removesuffix(".__init__")
        for path in (site_packages / "sagellm_protocol").rglob("*.py*")
        if "__pycache__" not in path.parts and path.suffix in (".py", ".pyc")
    }


def replace(wheel: Path, python: str) -> list[str]:
    """Problems installing ``wheel`` over the original in a fresh environment of ``python``."""
    with tempfile.TemporaryDirectory() as scratch:
        env_dir = Path(scratch) / "env"
        subprocess.run([python, "-m", "venv", str(env_dir)], check=True)
        pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, ORIGINAL], check=True)
        (site_packages,) = env_dir.glob("lib/python*/site-packages")
        theirs = original_modules(site_packages)
        subprocess.run([*pip, str(wheel)], check=True)
        ours = original_modules(site_packages)
        probe = [
            str(env_dir / "bin" / "python"),
            "-c",
            LEFTOVERS,
            json.dumps(sorted(theirs - ours)),
        ]
        installed, left = json.loads(subprocess.run(probe, capture_output=True, check=True).stdout)
    problems = []
    if installed != version():
        problems.append(f"{python}: after installing {wheel.name}, the version is {installed}")
    if left:
        problems.append(f"{python}: modules of {ORIGINAL} still import: {left}")
    if not problems:
        print(
            f"{python}: {wheel.name} replaced {ORIGINAL}: none of its {len(theirs - ours)}"
            " modules of its own left"
        )
    return problems


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "build":
        problems = build(Path(argv[1]).resolve())
    elif len(argv) >= 2 and argv[0] == "install":
        wheel = Path(argv[1]).resolve()
        problems = [p for python in argv[2:] or [sys.executable] for p in install(wheel, python)]
    elif len(argv) in (2, 3) and argv[0] == "replace":
        problems = replace(Path(argv[1]).resolve(), argv[2] if len(argv) == 3 else sys.executable)
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    for problem in problems:
        print(f"check_release: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
