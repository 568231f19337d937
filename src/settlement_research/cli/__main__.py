"""``python -m settlement_research.cli``: the same as the ``settlement-research`` script."""

import sys

from settlement_research.cli import main

sys.exit(main())
