"""Validate JSON / JSON Lines payloads against the protocol type their file name gives.

    python examples/validate_payloads.py            # the bundled examples
    python examples/validate_payloads.py FILE ...   # your own files

A file is named ``<Type>[.<label>].json`` or ``.jsonl`` (one payload a line), where ``<Type>``
is a wire type name such as ``Request``, ``StreamEvent`` or ``kv.KVCacheAllocateRequest``.
The bundled ``payloads/`` must all pass and the bundled ``invalid/`` must all fail; for your
own files every payload must pass. Exits 1 when any payload does not do what it should.
"""

import json
import sys
from collections.abc import Iterator
from pathlib import Path

from sagellm_protocol import ValidationError, type_by_name, validate

HERE = Path(__file__).parent


def type_name_of(path: Path) -> str:
    """``kv.KVHandle.sample.json`` -> ``kv.KVHandle``; ``Request.chat.json`` -> ``Request``."""
    parts = path.name.split(".")
    return ".".join(parts[:2]) if parts[0] == "kv" else parts[0]


def payloads(path: Path) -> Iterator[tuple[str, object]]:
    """``(where, payload)`` for a JSON file, or for each non-blank line of a JSON Lines file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"{path.name}:{number}", json.loads(line)
    else:
        yield path.name, json.loads(text)


def check(path: Path, *, expect_valid: bool) -> bool:
    """Validate each payload of ``path``, print a line each; True when all did as expected."""
    name = type_name_of(path)
    try:
        tp = type_by_name(name)
        documents = list(payloads(path))
    except (LookupError, ValueError, OSError) as error:
        print(f"FAIL  {path.name}: {error}")
        return False
    as_expected = True
    for where, payload in documents:
        try:
            validate(tp, payload)
        except ValidationError as error:
            verdict = "rejected" if not expect_valid else "FAIL"
            as_expected &= not expect_valid
            print(f"{verdict:8} {where} ({name}):")
            for issue in str(error).splitlines():
                print(f"           {issue}")
        else:
            verdict = "ok" if expect_valid else "FAIL"
            as_expected &= expect_valid
            print(f"{verdict:8} {where} ({name})")
    return as_expected


def main(argv: list[str]) -> int:
    if argv:
        results = [check(Path(arg), expect_valid=True) for arg in argv]
    else:
        print("Valid payloads (each must pass):")
        results = [check(path, expect_valid=True) for path in sorted((HERE / "payloads").iterdir())]
        print("\nBroken payloads (each must be rejected, with every issue named):")
        results += [
            check(path, expect_valid=False) for path in sorted((HERE / "invalid").iterdir())
        ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
