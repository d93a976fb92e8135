"""`sagellm-protocol migrate` on the fixture repos under tests/migrate_fixtures/: the check
report, the fix, mypy over the result, the fixture's own tests after it, a no-op second fix."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sagellm_protocol._cli import main

pytest.importorskip("libcst")

FIXTURES = Path(__file__).parent / "migrate_fixtures"

# What --check says about the serving fixture (written for the original package; its tests
# pass with isagellm-protocol 0.5.4.16): every rewrite and both hand edits, by line.
SERVING_CHECK = """\
serving/backend.py:3:1: PM001 from sagellm_protocol.backend_types -> from sagellm_protocol
serving/backend.py:7:12: PM002 CapabilityDescriptor(...) -> make(CapabilityDescriptor, {...})
serving/backend.py:12:9: PM009 x.require_dtype(...) -> require_dtype(x, ...)
serving/backend.py:15:12: PM009 x.supports_dtype(...) -> supports_dtype(x, ...)
serving/client.py:5:1: PM001 from sagellm_protocol.types -> from sagellm_protocol
serving/client.py:17:16: PM003 x.prompt -> x["prompt"]
serving/client.py:18:23: PM003 x.request_id -> x["request_id"]
serving/client.py:18:70: PM003 x.max_tokens -> x["max_tokens"]
serving/client.py:22:12: PM002 Request(...) -> make(Request, {...})
serving/report.py:5:1: PM001 from sagellm_protocol.types -> from sagellm_protocol
serving/report.py:18:12: PM002 Metrics(...) -> make(Metrics, {...})
serving/report.py:22:12: PM002 Response(...) -> make(Response, {...})
serving/report.py:33:12: PM002 StreamEventStart(...) -> make(StreamEventStart, {...})
serving/report.py:37:15: PM003 x.metrics -> x["metrics"]
serving/report.py:38:15: PM003 x.request_id -> x["request_id"]
serving/report.py:38:50: PM003 x.ttft_ms -> x["ttft_ms"]
serving/report.py:38:72: PM003 x.prefix_hit_rate -> x["prefix_hit_rate"]
serving/report.py:42:16: PM003 x.metrics -> x["metrics"]
serving/report.py:42:16: PM003 x.ttft_ms -> x["ttft_ms"]
serving/report.py:46:5: PM003 x.error_rate -> x["error_rate"]
serving/report.py:46:5: PM003 x.metrics -> x["metrics"]
serving/report.py:50:12: PM005 x.model_dump_json() -> json.dumps(x)
serving/report.py:54:14: PM004 x.model_dump() -> dict(x)
serving/report.py:59:12: PM006 Response.model_validate(v) -> make(Response, validate(Response, v))
serving/report.py:63:12: PM007 x.model_copy(update=u) -> make(Response, {**x, **u})
serving/report.py:67:12: PM008 isinstance(x, Response) -> is_valid(Response, x)
serving/report.py:72:8: PM107 hasattr(obj, "metrics"): mypy cannot tell what obj holds; if a \
protocol value, annotate it: obj: EndEvent | Response | StreamEventEnd
serving/report.py:73:22: PM107 getattr(obj, "ttft_ms"): mypy cannot tell what obj holds; if a \
protocol value, annotate it: obj: Metrics
serving/untyped.py:3:1: PM001 from sagellm_protocol.types -> from sagellm_protocol
serving/untyped.py:7:15: PM002 Metrics(...) -> make(Metrics, {...})
serving/untyped.py:8:5: PM003 x.evict_count -> x["evict_count"]
serving/untyped.py:9:12: PM003 x.ttft_ms -> x["ttft_ms"]
serving/untyped.py:9:30: PM003 x.tbt_ms -> x["tbt_ms"]
tests/test_serving.py:4:1: PM001 from sagellm_protocol.types -> from sagellm_protocol
tests/test_serving.py:25:12: PM003 x.prefix_hit_rate -> x["prefix_hit_rate"]
tests/test_serving.py:26:12: PM003 x.evict_count -> x["evict_count"]
tests/test_serving.py:27:12: PM003 x.ttft_ms -> x["ttft_ms"]
tests/test_serving.py:42:12: PM003 x.error_rate -> x["error_rate"]
tests/test_serving.py:42:12: PM003 x.metrics -> x["metrics"]
tests/test_serving.py:48:12: PM003 x.output_text -> x["output_text"]
tests/test_serving.py:49:12: PM003 x.metrics -> x["metrics"]
tests/test_serving.py:49:12: PM003 x.ttft_ms -> x["ttft_ms"]
tests/test_serving.py:57:12: PM003 x.finish_reason -> x["finish_reason"]
tests/test_serving.py:58:12: PM003 x.request_id -> x["request_id"]
tests/test_serving.py:63:12: PM003 x.event -> x["event"]
tests/test_serving.py:64:12: PM003 x.engine_id -> x["engine_id"]
tests/test_serving.py:69:12: PM003 x.output_text -> x["output_text"]
tests/test_serving.py:70:12: PM003 x.metrics -> x["metrics"]
tests/test_serving.py:70:12: PM003 x.throughput_tps -> x["throughput_tps"]
tests/test_serving.py:78:15: PM002 Metrics(...) -> make(Metrics, {...})
tests/test_serving.py:79:16: PM002 Response(...) -> make(Response, {...})
tests/test_serving.py:87:12: PM003 x.metrics -> x["metrics"]
tests/test_serving.py:87:12: PM003 x.ttft_ms -> x["ttft_ms"]
tests/test_serving.py:91:5: PM001 from sagellm_protocol.backend_types -> from sagellm_protocol
tests/test_serving.py:96:12: PM003 x.device_type -> x["device_type"]
"""


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The serving fixture after --check, then --fix: the tree and both outputs."""
    tree = tmp_path_factory.mktemp("serving")
    shutil.copytree(FIXTURES / "serving" / "before", tree, dirs_exist_ok=True)
    run = [sys.executable, "-m", "sagellm_protocol", "migrate"]
    check = subprocess.run([*run, "--check", "."], cwd=tree, capture_output=True, text=True)
    assert check.returncode == 1, check.stderr
    fix = subprocess.run([*run, "--fix", "."], cwd=tree, capture_output=True, text=True)
    assert fix.returncode == 0, fix.stderr
    return tree, check.stdout, fix.stderr


