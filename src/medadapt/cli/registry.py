"""``medadapt registry --root DIR ...``: keep, compare, promote and share adapter versions.

A thin shell over :class:`medadapt.registry.Registry`; every error is one line (main() prints
it and exits non-zero). Importing this module must stay cheap: torch is imported only by the
commands that read adapter files (add, import). What the registry command modules share
(the sub-app, ``--root``, opening the registry) is in :mod:`medadapt.cli.registry_common`;
how these commands print values is in :mod:`medadapt.cli.registry_format`, and what
``promote`` says of the version it serves in :mod:`medadapt.cli.registry_promotion`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from medadapt.checks import did_you_mean
from medadapt.cli.common import warn
from medadapt.cli.main import app
from medadapt.cli.registry_common import (
    check_cli_name,
    creating,
    echo_notices,
    open_registry,
    registry_app,
    registry_command,
    repaired_words,
)
from medadapt.cli.registry_format import (
    WARNED,
    base_copies,
    cell,
    change_cells,
    config_items,
    diff_rows,
    echo_json,
    event_detail,
    headline_metric,
    human_size,
    listed_metric,
    logged_time,
    metric_label,
    metric_rows,
    note_lines,
    other_fields,
    other_outcomes,
    recorded_unit,
    strangers_line,
    summary_rows,
    table_console,
    tmp_lines,
    versus_base_rows,
    versus_base_warnings,
)
from medadapt.cli.registry_promotion import (
    promotion_messages,
    unfit_refusal,
    where_tested,
    whole_result_warnings,
)
from medadapt.errors import AdapterFileError
from medadapt.evaluate.report.formatting import listed
from medadapt.registry import AdapterVersion, Registry, RegistryError, VersionDiff
from medadapt.registry.bases import base_schema, has_base, missing_base_note
from medadapt.registry.card import federated_words
from medadapt.registry.diff import MetricChange
from medadapt.registry.fitness import unfit_reason
from medadapt.registry.groups import (
    fields_dropped,
    fields_refused,
    listed_fields,
    served_for_other_outcomes,
)
from medadapt.registry.maintenance import GC_MIN_AGE_S
from medadapt.registry.records import command_line, other_base_note, summaries
from medadapt.registry.summary_words import positive_class_words, training_warning_lines
from medadapt.results import AdapterRecord
from medadapt.wording import plural

app.add_typer(registry_app, name="registry")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

#: the largest integer SQLite takes (a larger --limit means every event, as this does)
SQLITE_MAX_INT = 2**63 - 1


def _unknown_name(reg: Registry, name: str) -> None:
    gone = reg.all_removed(name)
    if gone is not None:
        history = command_line(reg.root, f"log {name}")
        raise RegistryError(f"{gone}; see its history with '{history}'")
    names = sorted({v.name for v in reg.list()})
    listed = ", ".join(names[:10]) if names else "none yet"
    meant = did_you_mean(name, names)  # as resolving a reference says it (promote, show...)
    raise RegistryError(f"no adapter named {name!r} in {reg.root}{meant} (its names: {listed})")


def _manifest(reg: Registry, v: AdapterVersion) -> dict[str, Any]:
    """The manifest ``v`` was registered with (empty when it cannot be read: ``verify`` says
    why)."""
    try:
        manifest = json.loads(reg.objects.path(v.manifest_blob).read_bytes())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _classes(reg: Registry, v: AdapterVersion) -> list[str] | None:
    """The classes ``v`` scores, in its order (None when not recorded)."""
    metadata = _manifest(reg, v).get("metadata")
    classes = metadata.get("classes") if isinstance(metadata, dict) else None
    return [str(c) for c in classes] if isinstance(classes, list) else None


@registry_app.command("add")
def add_cmd(
    ctx: typer.Context,
    adapter_dir: Annotated[Path, typer.Argument(help="An adapter directory ('adapt' output).")],
    name: Annotated[
        str | None, typer.Option("--name", help="Registry name (default: the adapter's name).")
    ] = None,
    parent: Annotated[
        int | None,
        typer.Option("--parent", help="Parent version number (default: the newest version)."),
    ] = None,
    no_parent: Annotated[
        bool, typer.Option("--no-parent", help="Record no parent version.")
    ] = False,
    notes: Annotated[
        Path | None,
        typer.Option("--notes", metavar="FILE", help="Markdown appended to the adapter card."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Add it even if it predicts another outcome or serves another group than "
            "NAME's newest version, or if NAME is new but spelt like a registered name.",
        ),
    ] = False,
) -> None:
    """Register ADAPTER_DIR (an 'adapt' output directory) as the next version of NAME.

    Example: medadapt registry --root hospital-registry add runs/pneumonia --name pneumonia
    """
    if no_parent and parent is not None:
        raise RegistryError("give either --parent N or --no-parent, not both")
    text = None
    if notes is not None:
        if not notes.is_file():
            what = "is a directory" if notes.is_dir() else "does not exist"
            raise RegistryError(f"--notes {notes} {what}; give a markdown file")
        try:
            text = notes.read_text()
        except UnicodeDecodeError:
            raise RegistryError(f"--notes {notes} is not UTF-8 text") from None
    check_cli_name(name)
    if not adapter_dir.exists():
        raise RegistryError(f"{adapter_dir} does not exist; give an adapter directory")
    with creating(ctx) as reg:
        result = reg.add(
            adapter_dir,
            name=name,
            parent=None if no_parent else (parent or "previous"),
            notes=text,
            force=force,
            spelled=registry_command(ctx, "").rstrip(),
        )
    v = result.version
    if result.new:
        lineage = f"parent {v.name}@{v.parent}" if v.parent else "no parent"
        typer.echo(
            f"added {v.ref} ({v.method}, {lineage}, {human_size(v.weights_bytes)} of weights)"
        )
    elif result.repaired:  # its stored files were missing or damaged: rewritten from these
        typer.echo(
            f"{v.ref} already holds this exact adapter: {repaired_words(result.repaired)}; "
            "nothing else added"
        )
    else:
        typer.echo(f"{v.ref} already holds this exact adapter; nothing added")
    echo_notices(result.notices)
    if not result.new:
        return
    twins = [o.ref for o in reg.list() if o.weights_blob == v.weights_blob and o.name != v.name]
    if twins:  # a trial's one adapter under three names later clashed at promote
        typer.echo(f"note: the same adapter (the same weights) is also registered as "
                   f"{', '.join(twins)}")  # fmt: skip
    promote = f"{registry_command(ctx, 'promote')} {v.ref}"
    why = unfit_reason(v, summaries(_manifest(reg, v)))
    if why is not None:  # what promote would refuse, said here (a trial's hint led straight
        promote += " --despite-warnings"  # to a refusal)
        typer.echo(f"note: promote refuses {v.ref} as it stands, as its recorded test result "
                   f"says: {why}")  # fmt: skip
    if has_base(reg.root, v.base_fingerprint["weights"]):
        typer.echo(f"serve it with: {promote}")
    else:  # promoted now, it would not be served: its base comes first
        typer.echo(
            f"to serve it: first keep its base model with '{registry_command(ctx, 'add-base')} "
            f"BASE_DIR' (the directory 'medadapt train-base' wrote), then '{promote}'"
        )


def _as_json(v: AdapterVersion, despite: str | None, **options: Any) -> dict[str, Any]:
    """``v``'s record as ``--json`` prints it, with the harm it is served despite (``promote
    --despite-warnings``), where it is."""
    return {**v.to_dict(**options), **({"served_despite_warnings": despite} if despite else {})}


@registry_app.command("list")
def list_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only the versions of this name.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List adapter versions (the served one is marked); NAME: only that name's.

    Example: medadapt registry --root hospital-registry list pneumonia --json
    """
    reg = open_registry(ctx)
    versions = reg.list(name)
    if name is not None and not versions:
        _unknown_name(reg, name)
    despite = reg.served_despite()  # an override is never listed as a clean promotion
    if as_json:
        echo_json([_as_json(v, despite.get(v.ref), card=False) for v in versions])
        return
    if not versions:
        typer.echo(
            f"no adapters in {reg.root}; add one with '{registry_command(ctx, 'add')} ADAPTER_DIR'"
        )
        return
    rows, damaged = [], []
    for v in versions:
        n_train = v.data_summary.get("n_train")
        if _damage(reg, v):  # a trial's damaged south@2 still read "served: yes", unmarked
            damaged.append(v.ref)
        served = ("yes, despite warnings" if v.ref in despite else "yes") if v.promoted else ""
        if v.ref in damaged:
            served = f"{served} (damaged)".strip()
        rows.append((
            v.ref,
            served,
            v.method,
            v.task or "-",
            cell(v.data_summary.get("group")),
            "-" if n_train is None else f"{cell(n_train)} {recorded_unit(v.data_summary)}",
            listed_metric(v),
            v.registered[:10],
        ))  # fmt: skip
    console = table_console()
    whole = _versions_table(f"Adapters in {reg.root}", LIST_COLUMNS, rows)
    natural = Console(width=10_000).measure(whole).maximum  # unwrapped, whatever the terminal
    if natural <= console.width:
        console.print(whole)
    else:  # a trial's 80 columns broke "bottle|neck" and wrapped a metric over 6 lines
        first, second = LIST_COLUMNS[:6], (LIST_COLUMNS[0], *LIST_COLUMNS[6:])
        console.print(_versions_table(f"Adapters in {reg.root}", first, [r[:6] for r in rows]))
        console.print(_versions_table("Their figures", second, [(r[0], *r[6:]) for r in rows]))
    if damaged:
        one = len(damaged) == 1
        verify = registry_command(ctx, "verify")
        warn(f"{', '.join(damaged)}: stored files missing or not matching their checksums, so "
             f"{'it' if one else 'they'} cannot be promoted or served as "
             f"{'it is' if one else 'they are'}; '{verify}' says which files and how to "
             "repair them")  # fmt: skip
    if any(headline_metric(v).endswith(WARNED) for v in versions):
        typer.echo(f"{WARNED.strip()}: a warning is recorded with the result or with that "
                   "figure (too good to be true, one class for every or nearly every patient, "
                   "ranking backwards, a column kept with --allow-leak, old classes not kept, "
                   "worse than the base model alone, or why a metric or its interval is "
                   "missing or only a rough range); "
                   f"'{registry_command(ctx, 'show')} NAME@N' says which")  # fmt: skip


