"""``python -m sagellm_protocol``: the ``sagellm-protocol`` command (see ``--help``)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
