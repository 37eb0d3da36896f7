"""`python -m syngen ...` runs the `syngen` command group."""

from syngen.cli.main import cli

cli()