#: the columns of ``registry list`` (on a narrow terminal, two tables: these up to the group
#: and its training size, then the version's figures and when it was added)
LIST_COLUMNS = ("version", "served", "method", "task", "group", "trained on", "metric", "added")


def _versions_table(title: str, columns: Sequence[str], rows: list[Sequence[str]]) -> Table:
    """A table of ``registry list``: the version and the date never wrap (every other
    command takes the one; the other is short), other cells wrap, never cut, a figure."""
    table = Table(title=title)
    for column in columns:
        whole = column in ("version", "added")
        table.add_column(column, no_wrap=whole, overflow="ellipsis" if whole else "fold")
    for row in rows:
        table.add_row(*row)
    return table


@registry_app.command("show")
def show_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME@N, NAME@latest or NAME@promoted.")],
    as_json: JsonFlag = False,
    card: Annotated[bool, typer.Option("--card", help="Print the adapter card (markdown).")] = (
        False
    ),
) -> None:
    """Show one version (REF: NAME, NAME@N, NAME@latest or NAME@promoted): lineage, data
    summary, metrics with CIs and the warnings recorded with them, hashes.

    Example: medadapt registry --root hospital-registry show pneumonia@2 --card
    """
    reg = open_registry(ctx)
    v = reg.get(ref)
    despite = reg.served_despite().get(v.ref)  # an override, said as in list and serve
    if as_json:
        echo_json(_as_json(v, despite))
        return
    if card:
        typer.echo(v.card, nl=False)
        return
    damage = _damage(reg, v)  # first: a trial's came 87 lines down, after the card
    if damage:
        warn(f"{damage} (it cannot be promoted or served as it is)")
    table = Table(title=v.ref, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    origin = v.origin
    promoted = f"yes (promoted despite warnings: {despite})" if despite else "yes (promoted)"
    rows = [
        ("served", promoted if v.promoted else "no"),
        ("method", v.method),
        *((f"config: {k}", cell(c)) for k, c in config_items(v.config)),
        ("task", v.task or "not recorded"),
        *_positive_rows(reg, v),
        ("parent", f"{v.name}@{v.parent}" if v.parent else "none"),
        ("base model", v.base_short),
        ("intended use", v.intended_use or "not stated"),
        ("adapter parameters", str(v.n_parameters)),
        ("weights", f"{human_size(v.weights_bytes)}, sha256 {v.weights_blob}"),
        ("trained", v.trained or "?"),
        ("registered", v.registered),
    ]
    if origin:
        rows.append(("imported from", f"{origin.get('name')}@{origin.get('version')}"))
    extra = AdapterRecord.from_json(_manifest(reg, v).get("metadata")).extra
    if isinstance(extra.get("federated"), dict):  # the card said it; show did not
        rows.append(("federated", federated_words(extra["federated"], extra.get("personalised"))))
    data = summary_rows(v.data_summary)
    rows += [(f"data: {field}", said) for field, said in data]
    rows += metric_rows(v, _classes(reg, v))
    rows += versus_base_rows(summaries(_manifest(reg, v))["versus_base"])
    for key, value in rows:
        table.add_row(key, value)
    table_console().print(table)
    for line in note_lines(v.metrics):  # what the (!) marks of 'list' and of the table mean
        typer.echo(line)
    for line in training_warning_lines(v.data_summary):  # said once at adapt, before: lost
        typer.echo(line)


@registry_app.command("card")
def card_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME, NAME@N, NAME@latest or NAME@promoted.")],
) -> None:
    """Print the adapter card (markdown) of one version (REF: NAME, NAME@N, NAME@latest or
    NAME@promoted), as show --card does.

    Example: medadapt registry --root hospital-registry card pneumonia@2 > card.md
    """
    typer.echo(open_registry(ctx).get(ref).card, nl=False)


