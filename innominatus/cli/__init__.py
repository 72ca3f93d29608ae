"""`innominatus-ctl`: the command line of innominatus (see docs/cli.md)."""
