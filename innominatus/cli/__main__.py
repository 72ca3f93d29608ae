"""`python -m innominatus.cli` runs the same command line as the `innominatus-ctl` script."""

from innominatus.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="innominatus-ctl")