def _damage(reg: Registry, v: AdapterVersion) -> str | None:
    """Why ``v``'s stored files cannot be used (missing, or not hashing to their checksums),
    or None: a trial's tampered version looked normal in ``show`` and ``list``, while
    ``verify`` and ``promote`` refused it."""
    try:
        reg.check_files(v)
    except AdapterFileError as damaged:
        return str(damaged)
    return None


def _positive_rows(reg: Registry, v: AdapterVersion) -> list[tuple[str, str]]:
    """``("positive class", "1 means num > 0 (the base model's --positive-above 0)")`` when
    the registered base model says what the positive class is; else none."""
    schema = base_schema(reg.root, v.base_fingerprint.get("weights", ""))
    said = positive_class_words(schema)
    if (
        schema is None
        and len(_classes(reg, v) or ()) == 2
        and recorded_unit(v.data_summary) == "rows"
    ):
        return [
            (
                "positive class",
                "not known here: the registry holds no base model with its "
                "weights (its label and threshold are there; registry add-base BASE_DIR)",
            )
        ]
    if said is None or schema is None:
        return []
    above = schema.get("positive_above")
    if isinstance(above, int | float) and not isinstance(above, bool):
        said += f" (the base model's --positive-above {above:g})"
    return [("positive class", said)]


