"""``medadapt federate simulate``: federated adapter training over sites on Flower, in its
simulation engine (one node per site on this machine); only adapter weights, counts and
metrics travel between the sites and the server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from medadapt import checks
from medadapt.cli import inputs
from medadapt.cli.common import (
    new_directory,
    small_model_threads,
    status_progress,
    stdout,
    warn,
)
from medadapt.cli.main import app
from medadapt.cli.options import ADAPTER_OPTIONS, Shared, build_command, options_for
from medadapt.cli.printing import print_dropped, print_skipped, print_unread, warn_all
from medadapt.cli.usage import KEPT_WITH_THE_BASE, kept_with_the_base
from medadapt.cli.verbs import DATA, GROUP_COLUMN, ID_COLUMN, LABEL, SEED, probes
from medadapt.errors import ConfigError, DataError
from medadapt.evaluate.report.formatting import listed
from medadapt.results import BACKWARDS

federate_app = typer.Typer(
    help="Federated adapters across hospitals on Flower: only adapter weights travel.",
    no_args_is_help=True,
)
app.add_typer(federate_app, name="federate")

#: why a site of one outcome does not take part, where each command describes its sites
ONE_OUTCOME_SITE = (
    "A site whose labelled rows all have the same outcome is refused whole, deliberately: it "
    "could only pull the shared adapter toward that answer, and none of its figures could show "
    "it."
)
#: what a run writes in its --out: an earlier run's go with --force, even those this run does
#: not write (a trial's personalised/ adapters of a run with --personalise stayed beside a
#: run without it, byte for byte, as if it had made them)
RUN_OUTPUTS = ("adapter.json", "adapter.safetensors", "base", "federated.json", "personalised",
               "report.html", "split.json")  # fmt: skip
RUN = [
    Shared("method", str, "lora", "Adapter method: bottleneck, lora, dora, ia3 or head."),
    ADAPTER_OPTIONS,
    Shared("strategy", str, "fedavg", "fedavg | fedprox | fedadam | fedyogi."),
    Shared("rounds", int, 10, "Federated rounds."),
    Shared("local_epochs", int, 2, "Epochs each site trains per round."),
    Shared("lr", float | None, None, "Sites' learning rate (default: the modality's)."),
    Shared(
        "proximal_mu",
        float | None,
        None,
        "FedProx's proximal weight mu (--strategy fedprox; default 0.1).",
    ),
    Shared(
        "server_lr", float | None, None, "FedAdam / FedYogi's server learning rate (default 0.05)."
    ),
    Shared(
        "personalise",
        str,
        "none",
        "After the rounds each site also makes its own adapter, scored on the same held-out "
        "patients and kept at the site (simulation: OUT/personalised/SITE/): none | head (its "
        "own head, FedPer) | finetune (a local fine-tune) | recalibrate (the shared adapter, "
        "its predictions shifted to the outcome rate, or a measured outcome's mean, of the "
        "site's own training patients).",
    ),
    Shared(
        "dp_clip",
        float | None,
        None,
        "Differential privacy: clip each site's update to this norm (with --dp-noise).",
    ),
    Shared("dp_noise", float | None, None, "Differential privacy: Gaussian noise multiplier."),
    Shared("on_site_error", str, "stop", "A site that fails: stop | continue (without it)."),
    Shared("test_fraction", float, 0.3, "Share of each site's patients held out."),
    Shared(
        "split_column",
        str | None,
        None,
        "Use the data's own train/test assignment (a "
        "column of 'train' and 'test') instead of --test-fraction.",
    ),
    SEED,
    Shared("n_boot", int, 500, "Bootstrap resamples for the final per-site intervals."),
    Shared(
        "out", Path, ..., "Output directory: the adapter, federated.json, report.html.", ("--out",)
    ),
    Shared(
        "force",
        bool,
        False,
        "Write into an existing --out (an earlier run's files are replaced; other files stay).",
        ("--force",),
    ),
]
SIMULATE = [
    DATA,
    LABEL,
    GROUP_COLUMN,
    Shared(
        "groups",
        str,
        ...,
        "Comma-separated sites taking part (values of --group-column): one Flower node each. "
        + ONE_OUTCOME_SITE,
    ),
    Shared("base", Path | None, None, "The base model every site starts from.", ("--base",)),
    Shared(
        "base_groups",
        str | None,
        None,
        "Train the base first, on these groups (written to OUT/base), instead of --base.",
    ),
    ID_COLUMN,
    *RUN,
    Shared(
        "workers",
        int | None,
        None,
        "Sites trained at once (Flower's simulation actors; default: every CPU core this "
        "process may use).",
    ),
]
SERVER = [
    Shared("base", Path, ..., "The base model (each site holds a copy of it).", ("--base",)),
    Shared("groups", str, ..., "Comma-separated site names; each client passes one as --site."),
    Shared(
        "group_column",
        str | None,
        None,
        "The column naming the site in the sites' files "
        "(none: each site's file holds only its own rows).",
    ),
    *RUN,
    Shared(
        "host", str, "127.0.0.1", "Address the SuperLink listens on (0.0.0.0: every interface)."
    ),
    Shared("port", int, 9092, "Port of the SuperLink (the sites connect to it)."),
    Shared(
        "certificates",
        Path | None,
        None,
        "TLS: a folder with ca.crt, server.pem and server.key (required unless --insecure).",
    ),
    Shared("insecure", bool, False, "No TLS: for a trial on one machine only.", ("--insecure",)),
    Shared(
        "timeout",
        float,
        3600.0,
        "Seconds to wait for the run (the sites included; "
        "every site must have joined within half of it, else the missing ones are named).",
    ),
]
CLIENT = [
    Shared("server", str, ..., "HOST:PORT of the federation's SuperLink.", ("--server",)),
    Shared("site", str, ..., "This hospital's site name (one of the server's --groups)."),
    Shared("data", Path, ..., "This site's table (never leaves this machine). "
           + ONE_OUTCOME_SITE, ("--data",)),
    Shared("base", Path, ..., "This site's copy of the base model.", ("--base",)),
    Shared("root_certificates", Path | None, None, "TLS: the federation's CA certificate "
           "(ca.crt; required unless --insecure)."),
    Shared("insecure", bool, False, "No TLS: for a trial on one machine only.", ("--insecure",)),
    Shared("local_port", int | None, None, "Port of this node's local Flower API (default: a "
           "free one)."),
    Shared("allow_leak", str | None, None, "Keep these columns although each alone predicts "
           "the label almost perfectly in this site's rows (refused otherwise: a copy of the "
           "label, or recorded after the outcome)."),
    Shared("wait", float, 600.0, "Seconds this site keeps trying to reach the server (at the "
           "start, or after it stopped answering) before it leaves with an error."),
    Shared("out", Path | None, None, "Folder where this site keeps the federated adapter "
           "(federated/) and, when the server asks, its personalised one (personalised/); "
           "neither is sent.", ("--out",)),
    Shared("force", bool, False, "Write into an existing --out (its federated/ and "
           "personalised/ are replaced; other files stay).", ("--force",)),
]  # fmt: skip


def _run(values: dict[str, Any], **given: Any):
    """The FederatedRun the options describe (checked, by flag)."""
    from medadapt.federated.config import ON_SITE_ERROR, PERSONALISATION, STRATEGIES, FederatedRun

    values["method"] = inputs.method_cased(values["method"])  # LoRA, as the README writes it
    for name, choices in (
        ("strategy", STRATEGIES),
        ("personalise", PERSONALISATION),
        ("on_site_error", ON_SITE_ERROR),
    ):  # FedAvg, as papers write it
        values[name] = inputs.cased(values[name], choices)
    checks.one_of(values["method"], "--method", [m for m in inputs.methods() if m != "full"])
    checks.at_least(values["n_boot"], "--n-boot", 10)  # fewer resamples make no interval
    method_options = inputs.method_options(values["method"], values["adapter_options"])
    tuning = _strategy_tuning(values)
    return FederatedRun(
        sites=tuple(checks.names(values["groups"], "--groups", required=True)),
        method=values["method"],
        adapter_options=method_options,
        strategy=values["strategy"], rounds=values["rounds"], local_epochs=values["local_epochs"],
        lr=values["lr"], **tuning,
        personalise=values["personalise"], test_fraction=values["test_fraction"],
        split_column=values["split_column"], seed=values["seed"], n_boot=values["n_boot"],
        clipping_norm=values["dp_clip"], noise_multiplier=values["dp_noise"],
        on_site_error=values["on_site_error"], group_column=values["group_column"], **given,
    ).check()  # fmt: skip


def _strategy_tuning(values: dict[str, Any]) -> dict[str, float]:
    """``--proximal-mu`` / ``--server-lr`` when given, refused with a strategy that does not
    use them (they were silently ignored, and the record showed the default as if used)."""
    from medadapt.federated.results import USED_BY

    given = {}
    for name, strategies in USED_BY.items():
        if values[name] is None:
            continue
        if values["strategy"] not in strategies:
            flag, wanted = f"--{name.replace('_', '-')}", " or ".join(strategies)
            raise ConfigError(
                f"{flag} applies to --strategy {wanted}, not {values['strategy']}: drop {flag}, "
                f"or pass --strategy {strategies[0]}"
            )
        given[name] = values[name]
    return given


def _simulate(**values: Any) -> None:
    data, out, base = values["data"], values["out"], values["base"]
    inputs.require_data(data)
    if base is not None and values["base_groups"] is not None:
        raise ConfigError("--base and --base-groups are two ways to get a base model: pass one "
                          "of them")  # fmt: skip
    if base is None and values["base_groups"] is None:
        raise ConfigError("pass --base BASE (a trained base) or --base-groups X (train one here)")
    if values["group_column"] is None:  # without it every site would read every row
        raise ConfigError("--groups are values of a column: pass --group-column COL, the "
                          "column naming each row's site")  # fmt: skip
    checks.distinct_columns({"--label": values["label"], "--id-column": values["id_column"],
                             "--group-column": values["group_column"]})  # fmt: skip
    checks.cores(values["workers"], "--workers")
    kept = {"allow_leak": values["allow_leak"]} if values.get("allow_leak") else {}
    run = _run(values, base_dir=base or out / "base", data=data, label=values["label"],
               id_column=values["id_column"], options=kept)  # fmt: skip
    # (every site's node runs adapt's leak checks on its rows, with the columns kept so)
    if base is not None:
        modality = inputs.modality_of_base(base, data, probes(values))  # a folder of no base:
        # said with what to pass instead (base_kind)
    else:
        from medadapt.modalities.base import modality_for_data

        modality = modality_for_data(data, probes(values))
    # --lr is the sites' learning rate here, not an option of the base's training
    given = {name: value for name, value in values.items() if name != "lr"}
    options = options_for("train-base", modality, given, data).check("train-base", data=data)
    if base is None and modality.needs_label and not values["label"]:
        raise ConfigError(
            f"--label is required to train the base (--base-groups) on "
            f"{modality.source_name}: name the column holding the outcome"
        )
    notes = _check_sites(run, values, modality, options)
    inputs.check_not_inside(out, data, "--data")
    if base is not None:
        inputs.check_not_inside(out, base, "--base")
    inputs.check_outputs({}, {"--data": data, "--base": base}, ("--out", out))
    staged = new_directory(out, force=values["force"], markers={"federated.json": "a run"},
                           owned=RUN_OUTPUTS)  # fmt: skip
    small_model_threads(modality)
    with staged as staged_out:
        if base is None:
            run, base_warnings = _train_base_here(run, values, options, modality, staged_out)
            groups = listed(checks.names(values["base_groups"], "--base-groups"))
            base_warnings = [f"base model, on {groups}'s rows: {w}" for w in base_warnings]
            try:
                notes = _read_sites(run, options)  # now that there is a base to read them for
            except ConfigError:  # a site that cannot take part: the base's are said first
                warn_all(base_warnings)
                raise
            warn_all(_not_said_of_a_site(base_warnings, notes))
        warn_all([*run.round_notes(), *notes])  # before the rounds (and what adapt would say)
        with status_progress("federate (Flower simulation)") as step:
            from medadapt.federated.job import federate_job

            results = federate_job(run, staged_out, progress=step, notes=notes,
                                   workers=values["workers"])  # fmt: skip
    _print(results, out)


def _check_sites(run, values: dict[str, Any], modality, options) -> list[str]:
    """Every site is in the data, and the label is the base's, before Flower starts (a typo
    is one error line, not a failed round); with ``--base``, the options the base decided
    are its own. Returns the warnings to say before the rounds."""
    from medadapt.federated import leak_survey
    from medadapt.modalities.base import Reading
    from medadapt.workflows.splitting import select

    if values["base"] is None:
        base_groups = checks.names(values["base_groups"], "--base-groups")
        if modality.groups_in_columns and getattr(options, "positive_class", None) is not None:
            # judged on the base's rows (a table's: images judge the class on every image)
            # first: its error counts "the rows trained on" (a trial's counted the whole file)
            modality.read_training(run.data, options, Reading(
                run.label, run.group_column, tuple(base_groups), run.id_column,
                groups_flag="--base-groups"))  # fmt: skip
        reading = Reading(run.label, run.group_column, (), run.id_column)
        samples = modality.read_training(run.data, options, reading)
        select(samples, run.group_column, run.sites, what="--groups")
        select(samples, run.group_column, base_groups, what="--base-groups")
        # every leak at once, the base's and the sites', before the base trains
        leak_survey.refuse_leaks_before_the_base(run, modality, options, base_groups, samples)
        _refuse_small_sites(run, modality, samples)  # before the base trains, not after
        return []
    from medadapt.modalities.bundle import BaseModel

    base = BaseModel.load(run.base_dir, flag="--base")
    _refuse_what_the_base_decides(modality, base, options, values["id_column"])
    _check_label(modality, base.schema, run.label, run.data)
    leak_survey.refuse_leaks_at_sites(run, modality, base, options)  # every site's, at once
    return _read_sites(run, options)


def _refuse_what_the_base_decides(modality, base, options, id_column: str | None) -> None:
    """With ``--base``, how the label and the columns are read is the base's (kept with the
    model, as for ``adapt``): a ``train-base`` option (or ``--id-column``) given otherwise is
    refused by flag (each was ignored without a word); the base's own choice given again
    passes. ``--allow-leak`` applies to the sites' rows (their leak checks), with ``--base``
    too."""
    recorded = getattr(base.schema, "id_column", None)
    if id_column is not None and id_column != recorded:
        used = (f"the base's id column is used: --id-column {recorded}" if recorded else
                "the base was trained without one: each row is its own patient")  # fmt: skip
        raise ConfigError(_kept_with_the_base("--id-column", used))
    shaping = options.shaping_a_new_base()
    for flag, value in shaping.items():
        decided = modality.differs_from_base(base, flag, value)
        if decided is None:  # the base's own choice, given again
            continue
        used = _BASE_DECIDES.get(flag, "the base's own setting is used")
        raise ConfigError(_kept_with_the_base(flag, f"{used}: {decided}" if decided else used))
    for flag in options.given():
        if flag == "--epochs":  # a trial set a run's length with it, not with --local-epochs
            raise ConfigError(
                "--epochs sets how long a base trained here (--base-groups) trains; with --base, "
                "set how many epochs each site trains per round with --local-epochs"
            )
        if flag not in shaping and flag not in _THE_SITES_USE:
            raise ConfigError(
                f"{flag} applies to a base trained here (--base-groups); with --base each site "
                "reads its data as the base says, so it would change nothing: drop it"
            )


#: options of the sites' reading that apply with --base too (each site's leak checks)
_THE_SITES_USE = ("--allow-leak",)
_ARCHITECTURE = "the base's architecture is used"
#: what is used instead of a ``train-base`` option given with ``--base`` (adapt's words)
_BASE_DECIDES = {
    **KEPT_WITH_THE_BASE,
    **dict.fromkeys(("--d-token", "--n-blocks", "--n-heads", "--backbone", "--backbone-options"),
                    _ARCHITECTURE),
}  # fmt: skip


def _kept_with_the_base(flag: str, used: str) -> str:
    """``adapt``'s refusal of a ``train-base`` option, in ``federate simulate``'s words."""
    return kept_with_the_base(flag, "federate simulate", used, when=" with --base",
                              new_base=f"it (--base-groups instead of --base, or train-base "
                              f"{flag})")  # fmt: skip


def _check_label(modality, schema, label: str | None, data: Path) -> None:
    """``--label`` is the base's; where the data has no column of the base's label either,
    the data is not what the base predicts from (naming the base's label would only lead to
    "no label column")."""
    from medadapt.workflows.base_label import check_label

    try:
        check_label(modality, schema, label)
    except DataError:
        from medadapt.data.option_words import COMMAND_LINE
        from medadapt.data.tables import read_table

        predicted = schema.label
        if predicted in read_table(data, words=COMMAND_LINE).columns:
            raise
        raise DataError(
            f"the base model predicts {predicted!r}, not {label!r}, and --data {data} has no "
            f"column {predicted!r}: this data is not what the base was trained for; pass a "
            f"--base that predicts {label!r}, or train one here with --base-groups instead of "
            "--base"
        ) from None


def _read_sites(run, options) -> list[str]:
    """Every site's samples read as its node reads them (:func:`~medadapt.federated.sites.
    pre_round_notes`): the warnings to say before the rounds; a site that cannot take part
    refused by flag (``--on-site-error stop``)."""
    from medadapt.federated.sites import SiteError, pre_round_notes

    try:
        return pre_round_notes(run, options)
    except SiteError as error:
        raise _site_refused(error) from None


def _site_refused(error: Exception) -> ConfigError:
    return ConfigError(
        f"{error} (or leave the site out of --groups, or pass --on-site-error continue to go "
        "on without it)"
    )


def _refuse_small_sites(run, modality, samples) -> None:
    """A site with too few labelled samples to train and test an adapter, or whose samples
    all have one outcome, refused before the base is trained here (a trial's 5-row site, and
    another's all-benign site, were refused after the base had trained); with
    ``--on-site-error continue`` it is left out when the sites are read."""
    import numpy as np

    from medadapt.federated.sites import (
        MIN_SITE_SAMPLES,
        SiteError,
        one_outcome_words,
        too_few_to_take_part,
    )
    from medadapt.workflows.splitting import select

    if run.on_site_error != "stop":
        return
    schema = getattr(samples, "schema", None)  # the probe's: the classes, as the base's
    for site in run.sites:
        rows = select(samples, run.group_column, [site], what="--groups")
        if len(rows) < MIN_SITE_SAMPLES:
            raise _site_refused(SiteError(site, too_few_to_take_part(len(rows), modality.noun)))
        labels = np.asarray(samples.labels)[rows]
        only = None if schema is None else modality.only_class(schema, labels)
        if only is not None:  # (a trial's was refused after the base had trained, 29 s)
            words = modality.one_class_words(schema, only)
            raise _site_refused(SiteError(site, one_outcome_words(words, modality.noun)))


def _check_base_folder(base: Path) -> None:
    """A ``--base`` folder that holds no base model, said before any other check, with what
    to pass instead (:func:`~medadapt.modalities.bundle.base_folder_hint`); a missing one is
    left to the base's loader."""
    base = Path(base)
    if base.is_dir() and not (base / "model.json").is_file():
        from medadapt.modalities.bundle import base_folder_hint

        raise DataError(f"--base {base} holds no model.json: {base_folder_hint(base, '--base')}")


def _server(**values: Any) -> None:
    from medadapt.federated import deploy
    from medadapt.modalities.bundle import BaseModel

    base, out, certificates = values["base"], values["out"], values["certificates"]
    _check_base_folder(base)
    checks.port(values["port"])
    checks.positive(values["timeout"], "--timeout")
    if values["insecure"] and certificates is not None:
        raise ConfigError("--insecure and --certificates contradict each other: drop one")
    deploy.check_certificates(certificates, values["insecure"])
    if certificates is not None:
        certificates = Path(certificates).resolve()  # Flower's tools run elsewhere
        deploy.check_server_names(certificates, deploy.local_address(values["host"]))
    fingerprint = BaseModel.load(base, flag="--base").fingerprint.weights
    run = _run(values, base_dir=Path(base).resolve(), data=None, label=None,
               base_fingerprint=fingerprint, join_timeout=values["timeout"] / 2)  # fmt: skip
    inputs.check_not_inside(out, base, "--base")
    inputs.check_outputs({}, {"--base": base, "--certificates": certificates}, ("--out", out))
    staged = new_directory(out, force=values["force"], markers={"federated.json": "a run"},
                           owned=RUN_OUTPUTS)  # fmt: skip
    if values["insecure"]:
        warn(_insecure_server_words(values["host"]))
    warn_all(run.round_notes())
    with staged as staged_out:  # one line per site joined and per round (a service's log too)
        results = deploy.run_server(
            run, Path(staged_out).resolve(), host=values["host"], port=values["port"],
            certificates=certificates, insecure=values["insecure"], timeout=values["timeout"],
            say=lambda line: stdout.print(line, markup=False, highlight=False),
        )  # fmt: skip
    warn_all(results.get("site_notes", []))  # a site's kept leak: in report.html only, before
    _print(results, out)


def _client(**values: Any) -> None:
    from medadapt.federated import deploy
    from medadapt.federated.site_node import SiteNode

    inputs.require_data(values["data"])
    _check_server_address(values["server"])
    if not values["site"].strip():
        raise ConfigError("--site is empty: name this hospital's site, one of the server's "
                          "--groups")  # fmt: skip
    if values["local_port"] is not None:
        checks.port(values["local_port"], "--local-port")
    checks.finite(values["wait"], "--wait")
    checks.positive(values["wait"], "--wait")
    roots = values["root_certificates"]
    if roots is not None and values["insecure"]:
        raise ConfigError("--insecure and --root-certificates contradict each other: drop one")
    if roots is not None and not Path(roots).is_file():
        raise ConfigError(f"--root-certificates {roots} is not a file: pass the federation's "
                          "ca.crt")  # fmt: skip
    if roots is not None:
        from medadapt.federated.deploy import check_root_certificates

        check_root_certificates(Path(roots))  # Flower's SuperNode would die, the client wait
    if not values["insecure"] and values["root_certificates"] is None:
        raise ConfigError(
            "--root-certificates ca.crt is required (TLS is on by default); or pass --insecure "
            "(unencrypted, for a trial on one machine)"
        )
    from medadapt.federated.sites import preflight
    from medadapt.fileio import check_output_dir, other_outputs

    out = values["out"]
    inputs.check_name_length(out, "--out")
    check_output_dir(out, flag="--out", force=values["force"],
                     markers={"federated/adapter.json": "a federated adapter"},
                     foreign=other_outputs("federated/adapter.json"))  # fmt: skip
    if out is not None:
        inputs.check_not_inside(out, values["data"], "--data")
        inputs.check_not_inside(out, values["base"], "--base")
    _check_base_folder(values["base"])
    checked = preflight(Path(values["data"]), Path(values["base"]), values["site"],
                        values["allow_leak"])  # fmt: skip
    warn_all(checked.notes)  # on this hospital's terminal only: its data never leaves
    print_unread(checked.unread_columns)  # left out without a word before
    if values["insecure"]:
        warn("--insecure: this site's adapter weights and metrics travel unencrypted")
    port = values["local_port"] or deploy.free_port()
    kept = (f"keeps the adapters in {out}" if out else
            "keeps no adapter here (pass --out DIR to keep them)")  # fmt: skip
    stdout.print(f"site {values['site']}: {checked.n} labelled {checked.noun}; {kept}; joining "
                 f"{values['server']} (Ctrl-C to leave)")  # fmt: skip
    # the node's private folder is made last: its run removes it however it ends
    node = SiteNode(SiteNode.private_folder(), server=values["server"], wait=values["wait"],
                    say=lambda line: stdout.print(line, markup=False, highlight=False))  # fmt: skip
    command = deploy.supernode_command(
        values["server"], values["site"], Path(values["data"]).resolve(),
        Path(values["base"]).resolve(), port=port, keep_in=out and Path(out).resolve(),
        events=node.events_path, wait=values["wait"],
        root_certificates=values["root_certificates"], insecure=values["insecure"],
        allow_leak=values["allow_leak"],
    )  # fmt: skip
    node.run(command, deploy.flower_env())
    stdout.print(_finished(out and Path(out)), markup=False, highlight=False)


def _finished(out: Path | None) -> str:
    """What the site says when the run it took part in has ended."""
    from medadapt.federated.personal import PERSONAL_FOLDER, SHARED_FOLDER

    kept = [f"{out / name}/" for name in (SHARED_FOLDER, PERSONAL_FOLDER)
            if out is not None and (out / name / "adapter.json").is_file()]  # fmt: skip
    where = f"kept {' and '.join(kept)}" if kept else "kept no adapter here"
    return f"the run finished; {where}; this site left the federation"


def _insecure_server_words(host: str) -> str:
    """The warning of ``server --insecure``: on a host other sites' machines can reach (a
    trial's ``--host 0.0.0.0`` got the same mild line as loopback), that anyone on the
    network can read what travels, and join.

    >>> _insecure_server_words("127.0.0.1")
    "--insecure: the sites' adapter weights and metrics travel unencrypted"
    """
    import ipaddress

    said = "--insecure: the sites' adapter weights and metrics travel unencrypted"
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = host.lower() == "localhost"
    if loopback:
        return said
    where = "every interface" if host in ("0.0.0.0", "::") else host
    return (
        f"{said}, and the server listens on {where} (--host {host}): anyone on that network "
        "can read them, or join as a site; use TLS (--certificates, made by 'medadapt "
        "federate certificates') beyond a trial on one machine"
    )


def _check_server_address(server: str) -> None:
    """``--server`` is HOST:PORT (no scheme: TLS comes from --root-certificates)."""
    if "://" in server:
        raise ConfigError(f"--server {server!r} must be HOST:PORT, without a scheme (TLS is "
                          "set by --root-certificates or --insecure)")  # fmt: skip
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--server {server!r} must be HOST:PORT (the server's --host and "
                          "--port)")  # fmt: skip
    if not 1 <= int(port) <= 65535:
        raise ConfigError(f"--server {server!r}: {port} is not a TCP port number (1-65535)")
    _check_host_resolves(server, host.strip("[]"), int(port))


def _check_host_resolves(server: str, host: str, port: int) -> None:
    """Refuse a host name that does not exist now, not after ``--wait`` seconds of retrying
    (a trial's README example, ``fl.example.org``, waited its 600 s); a name server that does
    not answer (a network down for a while) is left to the retries."""
    import socket

    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        unknown = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
        if exc.errno in unknown:
            raise ConfigError(
                f"--server {server!r}: the host name {host!r} does not resolve (no such name): "
                "check it, or pass the server's IP address"
            ) from None


def _not_said_of_a_site(base_warnings: list[str], notes: list[str]) -> list[str]:
    """The base's training warnings but those a site's note repeats (a base trained on one
    site's rows warns of them as that site's note does: ``site Cleveland: 4 of 304 rows
    ...``), each said once."""
    from medadapt.data.leaks import UNNEEDED_FLAG

    of_sites = {note.split(": ", 1)[1] for note in notes if note.startswith("site ")}
    said = [w.split(": ", 1)[1] if w.startswith("base model, on ") else w for w in base_warnings]
    kept_at_sites = any(n.startswith("site ") and "kept because of " in n for n in notes)
    unneeded = UNNEEDED_FLAG  # for the base's rows: a trial was told so, then
    instead = (
        f"{unneeded} for the base's training rows; the sites named below keep the "
        "columns because of it"
    )  # that the sites' checks kept them because of it
    kept = [w for w, bare in zip(base_warnings, said, strict=True) if bare not in of_sites]
    return [w.replace(unneeded, instead) if kept_at_sites and w.endswith(unneeded) else w
            for w in kept]  # fmt: skip


def _train_base_here(run, values, options, modality, out: Path):
    """``run`` with a base trained now on ``--base-groups`` (in ``out/base``), saying what
    ``train-base`` says of the data (identifiers left out, "not measured" codes ...), and
    its warnings, to say once the sites' are known (:func:`_not_said_of_a_site`)."""
    from dataclasses import replace

    from medadapt.federated.leak_survey import BASE_TEST_FRACTION
    from medadapt.workflows.train_base import train_base_job

    groups = checks.names(values["base_groups"], "--base-groups")
    with status_progress(f"base model on {', '.join(groups)}") as step:
        summary = train_base_job(
            modality=modality, data=run.data, out=out / "base", options=options,
            label=run.label, group_column=run.group_column, groups=groups,
            id_column=run.id_column, seed=run.seed, progress=step,
            test_fraction=BASE_TEST_FRACTION,  # the split its leaks were judged on
        )  # fmt: skip
    print_skipped(summary, listed_by=None)  # federate has no --json to list them all
    if "dropped_columns" in summary:
        print_dropped(summary["dropped_columns"], summary["identifiers"])
    return replace(run, base_dir=out / "base"), summary["warnings"]


def _print(results: dict[str, Any], out: Path) -> None:
    from medadapt.cli.common import print_table
    from medadapt.federated.compared import (
        figure_label,
        legend,
        measured,
        scored_sites,
        shown_columns,
    )
    from medadapt.federated.config import PERSONAL_LABELS
    from medadapt.federated.deploy import LOGS
    from medadapt.federated.report import what_ran
    from medadapt.federated.results import finite
    from medadapt.federated.site_figures import figure_cell
    from medadapt.federated.site_lines import (
        failure_lines,
        no_auroc_line,
        privacy_line,
        run_lines,
    )
    from medadapt.federated.verdicts import verdict_lines

    results = finite(results)  # a metric not defined at a site (NaN) shows as a dash
    shown = shown_columns(results)  # the report's columns; their short names fit 80 columns
    stdout.print(f"{what_ran(results)}. Each site's held-out patients, with 95% intervals:",
                 markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    # every model's AUROC too: accuracy at 0.5 alone rewards calling everyone one class
    tables = (("accuracy", figure_label("accuracy", results)), ("auroc", "AUROC"))
    if measured(results):  # a measured value's sites sent MAE, RMSE and R² instead
        tables = (("mae", "MAE (lower is better)"), ("r2", "R²"))
    for metric, title in tables:
        for part, columns in _table_parts(shown):  # as the report's (a dash for no figure)
            rows = [[name, site["n_test"], *(figure_cell(site.get(key) or {}, metric, "–")
                                             for key, _ in columns)]
                    for name, site in scored_sites(results).items()]  # fmt: skip
            print_table(f"{title}{part}", ["site", "n", *(label for _, label in columns)], rows)

    stdout.print(legend(results["config"], [key for key, _label in shown], results.get("task")),
                 markup=False,
                 highlight=False)  # fmt: skip
    for line in run_lines(results):  # the outcome, the base, each site's patients
        stdout.print(line, markup=False, highlight=False)
    for name, site in results["sites"].items():
        if site["n_test"] and site["federated"].get("auroc") is None:
            stdout.print(no_auroc_line(name, site, (results.get("base_model") or {}).get(
                "classes")), markup=False, highlight=False)  # fmt: skip

    for line in failure_lines(
        results["failures"],
        results["config"]["rounds"],
        results.get("sites_trained", []),
        results.get("site_notes", []),
    ):
        warn(line)
    for line in verdict_lines(results):
        stdout.print(line, markup=False, highlight=False)
    if results.get("kept"):
        how = PERSONAL_LABELS[results["config"]["personalise"]]
        folders = ", ".join(f"{out}/{folder}/" for folder in results["kept"].values())
        stdout.print(f"each site's {how} adapter is kept (use it with --adapter): {folders}"
                     f"{_unmeasured_kept(results)}{_backwards_kept(results)}", markup=False,
                     highlight=False)  # fmt: skip
    if said := privacy_line(results):  # on the terminal too, not only in report.html
        stdout.print(said, markup=False, highlight=False, soft_wrap=True)
    sizes = results["bytes"]
    logs = [name for name in LOGS if (out / name).is_file()]  # a server's, kept with its run
    kept = f" (with Flower's logs of the run: {', '.join(logs)})" if logs else ""
    total = "" if "run_to_sites" not in sizes else (
        f"; {sizes['run_to_sites']:,} bytes to the sites and {sizes['run_from_sites']:,} back in "
        "all (training and evaluation)")  # fmt: skip
    stdout.print(
        f"{sizes['adapter_to_site']:,.0f} bytes of adapter per site per training round "
        f"({sizes['share_of_full_model']:.1%} of full-model FedAvg){total}; the rounds took "
        f"{results['seconds']:.0f} s in Flower; wrote {out}{kept}"
    )


def _backwards_kept(results: dict[str, Any]) -> str:
    """``; but Ward2's ranks its held-out patients backwards: do not use it`` for each kept
    personalised adapter whose site's figures say so (a trial was told "do not use it here as
    it is", then that it "is kept (use it with --adapter)"); empty where none does."""
    from medadapt.federated.verdicts import site_versus_base

    sites = {name: results["sites"].get(name, {}) for name in results["kept"]}
    backwards = [name for name, site in sites.items()
                 if BACKWARDS in ((site.get("personalised") or {}).get("notes") or {})]  # fmt: skip

    def worse_than_base(name: str, site: dict[str, Any]) -> bool:  # its own line's verdict
        found = site_versus_base(name, site, key="personalised_versus_base") or {}
        # where neither it nor the base beats the site's outcome shares, its line says so
        # and no "keep the base model" follows (a review)
        return found.get("verdict") == "worse" and not found.get("neither_beats_shares")

    worse = [name for name, site in sites.items()
             if name not in backwards and worse_than_base(name, site)]  # fmt: skip
    return (_kept_clause(backwards, "ranks its", "rank their",
                         "held-out patients backwards (see the warning above): do not use")
            + _kept_clause(worse, "does", "do", "worse than the base alone there (see above): "
                           "keep the base model instead of"))  # fmt: skip


def _kept_clause(names: list[str], one: str, many: str, what: str) -> str:
    """``; but Ward2's ranks its ...: do not use it`` of the kept adapters ``names`` (empty
    where none), ``one`` or ``many`` the verb for one or several."""
    if not names:
        return ""
    whose = " and ".join(f"{name}'s" for name in names)
    single = len(names) == 1
    return f"; but {whose} {one if single else many} {what} {'it' if single else 'them'}"


def _unmeasured_kept(results: dict[str, Any]) -> str:
    """``; Small's has no measured performance (...)`` for each site whose kept personalised
    adapter no figure was measured for (a trial's 8-patient site's was offered as the others
    were, its first warning at ``registry promote``); empty where each has one."""
    unmeasured = [
        (name, results["sites"].get(name, {}).get("n_test", 0)) for name in results["kept"]
        if not any(isinstance(v, float | int) and not isinstance(v, bool)
                   for k, v in (results["sites"].get(name, {}).get("personalised") or {}).items()
                   if not k.startswith("n"))
    ]  # fmt: skip
    if not unmeasured:
        return ""
    said = ", ".join(f"{name}'s ({n} held-out patients)" for name, n in unmeasured)
    one = len(unmeasured) == 1
    return (
        f"; {said} {'has' if one else 'have'} no measured performance (too few patients "
        f"for any figure): check {'it' if one else 'them'} on more patients before use"
    )


def _table_parts(shown: list[tuple[str, str]]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The compared models' columns in tables that fit 80 columns with every interval whole
    (three at most): a simulation's five (shared, personalised, local, pooled, base) as the
    federated adapters', then the references', each table's title saying which.

    >>> shown = [("federated", "shared"), ("personalised", "recalibrated"), ("local", "local"),
    ...          ("pooled", "pooled"), ("base", "base")]
    >>> [(part, [label for _, label in columns]) for part, columns in _table_parts(shown)]
    [(': federated', ['shared', 'recalibrated']), (': references', ['local', 'pooled', 'base'])]
    >>> _table_parts(shown[:1] + shown[-1:])
    [('', [('federated', 'shared'), ('base', 'base')])]
    """
    if len(shown) <= 3:
        return [("", shown)]
    federated = [c for c in shown if c[0] in ("federated", "personalised")]
    return [(": federated", federated), (": references", [c for c in shown if c not in federated])]


build_command(
    federate_app, "train-base", SIMULATE, _simulate,
    """Simulate federated adapter training: one Flower node per site on this machine.

    Each site trains the adapter on its own rows and scores it on its own held-out patients;
    only adapter weights, counts and metrics travel. Reported beside the base alone, an adapter
    per site on its own rows (local only) and one on every site's rows pooled.

    Example: medadapt federate simulate --data heart.csv --label num --positive-above 0
    --id-column id --group-column dataset --groups Cleveland,Hungary,Switzerland,"VA Long Beach"
    --base-groups Cleveland --missing-code chol=0,trestbps=0 --method lora --strategy fedavg
    --rounds 10 --out fed
    """,
    name="simulate",
    # train-base's words would not say which of --epochs and --local-epochs is which
    helps={"epochs": "Most epochs to train the base trained here (--base-groups; early "
           "stopping on validation decides within it; default: tables 200, images their "
           "method's). Each site's epochs per round: --local-epochs."},
)  # fmt: skip


build_command(
    federate_app,
    "federate-server",
    SERVER,
    _server,
    """Run the federation's server: a Flower SuperLink the hospitals' clients connect to.

    TLS is on by default (--certificates DIR with ca.crt, server.pem, server.key); each round
    the sites train the adapter on their own rows and send back only its weights, counts and
    metrics. Writes the adapter, federated.json and report.html to --out.

    Example: medadapt federate server --base base/ --groups Switzerland,"VA Long Beach"
    --certificates certs/ --rounds 10 --out fed
    """,
    name="server",
)
build_command(
    federate_app, "federate-client", CLIENT, _client,
    """Join a federation from a hospital: a Flower SuperNode for this site.

    The site's table and its copy of the base stay here; the server's adapter arrives, is
    trained on this site's rows, and only its weights, counts and metrics go back. With
    --out, the site keeps the final federated adapter and, when the server asks for
    --personalise, its own personalised one, for predict and evaluate here.

    Example: medadapt federate client --server fl.example.org:9092 --site "VA Long Beach"
    --data va.csv --base base/ --root-certificates certs/ca.crt --out kept-va
    """,
    name="client",
)  # fmt: skip


@federate_app.command("certificates")
def certificates(
    out: Path = typer.Option(..., "--out", help="Folder for ca.crt, server.pem, server.key."),
    host: list[str] = typer.Option(
        [],
        "--host",
        help="Names and addresses the sites reach the server by (comma-separated, or --host "
        "repeated); 127.0.0.1 and localhost are always named (the server reaches itself there).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace certificates already there."),
) -> None:
    """Make self-signed TLS certificates for a trial federation (a CA and a server
    certificate), valid for 30 days. A real federation uses the hospitals' own PKI.

    Example: medadapt federate certificates --out certs --host fl.example.org
    """
    from medadapt.federated.certificates import (
        LOOPBACK,
        TRIAL_DAYS,
        certificate_expiry,
        make_certificates,
    )
    from medadapt.federated.deploy import CERTIFICATES
    from medadapt.fileio import OUTPUT_KINDS, check_output_dir, other_kind

    inputs.check_name_length(out, "--out")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file: name a folder for the certificates")
    # never into another command's output (a trial's went into base/, which the README has
    # copied to every hospital: the server's private key with it), even with --force
    check_output_dir(out, flag="--out", force=True, foreign=OUTPUT_KINDS)
    copied = {m: OUTPUT_KINDS[m] for m in ("model.json", "adapter.json", "federated.json",
                                           "registry.sqlite")}  # fmt: skip
    for folder in out.resolve().parents:  # nor inside one (base/certs travels with base/)
        held = other_kind(folder, copied)
        if held:
            raise ConfigError(
                f"--out {out} is inside {folder}, which holds {held[1]}: the server's private key "
                "would travel with it wherever it is copied; write the certificates to a "
                "folder of their own"
            )
    given = [h.strip() for value in host for h in value.split(",") if h.strip()]
    for name in given:
        _check_host(name)
    hosts = tuple(dict.fromkeys([*given, *LOOPBACK]))  # the server submits its run there
    existing = [n for n in CERTIFICATES if (out / n).exists()]
    if existing and not force:
        raise ConfigError(f"--out {out} already holds {', '.join(existing)}: pass --force to "
                          "replace them")  # fmt: skip
    make_certificates(out, hosts)
    until = certificate_expiry(out / "server.pem").date().isoformat()  # as written
    stdout.print(f"wrote {out}/ca.crt (give it to each site), server.pem (for {', '.join(hosts)}) "
                 f"and server.key (keep them on the server); valid for {TRIAL_DAYS} days, until "
                 f"{until}: a trial's, not a federation's")  # fmt: skip


#: a DNS name a certificate can hold: dot-separated labels of letters, digits and hyphens
#: (a leading ``*.`` names every host of a domain)
_HOST_NAME = re.compile(r"(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                        r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?")  # fmt: skip


def _check_host(name: str) -> None:
    """``--host`` is a bare DNS name or IP address (checked before anything is written): a
    certificate names neither a scheme nor a port, and holds ASCII names only."""
    import ipaddress

    try:
        ipaddress.ip_address(name)
        return
    except ValueError:
        pass
    if not name.isascii():
        try:
            ascii_form = name.encode("idna").decode()
        except UnicodeError:
            raise ConfigError(f"--host {name!r} is not a valid host name; give a DNS name or an "
                              "IP address") from None  # fmt: skip
        raise ConfigError(f"--host {name} is not ASCII: a certificate names hosts in their ASCII "
                          f"(IDNA) form; pass --host {ascii_form}")  # fmt: skip
    if not _HOST_NAME.fullmatch(name) or len(name) > 253:
        raise ConfigError(f"--host {name!r} must be a bare host name or IP address, without a "
                          "scheme, port, path or spaces (e.g. fl.example.org)")  # fmt: skip
