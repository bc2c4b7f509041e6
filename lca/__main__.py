"""``python -m lca``: the command line, as the ``lca`` script runs it."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
