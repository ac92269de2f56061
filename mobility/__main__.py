"""``python -m mobility``: the ``mobility`` command."""

import sys

from mobility.interfaces.cli import main

sys.exit(main())