@registry_app.command("diff")
def diff_cmd(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="First version, e.g. pneumonia@1.")],
    b: Annotated[str, typer.Argument(help="Second version, e.g. pneumonia@2.")],
    as_json: JsonFlag = False,
) -> None:
    """Compare two versions (A and B, e.g. pneumonia@1 pneumonia@2): config, training data
    summary and metrics (with CI overlap).

    Example: medadapt registry --root hospital-registry diff pneumonia@1 pneumonia@2
    """
    registry = open_registry(ctx)
    d = registry.diff(a, b)
    if as_json:
        echo_json(d.to_dict())
        return
    if d.a == d.b:  # a trial's 'diff south@1 south@1' printed its metrics "cannot tell apart"
        typer.echo(f"{a} and {b} are the same version ({d.a}): nothing to compare; "
                   f"'{registry_command(ctx, 'show')} {d.a}' shows it")  # fmt: skip
        return
    console = table_console()
    if d.same_question is False:  # said first: every figure below measures another thing
        console.print(other_outcomes(d), markup=False)  # labels are the user's text
    if d.request_fields is not None:  # what promote refuses, said where the two are compared
        console.print(other_fields(d), markup=False)
    if d.identical_weights and d.same_base:  # a trial's hot promotion swapped in the same
        console.print(f"{d.a} and {d.b} have the same weights, byte for byte: they give every "
                      "patient the same answer; only their records differ")  # fmt: skip
    changes = Table(title=f"{d.a} -> {d.b}")
    for column in ("field", d.a, d.b):
        changes.add_column(column)
    version_a, version_b = registry.get(a), registry.get(b)
    summary_a, summary_b = version_a.data_summary, version_b.data_summary
    classes = _classes(registry, version_a)
    for row in diff_rows(d, summary_a, summary_b):
        changes.add_row(*row)
    if changes.row_count:
        console.print(changes)
    else:
        console.print("same method, config, data summary and weights")
    if d.metrics:
        _print_metrics(console, d, recorded_unit(summary_a), classes)
    for version in (version_a, version_b):  # what show and promote say of each result
        for line in whole_result_warnings(version):
            console.print(f"warning: {line}", markup=False)


