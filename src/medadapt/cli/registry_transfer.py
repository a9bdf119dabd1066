"""``medadapt registry --root DIR export|import``: send an adapter version to another hospital.

Its commands join the ``registry`` sub-app of :mod:`medadapt.cli.registry_common`;
:mod:`medadapt.cli.registry` imports this module after its own commands.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from medadapt.cli.inputs import check_name_length
from medadapt.cli.registry_common import (
    check_cli_name,
    creating,
    echo_notices,
    open_registry,
    registry_app,
    repaired_words,
)
from medadapt.registry import RegistryError


@registry_app.command("export")
def export_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The version to export, e.g. pneumonia@2.")],
    out: Annotated[
        str | None,  # a str, not a Path: Path drops the trailing '/' that marks a directory
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="Archive file (.tar.gz or .tgz: gzip-compressed; .tar: uncompressed), or "
            "directory (existing, or ending in '/') to write NAME-vN.medadapt.tar.gz in "
            "(default: the current directory).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing archive file.")
    ] = False,
    with_base: Annotated[
        bool,
        typer.Option(
            "--with-base", help="Also put the base model in the archive (the import keeps it)."
        ),
    ] = False,
) -> None:
    """Write one version (REF, e.g. pneumonia@2) to a single archive file to send to another
    hospital.

    Example: medadapt registry --root hospital-registry export pneumonia@2 -o outbox/
    """
    if out is not None:  # a directory ('/' at the end) gets the default name written in it
        check_name_length(Path(out, "x") if out.endswith("/") else Path(out), "-o")
    result = open_registry(ctx).export(ref, out, with_base=with_base, force=force)
    what = f"{result.version.ref} with its base model" if with_base else result.version.ref
    typer.echo(f"exported {what} to {result.path}")
    typer.echo(f"sha256 {result.sha256}")
    typer.echo("send the sha256 by another channel; the recipient checks it with import --sha256")


@registry_app.command("import")
def import_cmd(
    ctx: typer.Context,
    archive: Annotated[Path, typer.Argument(help="An archive written by 'registry export'.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Register under this name (default: its own).")
    ] = None,
    sha256: Annotated[
        str | None,
        typer.Option("--sha256", help="The archive's SHA-256 as the sender told you."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Import it even if it predicts another outcome or serves another group than "
            "NAME's newest version, or if NAME is new but spelt like a registered name.",
        ),
    ] = False,
) -> None:
    """Verify ARCHIVE (written by 'registry export') and register its adapter as a new
    version.

    Example: medadapt registry --root hospital-registry import pneumonia-v2.medadapt.tar.gz
    """
    check_cli_name(name)
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256.strip()):
        raise RegistryError(f"--sha256 {sha256} is not a SHA-256 (64 hexadecimal characters): "
                            "copy it exactly as the sender gave it")  # fmt: skip
    if not archive.is_file():
        what = "is a directory" if archive.is_dir() else "does not exist"
        raise RegistryError(f"{archive} {what}; give the archive file 'registry export' wrote")
    with creating(ctx) as reg:
        result = reg.import_(archive, name=name, expect_sha256=sha256, force=force)
    v = result.version
    if not result.new:
        repaired = f": {repaired_words(result.repaired)}; nothing else added"
        # "nothing added" beside "also registered its base model" read as a contradiction
        base_added = any(n.startswith("also ") for n in result.notices)  # its base model
        nothing = "; the adapter is not added again" if base_added else "; nothing added"
        typer.echo(f"already imported as {v.ref}{repaired if result.repaired else nothing}")
        echo_notices(result.notices)
        return
    source = f"{v.origin['name']}@{v.origin['version']}" if v.origin else "?"
    typer.echo(f"imported {v.ref} (exported as {source}); every checksum verified")
    echo_notices(result.notices)
    if sha256 is None:
        typer.echo(
            f"archive sha256 {v.origin['archive_sha256'] if v.origin else '?'}: compare it with "
            "the one the sender gave you"
        )
