"""``medadapt registry --root DIR add-base|bases``: the base models adapters are served on."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from medadapt.cli.registry_common import (
    creating,
    open_registry,
    registry_app,
    registry_command,
    repaired_words,
)
from medadapt.registry.bases import list_bases
from medadapt.registry.records import UNITS


@registry_app.command("add-base")
def add_base_command(
    ctx: typer.Context,
    base_dir: Path = typer.Argument(..., help="A directory written by 'medadapt train-base'."),
) -> None:
    """Keep a base model (BASE_DIR, written by 'medadapt train-base') in the registry so
    'medadapt serve' can load its adapters.

    Example: medadapt registry --root hospital-registry add-base base/
    """
    spelled = registry_command(ctx, "").rstrip()
    with creating(ctx) as registry:  # a first add-base: as add's (no /nonexistent made)
        added = registry.add_base(base_dir, spelled=spelled)
    if added.repaired:  # registered, its copy deleted or damaged: put back from BASE_DIR
        typer.echo(f"already registered: {added.path}; {repaired_words(added.repaired)}")
    else:
        typer.echo(f"{'added' if added.new else 'already present'}: {added.path}")


@registry_app.command("bases")
def bases_command(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the base models kept in the registry.

    Example: medadapt registry --root hospital-registry bases
    """
    bases = list_bases(open_registry(ctx).root)
    if as_json:
        typer.echo(json.dumps(bases, indent=2))
        return
    if not bases:  # a trial's empty registry printed nothing at all
        add_base = registry_command(ctx, "add-base")
        typer.echo(f"no base models in this registry: add one with '{add_base} BASE_DIR' (or "
                   "import an adapter exported with --with-base)")  # fmt: skip
    for base in bases:
        if "problem" in base:
            verify = registry_command(ctx, "verify")
            typer.echo(f"{Path(base['path']).name}  damaged: {base['problem']} (see '{verify}')")
            continue
        fp = base["fingerprint"]
        noun = UNITS.get(base.get("kind") or "tabular", "samples")
        typer.echo(
            f"{fp['weights'][:12]}  {fp['model_class']}  label={base['label']}  "
            f"groups={_groups(base['groups'], noun)}" + _kept_leaks(base.get("allowed_leaks"))
        )


def _groups(groups: object, noun: str = "rows") -> str:
    """``Alpha (227 rows), Beta (1 row)``, ``A (96 images)``, ``A, B``, or ``all`` (no
    group filter): the groups a base was trained on, as a person reads them (not a Python
    dict), counted in the base's own ``noun`` (:data:`~medadapt.registry.records.UNITS`)."""
    if isinstance(groups, dict):
        return ", ".join(f"{g} ({n:,} {noun if n != 1 else noun[:-1]})"
                         if isinstance(n, int) else str(g)
                         for g, n in groups.items()) or "all"  # fmt: skip
    if isinstance(groups, list | tuple):
        return ", ".join(map(str, groups)) or "all"
    return "all" if groups is None else str(groups)


def _kept_leaks(columns: object) -> str:
    """``  kept with --allow-leak: num`` for a base whose results every later command flags
    (each such column alone predicts the label), or nothing."""
    if not isinstance(columns, list) or not columns:
        return ""
    return f"  kept with --allow-leak: {', '.join(map(str, columns))}"