def _metric_table(title: str, changes: dict[str, list[MetricChange]], d: VersionDiff, unit: str,
                  classes: list[str] | None, *, compared: bool = True) -> Table:  # fmt: skip
    """``diff``'s figures on both sides, with their change and whether their intervals
    overlap where the versions predict the same outcome (and ``compared``: figures of the same
    patients' kind); ``changes`` by site (``""``: the version's own figures, in a table
    without a site column)."""
    compared = compared and d.same_question is not False
    table = Table(title=title)
    by_site = list(changes) != [""]
    columns = ("metric", d.a, d.b, "change", "CIs overlap") if compared else ("metric", d.a, d.b)
    for column in columns:  # an interval is wrapped, never cut short
        table.add_column(column, overflow="fold", min_width=13 if column in (d.a, d.b) else None)
    for site, metrics in changes.items():
        if by_site:  # the site's own row, its figures below it (a column of sites left the
            table.add_section()  # intervals too narrow to read)
            table.add_row(_site_cell(site, metrics, unit), *[""] * (len(columns) - 1))
        for m in metrics:
            if by_site and m.is_same_count:  # said beside the site's name
                continue
            a_text, b_text, change = change_cells(m)
            overlap = {True: "yes", False: "no", None: "-"}[m.overlap]
            label = metric_label(m.name, unit, classes)
            cells = ("  " * by_site + label, a_text, b_text)
            table.add_row(*cells, *((change, overlap) if compared else ()))
    return table


def _site_cell(site: str, metrics: list[MetricChange], unit: str) -> str:
    """A site's name, with its held-out count where both versions were tested on as many
    (``Hungary (89 patients, 32 positive)``): a row of ``+0`` for it said nothing."""
    same = {m.name: int(m.a.value) for m in metrics if m.is_same_count and m.a is not None}
    if "n" not in same:
        return site
    positive = f", {same['n_positive']} positive" if "n_positive" in same else ""
    return f"{site} ({same['n']} {unit}{positive})"


def _other_sites(d: VersionDiff) -> str | None:
    """Why two federated versions' means over sites cannot be compared: they average other
    sites (``"St Mary" in fed@1 only``); None where both trained on the same sites."""
    sites = next((c for c in d.training if c.key == "sites"), None)
    if sites is None or not isinstance(sites.a, list) or not isinstance(sites.b, list):
        return None
    only = [f"{listed(sorted(set(mine) - set(theirs)))} in {ref} only"
            for ref, mine, theirs in ((d.a, sites.a, sites.b), (d.b, sites.b, sites.a))
            if set(mine) - set(theirs)]  # fmt: skip
    return (
        f"the figures of {d.a} and {d.b} are means over different sites ({'; '.join(only)}): "
        "their change would compare other patients, not the models, and is not shown; compare "
        "the sites both hold, below"
    )


def _print_metrics(console: Console, d: VersionDiff, unit: str, classes: list[str] | None) -> None:
    """``diff``'s metrics table: both sides with the same decimals, their change and whether
    their intervals overlap, and what that may and may not mean; for two versions predicting
    different outcomes, the figures side by side only (a change between them means nothing)."""
    compared = d.same_question is not False
    other_sites = _other_sites(d) or d.one_site_against_means
    if other_sites:  # a trial's means over three sites and over two read as "+0.005"
        console.print(f"warning: {other_sites}", markup=False)
    console.print(_metric_table("metrics", {"": d.metrics}, d, unit, classes,
                                compared=not other_sites))  # fmt: skip
    if d.site_metrics and d.one_site_against_means:  # one's figures there, the other's own
        (site,) = d.site_metrics
        console.print(f"at {site}, each on its own held-out patients:", markup=False)
        console.print(_metric_table(f"metrics at {site}", d.site_metrics, d, unit, classes))
    elif d.site_metrics:  # a federated adapter's figures: unweighted means, no interval
        console.print(
            "the metrics above are unweighted means of the sites' own figures (no interval); "
            "each site's, with its 95% interval, on its own held-out patients:"
        )
        console.print(_metric_table("metrics at each site", d.site_metrics, d, unit, classes))
    if not compared:
        return
    everywhere = [*d.metrics, *(m for changes in d.site_metrics.values() for m in changes)]
    overlapping = list(dict.fromkeys(metric_label(m.name) for m in everywhere if m.overlap))
    if overlapping:
        console.print(
            f"overlapping CIs for {', '.join(overlapping)}: these intervals cannot tell "
            f"{d.a} and {d.b} apart; overlap is not evidence that they perform the same"
        )
    if d.other_file:
        console.print(
            f"warning: {d.a} and {d.b} were measured on the rows at the same positions of two "
            "different data files: the same patients only if one file is a re-saved copy of "
            "the other (the registry keeps no test row's content to tell); else other "
            "patients, or other values, and the difference mixes model and data"
        )
    elif d.same_test_rows is False:
        console.print(
            f"warning: {d.a} and {d.b} were measured on different test rows (other patients, "
            "or the same patients' rows with other values, such as a column in other units): "
            "the difference mixes model and data"
        )
    elif d.same_test_rows is None and d.federated_refs:  # held-out patients stay at sites
        which = listed(list(d.federated_refs))
        whose = "its" if len(d.federated_refs) == 1 else "their"
        console.print(
            f"note: {which} {'was' if len(d.federated_refs) == 1 else 'were'} tested at {whose} "
            "sites, on held-out patients the registry holds no record of: whether both "
            "versions were measured on the same patients cannot be told, and a change may mix "
            "model and data",
            markup=False,
        )
    elif d.same_test_rows is None:
        console.print(
            "note: the test rows of one or both versions are not recorded: the metrics "
            "may not be comparable"
        )


