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
