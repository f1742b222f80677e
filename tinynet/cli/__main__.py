"""``python -m tinynet.cli``: the ``tinynet`` command."""

import sys

from tinynet.cli import main

sys.exit(main())