@registry_app.command("promote")
def promote_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@N or NAME@latest (with --clear: NAME).")],
    clear: Annotated[
        bool, typer.Option("--clear", help="Serve no version of NAME any more.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Serve it even where a version of another name serves the same group (that "
            "one is no longer served), or where it reads other fields than the version it "
            "replaces (clients sending the old fields are refused).",
        ),
    ] = False,
    despite_warnings: Annotated[
        bool,
        typer.Option(
            "--despite-warnings",
            help="Serve it even where its recorded test result shows harm (ranked backwards, "
            "old classes forgotten, worse than the base model alone, every test patient "
            "called one class).",
        ),
    ] = False,
) -> None:
    """Mark a version (REF: NAME@N or NAME@latest; with --clear: NAME) as the one to serve (a
    running server picks it up). One adapter per group: a version for a group another name
    already serves is refused (--force serves it in that one's place). A version whose test
    result shows harm is refused (--despite-warnings serves it all the same).

    Example: medadapt registry --root hospital-registry promote pneumonia@2
    """
    reg = open_registry(ctx)
    if clear:
        if "@" in ref:
            raise RegistryError(f"promote --clear takes a NAME, not {ref!r}")
        if not reg.list(ref):
            _unknown_name(reg, ref)
        was = reg.demote(ref)
        typer.echo(f"{ref} is no longer served (was {was.ref})" if was else f"{ref} was not served")
        return
    target = reg.get(ref)
    # the harm it is refused for, or (--despite-warnings) served despite: in the audit log
    overridden = unfit_reason(target, summaries(_manifest(reg, target)))
    if overridden is not None and not despite_warnings:
        raise unfit_refusal(target, overridden)
    served = reg.promoted(target.name)
    dropped, added = fields_dropped(reg.root, target, served)
    if dropped and not force:
        raise RegistryError(fields_refused(target, served, dropped, added))
    spelled = registry_command(ctx, "").rstrip()
    promotion = reg.promote(ref, on_group_clash="replace" if force else "refuse", spelled=spelled,
                            despite=overridden)  # fmt: skip
    v, was = promotion.version, promotion.previous
    note = missing_base_note(reg.root, v.base_fingerprint["weights"], v.ref)
    if was is not None and was.ref == v.ref:  # its warnings were said when it was promoted
        typer.echo(f"{v.ref} was already the version of {v.name} to serve; nothing changed")
        if note:
            warn(note.removeprefix("note: "))
        return
    instead = f" (in place of {was.ref})" if was is not None else ""
    typer.echo(f"promoted {v.ref}: it is now the version of {v.name} to serve{instead}")
    for other in promotion.demoted:  # what this promotion stopped serving, as it did
        group = v.data_summary.get("group")
        typer.echo(
            f"{other.name} is no longer served (was {other.ref}): {v.ref} serves group "
            f"{str(group)!r} in its place"
        )
    for other, outcome in served_for_other_outcomes(reg.root, v, reg.promoted_versions().values()):
        typer.echo(
            f"note: {other.ref} also serves group {str(v.data_summary.get('group'))!r}, for "
            f"another outcome ({outcome!r}): a request naming only the group cannot say which "
            "it wants and is refused (409); name the adapter in 'adapter'"
        )
    if dropped:  # --force: served all the same
        warn(f"clients of {v.name} that send {served.ref}'s fields {listed_fields(dropped)} "
             f"({len(dropped)}) are now refused (422): {v.ref} does not read them")  # fmt: skip
    elif added:
        typer.echo(f"note: {v.ref} reads {plural(len(added), 'field')} "
                   f"{served.ref} did not "
                   f"({listed_fields(added)}): a request without them is scored with them "
                   "missing, its note naming them")  # fmt: skip
    if note:  # promoted to serve what no server can load: a warning, not a note
        warn(note.removeprefix("note: "))
    same = None if was is None or was.ref == v.ref else where_tested(reg.diff(was.ref, v.ref))
    diff = registry_command(ctx, "diff")
    against = versus_base_warnings(summaries(_manifest(reg, v))["versus_base"])
    warned, noted = promotion_messages(v, was, same_test_rows=same, diff=diff,
                                       versus_base_warnings=against)  # fmt: skip
    for line in warned:
        warn(line)
    for line in noted:
        typer.echo(f"note: {line}")
    if was is not None and was.base_fingerprint["weights"] != v.base_fingerprint["weights"]:
        typer.echo(other_base_note(  # a trial's promote of another base's: an answer moved
            v, was, ", served until now",
            "the same patient's answer can change however alike their figures"))  # fmt: skip


