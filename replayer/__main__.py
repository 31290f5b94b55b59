"""`python -m replayer` is `o2replay`."""

import sys

from replayer.cli import main

sys.exit(main())
