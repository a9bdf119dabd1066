"""Command-line options as objects: the shared options of a verb, and each registered
modality's own (its options dataclass), shown in ``--help`` in one panel per modality.

A verb's command is built from a plain signature (``inspect.Parameter`` s with typer
options); the values it receives are split into the shared ones and one options object per
modality. An option that belongs only to another modality than the one the data (or the base
model) is, is refused by its flag.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

import typer

from medadapt import checks
from medadapt.data.option_words import command_flags
from medadapt.errors import ConfigError
from medadapt.modalities.base import Modality, ModalityOptions, flag_of, registered, unset

SHARED_PANEL = "Options"


@dataclass(frozen=True)
class Shared:
    """One shared option: its parameter name, type, default, flag(s) and help."""

    name: str
    kind: Any
    default: Any
    help: str
    flags: tuple[str, ...] = ()

    def parameter(self) -> inspect.Parameter:
        option = typer.Option(self.default, *(self.flags or (flag_of(self.name),)),
                              help=self.help, rich_help_panel=SHARED_PANEL)  # fmt: skip
        return inspect.Parameter(
            self.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=self.kind
        )


ADAPTER_OPTIONS = Shared(
    "adapter_options", str | None, None,
    "The method's settings over its defaults, KEY=VALUE,... (lora/dora: r, alpha, dropout, "
    "use_rslora; bottleneck: reduction_factor or d_hidden, placement, activation, dropout, "
    "scaling), e.g. r=4.",
)  # fmt: skip


def modality_fields(verb: str) -> dict[str, list[tuple[Modality, Any]]]:
    """``{field name: [(modality, dataclass field), ...]}`` of every registered modality's
    options that ``verb`` takes."""
    out: dict[str, list[tuple[Modality, Any]]] = {}
    for modality in registered():
        for f in fields(modality.options):
            if verb in f.metadata.get("verbs", ()):
                out.setdefault(f.name, []).append((modality, f))
    return out


def _annotation(f: Any) -> Any:
    kind = f.metadata.get("type")
    if kind is not None:
        return kind | None
    text = str(f.type)
    for name, kind in (("bool", bool), ("int", int), ("float", float), ("Path", Path)):
        if text.startswith(name):
            return kind if name == "bool" else kind | None
    return str | None


def modality_parameters(
    verb: str, taken: Sequence[str], helps: dict[str, str] | None = None
) -> list[inspect.Parameter]:
    """One typer option per modality option of ``verb`` (in a panel named after the
    modalities that take it), except names the shared options already use; ``helps``: a
    command's own words for an option, by name."""
    params = []
    for name, owners in modality_fields(verb).items():
        if name in taken:
            continue
        _modality, f = owners[0]
        panel = " and ".join(m.title for m, _ in owners)
        default = f.default if f.default is not MISSING else None
        annotation = _annotation(f)
        decls = (flag_of(name),)
        if annotation is bool and default is True:
            decls = (f"{flag_of(name)}/--no-{name.replace('_', '-')}",)
        option = typer.Option(default, *decls, help=(helps or {}).get(name, f.metadata.get("help")),
                              rich_help_panel=panel)  # fmt: skip
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation
            )
        )
    return params


def build_command(
    app: typer.Typer,
    verb: str,
    shared: Sequence[Shared],
    run: Callable[..., None],
    doc: str,
    *,
    name: str | None = None,
    helps: dict[str, str] | None = None,
) -> None:
    """Register ``verb`` on ``app`` (as ``name``, default ``verb``): the shared options, then
    every modality's options for ``verb`` (``helps``: this command's words for some)."""
    params = [s.parameter() for s in shared]
    params += modality_parameters(verb, [s.name for s in shared], helps)
    flags = {s.name: (s.flags or (flag_of(s.name),))[0] for s in shared}
    taken = [flag for p in params for decl in p.default.param_decls for flag in decl.split("/")]

    def command(**values: Any) -> None:
        checks.command_values(values, flags)  # nan, inf, a seed too large: before any work
        values = checks.trimmed_names(values)  # --group "VA Long Beach  " as the column reads
        with command_flags(taken):  # a shared reader's message names only these as fixes
            run(**values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = doc
    command.__name__ = (name or verb).replace("-", "_")
    app.command(name or verb)(command)


def options_for(
    verb: str, modality: Modality, values: dict[str, Any], data: Any
) -> ModalityOptions:
    """``modality``'s options object from a command's values; an option that only another
    modality takes, and that was given, is refused by its flag."""
    # this verb's (tables take --epochs at train-base and adapt, images at study too)
    mine = {f.name for f in fields(modality.options) if verb in f.metadata.get("verbs", ())}
    for name, owners in modality_fields(verb).items():
        if name in mine or name not in values:
            continue
        _, f = owners[0]
        value = values[name]
        default = f.default if f.default is not MISSING else None
        if value != default and not unset(value):
            other = " or ".join(m.scope for m, _ in owners)
            sources = " or ".join(m.sources for m, _ in owners)
            instead = modality.instead_of.get(name)
            fix = "drop the option"
            if _empty_folder(data):  # no data of either kind: not "is image data"
                raise ConfigError(f"--data {data} is an empty folder: pass {sources}, or images")
            raise ConfigError(
                f"{flag_of(name)} applies to {other}, but --data {data} is "
                f"{modality.source_name}: "
                + (f"{instead}; {fix}" if instead else
                   f"{fix} or pass {sources}")
            )  # fmt: skip
    taken = {f.name: values[f.name] for f in fields(modality.options) if f.name in values}
    return modality.options(**taken)


def _empty_folder(data: Any) -> bool:
    """Whether ``data`` is a local folder with nothing in it (a trial's empty folder was
    refused as image data for its --positive-above)."""
    try:
        folder = Path(str(data))
        return folder.is_dir() and not any(folder.iterdir())
    except OSError:
        return False
