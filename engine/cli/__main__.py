"""`python -m engine.cli`: the same commands as the `commission` script."""

from engine.cli import main

main()