def test_check_lists_every_rewrite_and_hand_edit(migrated: tuple[Path, str, str]) -> None:
    _, check, fix = migrated
    assert check == SERVING_CHECK
    assert fix.endswith("rewrote 5 of 7 files; 2 patterns to edit by hand\n")


def test_fixed_tree_passes_its_own_tests(migrated: tuple[Path, str, str]) -> None:
    tree, _, _ = migrated
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:typeguard"],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    assert tests.stdout.splitlines()[-1].startswith("10 passed"), tests.stdout


def test_fixed_tree_passes_mypy_strict(migrated: tuple[Path, str, str]) -> None:
    tree, _, _ = migrated
    from mypy import api

    out, err, status = api.run(
        [
            "--config-file",
            str(tree / "mypy.ini"),
            "--no-incremental",
            str(tree / "serving"),
            str(tree / "tests"),
        ]
    )
    assert (status, out) == (0, "Success: no issues found in 7 source files\n"), err


def test_second_fix_changes_nothing(migrated: tuple[Path, str, str]) -> None:
    tree, _, _ = migrated
    before = {p: p.read_text() for p in tree.rglob("*.py")}
    assert main(["migrate", "--fix", str(tree)]) == 0
    assert {p: p.read_text() for p in tree.rglob("*.py")} == before


