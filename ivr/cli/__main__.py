"""`python -m ivr.cli`: the `ivr` command."""

from ivr.cli.main import main

main()
