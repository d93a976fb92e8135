#!/usr/bin/env bash
# The C list checks, key count and typed decoder, built as shipped (the 3.11 limited API), under
# AddressSanitizer and UndefinedBehaviorSanitizer: build the extension with both into a copy of
# the package and run the tests that drive it (the C and pure-Python differential tests, the
# compiled-checker tests, validate_json's typed path) against that copy.
#
#   scripts/sanitize.sh [PYTHON]     PYTHON: an interpreter with the dev extra (default: python3)
#
# Any sanitizer report fails the run (halt_on_error); leak detection is off, since CPython keeps
# its interned objects and caches until exit by design. Needs gcc with libasan and libubsan.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:-python3}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r src/sagellm_protocol "$scratch/"
find "$scratch/sagellm_protocol" -name '*.so' -delete

include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
gcc -shared -fPIC -O1 -g -std=c11 -Wall -Wextra -Werror -DPy_LIMITED_API=0x030B0000 \
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
    -I"$include" src/sagellm_protocol/validation/_scalar_lists.c \
    src/sagellm_protocol/validation/_typed_decode.c \
    -o "$scratch/sagellm_protocol/validation/_scalar_lists.abi3.so"

# The sanitizer runtimes must be loaded before the interpreter allocates anything.
LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export LD_PRELOAD
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export PYTHONMALLOC=malloc  # every object from malloc, so ASan sees each item's bounds
export PYTHONPATH="$scratch"
"$python" -c '
import os
from sagellm_protocol.validation._compile import native_lists
native = native_lists()
assert native is not None and native.__file__.startswith(os.environ["PYTHONPATH"]), native
print("sanitized build:", native.__file__)
'
"$python" -m pytest -q -p no:cacheprovider --no-cov tests/unit/test_scalar_lists.py tests/unit/test_validation.py \
    tests/property/test_key_count.py tests/property/test_typed_json.py \
    tests/property/test_typed_decode.py