def test_unparsable_file_is_reported_and_the_rest_migrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken.py").write_text("def f(:\n")
    # An Optional protocol value: mypy says union-attr for its Metrics option
    (tmp_path / "ok.py").write_text(
        "from sagellm_protocol.types import Metrics\n\n\n"
        "def ttft(m: Metrics | None) -> object:\n    return m.ttft_ms\n"
    )
    (tmp_path / "other.py").write_text(
        "from sagellm_protocol import Metrics\nfrom sagellm_protocol.types import NoSuchThing\n"
        "import sagellm_protocol.types\n\n\ndef keys(m: Metrics) -> object:\n"
        "    return m.model_fields\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["migrate", "--diff", "."]) == 0
    out, err = capsys.readouterr()
    assert out == (
        "--- a/ok.py\n+++ b/ok.py\n@@ -1,5 +1,5 @@\n"
        "-from sagellm_protocol.types import Metrics\n+from sagellm_protocol import Metrics\n"
        " \n \n def ttft(m: Metrics | None) -> object:\n"
        '-    return m.ttft_ms\n+    return m["ttft_ms"]\n'
        "--- a/other.py\n+++ b/other.py\n@@ -1,5 +1,5 @@\n from sagellm_protocol import Metrics\n"
        "-from sagellm_protocol.types import NoSuchThing\n"
        "+from sagellm_protocol import NoSuchThing\n"
        " import sagellm_protocol.types\n \n \n"
    )
    assert err.splitlines() == [
        "broken.py:1:1: PM900 not migrated: syntax error: parser error: error at 2:0: expected "
        "one of ), *, **, NAME",
        "ok.py:1:1: PM001 from sagellm_protocol.types -> from sagellm_protocol",
        'ok.py:5:12: PM003 x.ttft_ms -> x["ttft_ms"]',
        "other.py:2:1: PM001 from sagellm_protocol.types -> from sagellm_protocol",
        "other.py:2:36: PM105 sagellm_protocol.types exported NoSuchThing; sagellm_protocol has "
        "no NoSuchThing",
        "other.py:3:8: PM105 import sagellm_protocol.types: no such module here; import "
        "sagellm_protocol",
        "other.py:7:12: PM104 .model_fields on a Metrics: no rewrite; the keys are "
        "T.__annotations__, the defaults defaults(T)",
        "would rewrite 2 of 2 files; 4 patterns to edit by hand",
    ]


def test_missing_path_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--check", "no/such/dir"]) == 2
    assert capsys.readouterr().err == (
        "sagellm-protocol migrate: error: no such file or directory: no/such/dir\n"
    )


# Each case under tests/migrate_fixtures/ (but serving and blind): before/ as written for the
# original package, check.txt what --check prints, after/ the tree --fix leaves.
CASES = ["crossfile", "dependencies", "dispatch", "guarded", "halfway", "ruffed"]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".ruff_cache" not in p.parts and "__pycache__" not in p.parts
    }


def _migrate(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sagellm_protocol", "migrate", *args, "."]
    return subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("case", CASES)
def test_case_check_fix_and_second_fix(case: str, tmp_path: Path) -> None:
    fixture = FIXTURES / case
    shutil.copytree(fixture / "before", tmp_path, dirs_exist_ok=True)
    check = _migrate(tmp_path, "--check")
    assert (check.returncode, check.stdout) == (1, (fixture / "check.txt").read_text()), check
    fix = _migrate(tmp_path, "--fix")
    assert fix.returncode == 0, fix.stderr
    assert _tree(tmp_path) == _tree(fixture / "after")
    again = _migrate(tmp_path, "--fix")
    assert again.returncode == 0, again.stderr
    assert _tree(tmp_path) == _tree(fixture / "after")
    # each remaining site once, as many as the first run left
    remaining = again.stderr.splitlines()[:-1]
    assert len(remaining) == len(set(remaining))
    assert (
        again.stderr.splitlines()[-1].split("; ")[1] == fix.stderr.splitlines()[-1].split("; ")[1]
    )


def test_guarded_and_lazy_imports_stay_optional(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "guarded" / "after", tmp_path, dirs_exist_ok=True)
    # A meta path entry that refuses the package: the modules must import without it
    code = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'sagellm_protocol':\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "import app.lazy, app.optional\n"
        "print(app.optional.measured(1.5))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout) == (0, "{'ttft_ms': 1.5}\n"), done.stderr


def test_guarded_fix_still_works_with_the_package(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "guarded" / "after", tmp_path, dirs_exist_ok=True)
    code = (
        "import app.lazy, app.optional\n"
        "print(app.lazy.request('hi')['prompt'], app.optional.measured(2.0)['tbt_ms'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.stdout == "hi 0.0\n", done.stderr


def test_ruffed_output_passes_the_repos_ruff(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "ruffed" / "after", tmp_path, dirs_exist_ok=True)
    for args in (["check", "--select", "I", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--no-cache"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout


def test_blind_tree_exits_2_before_any_rewrite(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "blind" / "before", tmp_path, dirs_exist_ok=True)
    before = _tree(tmp_path)
    for mode in ("--check", "--diff", "--fix"):
        done = _migrate(tmp_path, mode)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr.startswith(
            "sagellm-protocol migrate: error: mypy cannot type the code:\n"
            'b/conftest.py: error: Duplicate module named "conftest" (also at "a/conftest.py")\n'
        )
        assert done.stderr.endswith(
            "nothing was rewritten: without types the rewrite would leave code half-migrated.\n"
            "Scope the run: pass fewer paths (the package and its tests), --exclude PATTERN for "
            "what mypy cannot read (a duplicate module name, generated code), or make the repo's "
            "own modules findable (run from the repo root, add the missing __init__.py).\n"
        )
    assert _tree(tmp_path) == before
    # scoped with --exclude, the rest is migrated
    scoped = _migrate(tmp_path, "--fix", "--exclude", "b")
    assert scoped.returncode == 0, scoped.stderr
    assert 'return m["ttft_ms"]' in (tmp_path / "a" / "conftest.py").read_text()
    assert (tmp_path / "b" / "conftest.py").read_bytes() == before["b/conftest.py"]


def test_own_module_not_found_is_blind(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(
        "from helpers import ttft\nfrom sagellm_protocol import Metrics\n\n\n"
        "def first(m: Metrics) -> float:\n    return ttft(m)\n"
    )
    (tmp_path / "helpers.py").write_text("def ttft(m):\n    return m.ttft_ms\n")
    done = _migrate(tmp_path, "--check", "--exclude", "helpers.py")
    assert done.returncode == 2
    assert (
        'main.py:1:1: error: Cannot find implementation or library stub for module named "helpers"'
        in done.stderr
    )