@registry_app.command("rm")
def rm_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@N (or NAME with --all).")],
    all_versions: Annotated[bool, typer.Option("--all", help="Remove every version.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove the promoted version.")
    ] = False,
) -> None:
    """Remove a version (REF: NAME@N, or NAME with --all); its number is never reused.

    Example: medadapt registry --root hospital-registry rm pneumonia@1
    """
    reg = open_registry(ctx)
    if all_versions and "@" in ref:
        raise RegistryError(f"rm --all takes a NAME (every version), not {ref!r}")
    spelled = registry_command(ctx, "").rstrip()
    gone = (reg.remove_all(ref, force=force) if all_versions
            else [reg.remove(ref, force=force, spelled=spelled)])  # fmt: skip
    typer.echo(f"removed {', '.join(v.ref for v in gone)}")
    served = next((v for v in gone if v.promoted), None)
    if served is None:
        return
    left = reg.list(served.name)
    if left:  # the newest one left, as the example of what to promote
        typer.echo(
            f"{served.name} now has no served version ({served.ref} was); serve another "
            f"with '{registry_command(ctx, 'promote')} {left[-1].ref}'"
        )
    else:
        typer.echo(f"{served.name} now has no served version ({served.ref} was) and no versions")


@registry_app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(help="One version (default: all).")] = None,
) -> None:
    """Check every file of every version (or of REF) against its SHA-256 (exits non-zero on
    damage).

    Example: medadapt registry --root hospital-registry verify
    """
    reg = open_registry(ctx)
    report = reg.verify(ref)
    for problem in [*report.problems, *report.base_problems]:
        typer.echo(problem, err=True)
    if report.ok:
        bases = f" and {plural(len(report.bases), 'base model')}" if report.bases else ""
        typer.echo(f"ok: {plural(len(report.checked), 'version')}{bases} verified")
    # what gc removes, keeps and leaves: said whether or not verification failed
    for line in tmp_lines(report, reg.objects.tmp, registry_command(ctx, "gc")):
        typer.echo(line)
    if report.strangers:
        typer.echo(strangers_line(reg.objects.objects, report.strangers))
    unservable = _without_base(reg, report.checked) if report.ok else []  # (else: said above)
    if unservable:  # a trial's imported version: "ok" and nothing more, though none can serve it
        add_base = registry_command(ctx, "add-base")
        bases = ("the base model it was trained on is" if len(unservable) == 1
                 else "the base models they were trained on are")  # fmt: skip
        typer.echo(f"note: {listed_refs(unservable)} cannot be served: {bases} not registered "
                   f"here; add it with '{add_base} BASE_DIR' (or import the adapter's export "
                   "made with --with-base)")  # fmt: skip
    if report.unkept_splits:  # said, not failed: add keeps none an adapter lacks, and says so
        typer.echo(_unkept_splits_note(ctx, reg, report.unkept_splits))
    if not report.ok:
        failed, fixes = [], []
        if report.problems:
            it = "it" if len(report.problems) == 1 else "them"
            failed.append(f"{len(report.problems)} of {plural(len(report.checked), 'version')}")
            fixes.append(f"repair {it} by adding {it} again, or remove {it}, as listed above")
        if report.base_problems:
            it = "it" if len(report.base_problems) == 1 else "them"
            failed.append(
                f"{len(report.base_problems)} of {plural(len(report.bases), 'base model')}"
            )
            fixes.append(f"add {it} again with '{registry_command(ctx, 'add-base')} BASE_DIR'")
        raise RegistryError(
            f"{' and '.join(failed)} failed verification (listed above); {'; '.join(fixes)}"
        )


