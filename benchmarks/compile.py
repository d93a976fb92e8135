"""The cold start: what the first ``validate()`` of a type costs, and ``prepare()`` up front.

    python benchmarks/compile.py [--runs N]

Each figure comes from a fresh interpreter (the checkers are cached for the life of a process),
the best of N runs, in milliseconds of wall time:

- ``first validate(ChatCompletionRequest)``: the first call after import, which compiles;
- ``prepare(ChatCompletionRequest)``, then that type's first ``validate()``: compiles nothing;
- ``prepare()``: every protocol type, and how that time splits between analysing the types,
  writing the checkers' source, and ``compile()``/``exec`` of that source.

Not a test: wall time on a shared machine varies; compare the runs of one sitting.
"""

import argparse
import json
import subprocess
import sys

WORKLOAD = """
import json, sys, time
sys.path.insert(0, {here!r})
from validate import chat
import sagellm_protocol
from sagellm_protocol.openai import ChatCompletionRequest
from sagellm_protocol.validation import prepare, type_by_name, type_names, validate
from sagellm_protocol.validation import _compile
import sagellm_protocol._source_notes  # read on the first compile: an import, not a compile

forms = [type_by_name(name) for name in type_names()]  # imports every module first
value = chat()
figures = {{}}
if {scenario!r} == "cold":
    start = time.perf_counter()
    validate(ChatCompletionRequest, value)
    figures["first validate(ChatCompletionRequest)"] = time.perf_counter() - start
elif {scenario!r} == "prepared":
    start = time.perf_counter()
    prepare(ChatCompletionRequest)
    figures["prepare(ChatCompletionRequest)"] = time.perf_counter() - start
    start = time.perf_counter()
    validate(ChatCompletionRequest, value)
    figures["then its first validate()"] = time.perf_counter() - start
else:
    from sagellm_protocol._tree.analyse import analyze
    spent = [0.0]
    builtin_compile = compile

    def timed_compile(*args, **kwargs):
        start = time.perf_counter()
        try:
            return builtin_compile(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    _compile.compile = timed_compile  # the module's compile(), of generated source and notes
    start = time.perf_counter()
    for form in forms:
        analyze(form)
    analysed = time.perf_counter()
    prepare()
    done = time.perf_counter()
    figures["prepare() of every type"] = done - start
    figures["  analysing the types"] = analysed - start
    figures["  writing the checkers"] = done - analysed - spent[0]
    figures["  compile() of their source"] = spent[0]
    figures["types"] = len(forms)
print(json.dumps(figures))
"""


def run(scenario: str) -> dict[str, float]:
    from pathlib import Path

    here = str(Path(__file__).resolve().parent)
    code = WORKLOAD.format(here=here, scenario=scenario)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for scenario in ("cold", "prepared", "all"):
        best: dict[str, float] = {}
        for _ in range(args.runs):
            for name, figure in run(scenario).items():
                best[name] = min(best.get(name, figure), figure)
        for name, figure in best.items():
            shown = f"{figure:>9.0f}" if name == "types" else f"{figure * 1e3:>9.1f} ms"
            print(f"{name:<40} {shown}")


if __name__ == "__main__":
    main()
