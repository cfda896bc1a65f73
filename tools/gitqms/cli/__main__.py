"""`python -m gitqms.cli` runs the `qms` command."""

from .main import main

main()
