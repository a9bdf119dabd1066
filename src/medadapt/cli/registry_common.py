"""What the ``medadapt registry`` command modules share: the ``registry`` sub-app with its
``--root`` option, opening (or creating) the registry it names, and checks and output every
command uses.

:mod:`medadapt.cli.registry` adds the sub-app to ``medadapt``; it and
:mod:`~medadapt.cli.registry_transfer` and :mod:`~medadapt.cli.registry_bases` add their
commands to it, importing only this module (never each other). Importing it must stay cheap:
no torch.
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from typer.core import TyperGroup

from medadapt.data.spelling import edit_distance, spelt_alike
from medadapt.fileio import check_can_create
from medadapt.registry import Registry, RegistryError
from medadapt.registry.records import check_name

#: the registry flags, as ``serve`` and ``registry`` spell them
ROOT_FLAGS = ("--root", "--registry")
#: where the group keeps the flag the user gave (``ctx.meta``), for suggestions to repeat it
_FLAG_KEY = "medadapt.registry_flag"


class _RegistryGroup(TyperGroup):
    """The ``registry`` command group: ``--root`` given after the command (``registry list
    --root DIR``, a common slip) is answered with where it goes, not "No such option"; the
    flag the user gave (``--root`` or ``--registry``) is kept, for suggestions to repeat it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for arg in args:  # the group's own options come before the command
            flag = arg.split("=", 1)[0]
            if flag in ROOT_FLAGS:
                ctx.meta[_FLAG_KEY] = flag
            elif not arg.startswith("-"):
                break
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as exc:
            if exc.option_name not in ("--root", "--registry") or exc.ctx is None:
                raise
            command, flag = exc.ctx.info_name, exc.option_name
            raise click.UsageError(
                f"{flag} goes before the command: 'medadapt registry {flag} DIR {command} ...'",
                ctx=ctx,
            ) from None


registry_app = typer.Typer(
    name="registry",
    cls=_RegistryGroup,
    help="Keep adapter versions, compare them, promote one to serve, and share them.\n\n"
    "Example: medadapt registry --root hospital-registry list",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@registry_app.callback()
def _root(
    ctx: typer.Context,
    root: Annotated[
        Path | None,
        typer.Option(
            "--root",
            "--registry",  # as serve names it
            metavar="DIR",
            help="The registry directory (created by the first 'add' or 'import').",
        ),
    ] = None,
) -> None:
    """Keep adapter versions, compare them, promote one to serve, and share them.

    Example: medadapt registry --root hospital-registry list
    """
    ctx.obj = root


def given_flag(ctx: click.Context) -> str:
    """The registry flag the user typed (``--root`` or ``--registry``), to repeat it."""
    return ctx.meta.get(_FLAG_KEY, ROOT_FLAGS[0])


def open_registry(ctx: typer.Context, *, create: bool = False) -> Registry:
    """The registry ``--root`` names (``create``: made if it does not exist)."""
    root = ctx.obj
    if root is None:
        raise RegistryError(
            "--root is missing: give the registry directory before the command, e.g. "
            "'medadapt registry --root hospital-registry list'"
        )
    flag = given_flag(ctx)
    try:
        return Registry(root, create=create)
    except RegistryError as exc:  # said with the flag the user gave (a trial's --registry)
        said = str(exc).replace("check --root", f"check {flag}")
        raise RegistryError(said.replace("registry --root ", f"registry {flag} ")) from None


def registry_command(ctx: typer.Context, command: str) -> str:
    """``medadapt registry --root DIR COMMAND``: a command to suggest, with the registry flag
    and directory the user gave (``--registry`` if that is the one they typed)."""
    flag = given_flag(ctx)
    root = "DIR" if ctx.obj is None else shlex.quote(str(ctx.obj))
    return f"medadapt registry {flag} {root} {command}"


@contextlib.contextmanager
def creating(ctx: typer.Context) -> Iterator[Registry]:
    """The registry, created if needed; a first add or import that fails leaves no empty
    registry behind (what this command created is removed)."""
    root = ctx.obj
    existed = root is not None and Path(root).exists()
    created_layout = root is not None and not (Path(root) / "registry.sqlite").is_file()
    if root is not None and not existed:  # a mistyped /nonexistent/reg made /nonexistent
        check_can_create(Path(root), given_flag(ctx))
    reg = open_registry(ctx, create=True)
    try:
        yield reg
        said = created_layout and misspelt_root(Path(root), given_flag(ctx))
        if said:  # a trial's --root Reg (for reg) made a second registry unsaid
            typer.echo(said)
    except BaseException:
        if created_layout and not existed:
            shutil.rmtree(root, ignore_errors=True)
        elif created_layout:  # an empty directory the user gave: empty it again
            for child in Path(root).iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def misspelt_root(root: Path, flag: str) -> str | None:
    """What a first add or import says of the registry it made where a registry beside it
    has a close name (a misspelt ``--root``); None where none has (a first registry)."""
    try:
        here = root.resolve()
        others = [p.name for p in here.parent.iterdir()
                  if p != here and (p / "registry.sqlite").is_file()]  # fmt: skip
    except OSError:
        return None
    # a slip of the name (``Reg``, ``regsitry``), not a name of its own beside it (``regva``
    # beside ``reg``, ``reg2`` beside ``reg1``: a trial's new registry was asked about)
    close = sorted((o for o in others if spelt_alike(root.name, o)),
                   key=lambda o: edit_distance(root.name.casefold(), o.casefold()))  # fmt: skip
    if not close:
        return None
    return (f"note: {root} held no registry, so a new one was made there; did you mean "
            f"{flag} {shlex.quote(str(root.parent / close[0]))}?")  # fmt: skip


def check_cli_name(name: str | None) -> None:
    """``--name`` checked before anything is created."""
    if name is not None:
        try:
            check_name(name)
        except Exception as err:
            raise RegistryError(f"--name: {err}") from None


def repaired_words(repaired: tuple[str, ...]) -> str:
    """``repaired its stored copy (the weights file was damaged)``: what adding (or
    importing) again an adapter already registered, or ``add-base`` again a base model,
    mended."""
    return f"repaired its stored copy ({' and '.join(repaired)})"


def echo_notices(notices: tuple[str, ...] | list[str]) -> None:
    """One line each: what an add or import wants the user to know."""
    for notice in notices:
        typer.echo(notice)
