"""The downstream check of `sagellm-protocol migrate` on a real repo (not part of the suite).

    python benchmarks/migrate_downstream.py REPO ORIGINAL_PYTHON OURS_PYTHON

REPO: a checkout of a repo that uses the original package (e.g. intellistream/sagellm-benchmark,
with its tests under tests/ and its code under src/); ORIGINAL_PYTHON: an interpreter with
isagellm-protocol 0.5.4.16 and the repo's test dependencies; OURS_PYTHON: one with this package
(and its `migrate` extra) instead. The repo is copied, never changed. Prints the suite's summary
with the original, with ours unmigrated, with ours after `migrate --fix`, the time of `--check`
and of `--fix`, whether a second `--fix` changes anything, and the ruff verdicts before and after.
Without arguments, or when a path is missing, it says so and exits 0.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _suite(python: str, tree: Path) -> str:
    done = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]


def _timed(command: list[str], tree: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done


def _ruff(python: str, tree: Path) -> str:
    verdicts = []
    for args in (["check", "--select", "I", "-q", "."], ["format", "--check", "-q", "."]):
        done = subprocess.run(
            [python, "-m", "ruff", *args, "--no-cache"],
            cwd=tree,
            capture_output=True,
            text=True,
            check=False,
        )
        files = {line.split(":")[0] for line in done.stdout.splitlines() if ".py" in line}
        verdicts.append(f"{' '.join(args[:2])}: exit {done.returncode}, {len(files)} files")
    return "; ".join(verdicts)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not all(Path(a).exists() for a in argv):
        print("skipped: give REPO ORIGINAL_PYTHON OURS_PYTHON (see the docstring)")
        return 0
    repo, original, ours = Path(argv[0]), argv[1], argv[2]
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch, repo.name)
        shutil.copytree(repo, tree, ignore=shutil.ignore_patterns(".git", ".ruff_cache"))
        print("original package:", _suite(original, tree))
        print("ours, unmigrated:", _suite(ours, tree))
        print("ruff before:", _ruff(ours, tree))
        migrate = [ours, "-m", "sagellm_protocol", "migrate"]
        took, check = _timed([*migrate, "--check", "."], tree)
        print(f"--check: {took:.1f} s, {check.stderr.strip().splitlines()[-1]}")
        took, fix = _timed([*migrate, "--fix", "."], tree)
        print(f"--fix: {took:.1f} s, {fix.stderr.strip().splitlines()[-1]}")
        print("ours, after --fix:", _suite(ours, tree))
        print("ruff after:", _ruff(ours, tree))
        took, again = _timed([*migrate, "--fix", "."], tree)
        print(f"second --fix: {took:.1f} s, {again.stderr.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
