"""Equal bounds spelled as int or float give the same verdicts, messages and schemas whichever
form was built first: typing caches ``Annotated`` forms by equal metadata, so ``Ge(1.0)`` may
come back as the ``Ge(1)`` built before it (issue 18, "no answer depends on history")."""

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from typing import Annotated
from annotated_types import Ge, MultipleOf
from sagellm_protocol import json_schema
from sagellm_protocol.validation import collect_issues
out = {}
for spelling in sys.argv[1:]:
    tp = eval(spelling)  # built here, in this order: what typing's cache holds depends on it
    issues = [[str(issue) for issue in collect_issues(tp, v)] for v in (0, 0.5, 1, 3)]
    out[spelling] = {"issues": issues, "schema": json_schema(tp)}
print(json.dumps(out))
"""
"""Prints, for each form spelled in ``argv``, built in that order, its issues and its schema."""

SPELLINGS = [
    ("Annotated[float, Ge(1)]", "Annotated[float, Ge(1.0)]"),
    ("Annotated[int, Ge(1)]", "Annotated[int, Ge(1.0)]"),
    ("Annotated[int, MultipleOf(2)]", "Annotated[int, MultipleOf(2.0)]"),
]


def built_in_order(*spellings: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *spellings], capture_output=True, text=True, check=True
    )
    found: dict[str, object] = json.loads(result.stdout)
    return found


@pytest.mark.parametrize(("as_int", "as_float"), SPELLINGS)
def test_a_bound_reads_the_same_whichever_spelling_was_built_first(
    as_int: str, as_float: str
) -> None:
    int_first = built_in_order(as_int, as_float)
    float_first = built_in_order(as_float, as_int)
    answers = [int_first[as_int], int_first[as_float], float_first[as_int], float_first[as_float]]
    assert all(answer == answers[0] for answer in answers)


def test_an_integral_bound_is_shown_as_an_int() -> None:
    found = built_in_order("Annotated[float, Ge(1.0)]", "Annotated[int, MultipleOf(2.0)]")
    assert found == {
        "Annotated[float, Ge(1.0)]": {
            "issues": [
                ["expected a finite number >= 1, got 0"],
                ["expected a finite number >= 1, got 0.5"],
                [],
                [],
            ],
            "schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "minimum": 1,
                "type": "number",
            },
        },
        "Annotated[int, MultipleOf(2.0)]": {
            "issues": [
                [],
                ["expected an int that is a multiple of 2, got 0.5"],
                ["expected an int that is a multiple of 2, got 1"],
                ["expected an int that is a multiple of 2, got 3"],
            ],
            "schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "multipleOf": 2,
                "type": "integer",
            },
        },
    }
