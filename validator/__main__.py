"""`python -m validator` works like the `uapi-validator` command."""

from validator.cli import run

run()
