"""``python -m bot`` is the same as ``kpibot``."""

import sys

from bot.cli import main

sys.exit(main())