def _unkept_splits_note(ctx: typer.Context, reg: Registry, refs: Sequence[str]) -> str:
    """``verify``'s note on versions added here whose split file the registry does not hold:
    what it would flag (rows or images), and the add that keeps it (the name, for one)."""
    from medadapt.registry.records import trained_samples

    kinds = {trained_samples(_manifest(reg, reg.get(ref))) for ref in refs}
    which = kinds.pop() if len(kinds) == 1 else "rows or images"
    names = {ref.rsplit("@", 1)[0] for ref in refs}
    name = names.pop() if len(names) == 1 else "NAME"
    add = registry_command(ctx, "add")
    they = "it" if len(refs) == 1 else "each"
    return (f"note: {listed_refs(list(refs))}: the registry holds no split file (which {which} "
            "trained it: never kept when added, or deleted from objects/), so served answers "
            f"cannot flag those {which} as in-sample; add {they} again with "
            f"'{add} ADAPTER_DIR --name {name}' from the adapter directory that has its "
            "split.json")  # fmt: skip


def _without_base(reg: Registry, refs: Sequence[str]) -> list[str]:
    """Those of the versions ``refs`` whose base model is not registered (one read of the
    index, in its order)."""
    wanted = set(refs)
    return [v.ref for v in reg.list() if v.ref in wanted
            and not has_base(reg.root, v.base_fingerprint["weights"])]  # fmt: skip


def listed_refs(refs: Sequence[str]) -> str:
    """``va@1``, ``va@1 and va@2``, ``va@1, va@2 and 3 more``."""
    return listed(refs) if len(refs) <= 3 else listed([*refs[:2], f"{len(refs) - 2} more"])


@registry_app.command("gc")
def gc_cmd(
    ctx: typer.Context,
    min_age: Annotated[
        float,
        typer.Option("--min-age", help="Keep tmp/ entries younger than this many seconds."),
    ] = GC_MIN_AGE_S,
) -> None:
    """Delete files no version uses (left by removals or interrupted writes; those younger
    than --min-age are kept, and counted) and damaged base copies add-base set aside; a file
    the registry did not write (an archive exported into objects/) is left, and named.

    Example: medadapt registry --root hospital-registry gc
    """
    from medadapt.checks import finite

    finite(min_age, "--min-age")  # inf would keep every leftover for ever
    if not min_age >= 0:  # NaN too: it could delete files another process is writing
        raise RegistryError(f"--min-age must be 0 or more seconds; got {min_age}")
    reg = open_registry(ctx)
    report = reg.gc(min_age_s=min_age)
    removed = [
        f"{plural(report.objects, 'unreferenced file')} ({human_size(report.bytes)})",
        plural(report.tmp, "leftover"),
        *([f"{base_copies(report.set_aside)} set aside by add-base"] if report.set_aside else []),
    ]
    typer.echo(f"removed {', '.join(removed)} and {plural(report.checkouts, 'stale checkout')}")
    if report.kept:  # young: a write may still be running
        it = "it" if report.kept == 1 else "them"
        typer.echo(
            f"kept {plural(report.kept, 'leftover')} younger than --min-age ({min_age:g} s) "
            f"in case a write is still running; once none is, "
            f"'{registry_command(ctx, 'gc')} --min-age 0' removes {it} now"
        )
    if report.strangers:
        typer.echo(strangers_line(reg.objects.objects, report.strangers))


@registry_app.command("log")
def log_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only events of this name.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many events.")] = 20,
    as_json: JsonFlag = False,
) -> None:
    """Show the audit log (of NAME, or all): who added, promoted, exported or removed what,
    and when.

    Example: medadapt registry --root hospital-registry log pneumonia
    """
    if limit < 1:
        raise RegistryError(f"--limit must be at least 1; got {limit}")
    reg = open_registry(ctx)
    events = reg.history(name, limit=min(limit, SQLITE_MAX_INT))  # more: every event
    if name is not None and not events:
        _unknown_name(reg, name)
    if as_json:
        echo_json([e.__dict__ for e in events])
        return
    table = Table(title="registry log")
    # an audit's time is never cut (it was "2026-12-04T03:1…" at 80 columns): the other
    # columns fold instead, whole, never ending in "…"
    table.add_column("when (UTC)", no_wrap=True, min_width=len("2026-12-04 03:22:07"))
    for column in ("who", "action", "version", "detail"):
        table.add_column(column, overflow="fold")
    for e in events:
        version = f"{e.name}@{e.version}" if e.version is not None else e.name
        table.add_row(logged_time(e.at), e.actor, e.action, version,
                      event_detail(e.action, e.detail or {}))  # fmt: skip
    table_console().print(table)


# export and import live in their own module (this one stays small); imported last, so that
# 'medadapt registry --help' lists them after the commands above (typer keeps that order)
from medadapt.cli import registry_transfer  # noqa: E402, F401
