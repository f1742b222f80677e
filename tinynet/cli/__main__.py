"""``python -m tinynet.cli``: the ``tinynet`` command."""

import sys

from tinynet.cli.commands import main

sys.exit(main())
