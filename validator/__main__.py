"""`python -m validator` works like the `uapi-validator` command."""

import sys

from validator.cli import main

sys.exit(main())
