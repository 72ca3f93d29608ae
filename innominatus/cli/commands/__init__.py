"""Command groups of innominatus-ctl, one module each; every module has `register(cli)`."""
