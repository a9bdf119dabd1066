"""The ``medadapt`` command: a thin typer shell over the library.

Every command prints a one-line ``error: ...`` and exits non-zero on bad input (no traceback);
long work shows a rich progress bar on stderr.
"""

from __future__ import annotations

import logging
import sys

import typer

from medadapt.errors import MedadaptError

app = typer.Typer(
    name="medadapt",
    help="Adapters for frozen medical models: train on little data, report what it supports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """Adapters for frozen medical models: train on little data, report what it supports."""


@app.command()
def info() -> None:
    """Print medadapt's version and the compute it sees.

    Example: medadapt info
    """
    import platform

    import torch

    import medadapt

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu only"
    typer.echo(f"medadapt {medadapt.__version__}")
    typer.echo(f"python {platform.python_version()}, torch {torch.__version__}, {device}")
    typer.echo(f"cpu threads: {torch.get_num_threads()}")


def _register_commands() -> None:
    """Import the command modules; each one adds its commands to ``app``."""
    import importlib

    for module in (
        "medadapt.cli.tabular",
        "medadapt.cli.demo",
        "medadapt.cli.study",
        "medadapt.cli.registry",
        "medadapt.cli.registry_bases",
        "medadapt.cli.serve",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    _register_commands()
    try:
        app(args=argv, standalone_mode=False)
    except MedadaptError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
