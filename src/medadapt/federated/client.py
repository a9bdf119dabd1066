"""The site's side of the Flower app (a ``ClientApp``): train the adapter it receives on its
own samples, score adapters on its own held-out samples, and answer with weights, counts and
metrics only. A bad input at a site answers with that site's one-line error instead.

In simulation every node reads its site's rows of the shared file (``partition-id`` -> site);
in deployment the node's ``--node-config`` names its site and its local file.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from flwr.app import (
    ConfigRecord,
    Context,
    Error,
    Message,
    MessageType,
    MetricRecord,
    RecordDict,
)
from flwr.clientapp import ClientApp

from medadapt.checks import did_you_mean
from medadapt.errors import DataError, MedadaptError
from medadapt.federated.config import PERSONAL_LABELS, FederatedRun
from medadapt.federated.local import (
    BASE_ALONE,
    PERSONAL_VERSUS_BASE,
    VERSUS_BASE,
    LocalTraining,
    Trainable,
    not_compared,
    on_the_wire,
    paired_metrics,
    paired_with_base,
    site_metrics,
    train_locally,
)
from medadapt.federated.personal import Kept, keep_at_site, personalise, site_folder
from medadapt.federated.records import KEPT_LEAKS, leaks_sent
from medadapt.federated.site_events import (
    EVENTS_KEY,
    FINISHED,
    JOINED,
    NOT_OF_THIS_RUN,
    REFUSED,
    REFUSED_KEY,
    SCORED,
    TRAINED,
    tell,
)
from medadapt.federated.sites import (
    HOSPITAL_LEAK_ADVICE,
    SITE_LEAK_ADVICE,
    SiteData,
    check_site_rows,
    read_sites,
    site_kept_leaks,
    trainable,
)
from medadapt.federated.strategies import LOSS, PATIENTS_NAMED, SITE_INDEX
from medadapt.federated.verdicts import calibrated_at, site_versus_base
from medadapt.federated.wire import from_arrays, to_arrays
from medadapt.train.fitting import predict

_log = logging.getLogger("medadapt.federated.site")

SITE_ERROR = 1  # Error.code of a site's refusal (its reason is the one-line error)
FINGERPRINT = 12  # hex digits of a base's weights hash in a message (as the report shows it)


class NotOfThisRun(DataError):
    """A client the server should not count as a site: a ``--site`` not among the run's, or
    a ``--base`` other than the server's (the hospital may start it again, rightly)."""


@dataclass
class LocalSite:
    """One node's site: its base, samples and split, and the adapter model it trains (kept
    for the whole run); ``keep_in``: the folder its adapters are kept in, if any."""

    run: FederatedRun
    index: int
    data: SiteData
    data_path: Path
    trained: Trainable
    keep_in: Path | None
    # the columns its leak checks kept (--allow-leak), as a model records them: sent with its
    # join reply (names and statistics, never rows) and kept with its own adapters
    leaks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.run.sites[self.index]

    @property
    def modality(self) -> Any:
        return self.data.modality

    @property
    def schema(self) -> Any:
        return self.data.base.schema

    @property
    def classes(self) -> list[str]:
        return self.modality.classes(self.schema)

    @cached_property
    def train(self) -> Any:
        return self.data.train(self.name)

    @cached_property
    def test(self) -> Any:
        return self.data.test(self.name)


_SITES: dict[tuple, LocalSite] = {}  # per process: one read per site and run


def local_site(run: FederatedRun | None, context: Context) -> LocalSite:
    """This node's site, read once per process (deployment: the run comes with the message's
    run config, and the node names its site, its file, its copy of the base and where it
    keeps its adapters)."""
    run = run or FederatedRun.from_json(str(context.run_config["run"]))
    index, data = _which_site(run, context)
    keep_in = None
    if "base" in context.node_config:
        run = replace(run, base_dir=Path(str(context.node_config["base"])), data=data)
        keep_in = Path(str(context.node_config["out"])) if "out" in context.node_config else None
    elif run.sites_out is not None:
        keep_in = run.sites_out / site_folder(run.sites[index])
    key = (repr(run), index, str(data), str(context.node_config.get("allow_leak")))
    if key not in _SITES:
        read = read_sites(run, data, sites=[run.sites[index]])
        _check_same_base(run, read.base)
        deployed = "site" in context.node_config  # the refusal is said at the server
        options = _site_options(run, read.modality, context)
        check_site_rows(read, options, fix=HOSPITAL_LEAK_ADVICE if deployed else SITE_LEAK_ADVICE)
        trained = trainable(run, read.modality, read.base)
        _SITES[key] = LocalSite(run, index, read, data, trained, keep_in,
                                site_kept_leaks(read, options))  # fmt: skip
    return _SITES[key]


def _site_options(run: FederatedRun, modality: Any, context: Context) -> Any:
    """The options the site's leak checks read: the run's (simulation), or what the
    hospital's client kept deliberately (deployment: ``--allow-leak`` in its node config)."""
    options = dict(run.options)
    if "allow_leak" in context.node_config:
        options["allow_leak"] = str(context.node_config["allow_leak"])
    return modality.options(**options)


def _check_same_base(run: FederatedRun, base: Any) -> None:
    """A hospital's copy of the base is the server's (deployment), said by the weights'
    fingerprints: the refusal reaches the server's terminal and log, which must not learn
    where another hospital keeps its files."""
    if run.base_fingerprint and base.fingerprint.weights != run.base_fingerprint:
        raise NotOfThisRun(
            f"this site's --base (weights sha256 {base.fingerprint.weights[:FINGERPRINT]}) is "
            "not the base model the server federates (weights sha256 "
            f"{run.base_fingerprint[:FINGERPRINT]}): use a copy of the server's base"
        )


def _which_site(run: FederatedRun, context: Context) -> tuple[int, Path]:
    config = context.node_config
    if "site" in config:  # deployment: the hospital names its site and its file
        site = str(config["site"])
        if site not in run.sites:
            raise NotOfThisRun(
                f"--site {site!r} is not one of the run's sites ({', '.join(run.sites)}): "
                f"pass this hospital's name as the server's --groups spell it"
                f"{did_you_mean(site, run.sites)}"  # "Hungry": did you mean 'Hungary'?
            )
        return run.sites.index(site), Path(str(config.get("data", run.data)))
    return int(config["partition-id"]), Path(run.data)


def make_client_app(run: FederatedRun | None = None) -> ClientApp:
    """The ClientApp of ``run`` (every node of a simulation shares it); without ``run``, each
    message's run config says (deployment)."""
    app = ClientApp()

    @app.train()
    def train(message: Message, context: Context) -> Message:
        return _guarded(run, context, message, _train)

    @app.evaluate()
    def evaluate(message: Message, context: Context) -> Message:
        return _guarded(run, context, message, _evaluate)

    @app.query()
    def join(message: Message, context: Context) -> Message:
        return _guarded(run, context, message, _join)

    return app


def _guarded(run: FederatedRun | None, context: Context, message: Message, handle) -> Message:
    """``handle``'s reply, or the site's one-line error (:func:`error_reason`); in deployment
    each is also told to the hospital's own command (:mod:`~medadapt.federated.site_events`)."""
    events = context.node_config.get(EVENTS_KEY)
    try:
        site = local_site(run, context)
        reply = handle(site, message)
    except Exception as error:
        reason = error_reason(error)
        code = NOT_OF_THIS_RUN if isinstance(error, NotOfThisRun) else SITE_ERROR
    else:
        _tell_handled(events, site, message)
        return reply
    index = context.node_config.get("partition-id")
    name = context.node_config.get("site")
    if name is None:
        name = run.sites[int(index)] if run is not None and index is not None else "?"
    named = reason if reason.startswith(f"site {name}: ") else f"site {name}: {reason}"
    tell(events, REFUSED, reason=named)  # the hospital's own terminal: its paths as given
    return Message(Error(code, without_local_paths(named, context.node_config)), reply_to=message)


#: a hospital's own paths, as its client's node config names them, and how the server hears them
LOCAL_PATHS = {"data": "(this site's file)", "base": "(this site's copy of the base)",
               "out": "(this site's folder)"}  # fmt: skip


def without_local_paths(reason: str, config: Any) -> str:
    """``reason`` as the server is told it: each path a hospital's client was given (its
    ``--data``, ``--base``, ``--out``; a file name may say more than a site should, such as a
    ward's or a patient's name) in words; the hospital's terminal keeps them.

    >>> without_local_paths("--data /srv/ward7.csv has no column 'num'", {"data": "/srv/ward7.csv"})
    "--data (this site's file) has no column 'num'"
    """
    for key, words in LOCAL_PATHS.items():
        given = config.get(key) if hasattr(config, "get") else None
        if given:
            reason = reason.replace(str(given), words)
            resolved = str(Path(str(given)).resolve())
            reason = reason.replace(resolved, words) if resolved != str(given) else reason
    return reason


def _tell_handled(events: Any, site: LocalSite, message: Message) -> None:
    """The message handled, in counts, for the hospital's terminal."""
    if events is None:
        return
    config = message.content["config"]
    noun = site.modality.noun
    if message.metadata.message_type == MessageType.QUERY:
        tell(events, JOINED, site=site.name, n=len(site.train), n_test=len(site.test), noun=noun,
             counted=_counted_test(site))  # fmt: skip
    elif message.metadata.message_type == MessageType.TRAIN:
        round_ = int(config["server-round"])
        tell(events, TRAINED, round=round_, n=len(site.train), noun=noun)
    elif bool(config.get("final", 0)):
        tell(events, FINISHED, n=len(site.test), noun=noun, counted=_counted_test(site),
             personalised=site.run.personalise != "none")  # fmt: skip
    else:
        tell(events, SCORED, round=int(config["server-round"]), n=len(site.test), noun=noun)


def _patients_named(site: LocalSite) -> bool:
    """Whether the site's held-out samples name their patients: an id column, or for images
    a patient column or DICOM PatientID (an image's own file is no name: a review found
    every image site said to name them)."""
    test = site.test
    return test.known_patients() is not None and not site.modality.patients_unnamed(test)


def _counted_test(site: LocalSite) -> int:
    """The site's held-out samples as the figures' minimums count them: patients, where a
    patient has several (a review's 12 rows of 4 patients were said enough for figures)."""
    from medadapt.evaluate.sufficiency import count_patients

    return count_patients(site.test, (), site.modality.noun).total


def error_reason(error: Exception) -> str:
    """What the server is told of a site's failure (no traceback, no values): medadapt's own
    one-line message, or only the type of an unexpected error, whose message often quotes
    the value it failed on (``could not convert string to float: 'DOE^JOHN'``); that message
    and the traceback go to the site's own log."""
    if isinstance(error, MedadaptError):
        return str(error)
    _log.error("internal error at this site", exc_info=error)  # this site's log only
    return f"internal error {type(error).__name__} (details in the site's own log)"


def _join(site: LocalSite, message: Message) -> Message:
    """The server's first question: which site this node is (its data read and checked
    already, so a node that cannot take part is refused before any round, by name), with the
    columns its leak checks kept (names and statistics, never rows), where any."""
    config = message.content.config_records.get("config")
    if config is not None and REFUSED_KEY in config:  # a second client of a joined site
        raise NotOfThisRun(str(config[REFUSED_KEY]))
    metrics = {SITE_INDEX: site.index, "num-examples": len(site.train)}
    content = RecordDict({"metrics": MetricRecord(metrics)})
    if site.leaks:
        content["config"] = ConfigRecord({KEPT_LEAKS: leaks_sent(site.leaks)})
    return Message(content, reply_to=message)


def _train(site: LocalSite, message: Message) -> Message:
    run, config = site.run, message.content["config"]
    site.trained.load(from_arrays(message.content["arrays"]))
    server_round = int(config["server-round"])
    how = LocalTraining(epochs=run.local_epochs, lr=run.lr, batch_size=run.batch_size,
                        proximal_mu=float(config.get("proximal-mu", 0.0)),
                        seed=run.seed + 1000 * server_round + site.index)  # fmt: skip
    weights, loss = train_locally(site.modality, site.trained, site.schema, site.train, how)
    metrics = {"num-examples": len(site.train), LOSS: loss, SITE_INDEX: site.index}
    return Message(RecordDict({"arrays": to_arrays(weights), "metrics": MetricRecord(metrics)}),
                   reply_to=message)  # fmt: skip


def _evaluate(site: LocalSite, message: Message) -> Message:
    """The received adapter on the site's held-out samples; in the final round also the base
    alone and, when asked, the site's personalised adapter (with intervals), and the site
    keeps its adapters where it was told to."""
    run, config = site.run, message.content["config"]
    site.trained.load(from_arrays(message.content["arrays"]))
    final = bool(config.get("final", 0))
    n_boot = run.n_boot if final else 0
    score = dict(classes=site.classes, n_boot=n_boot, seed=run.seed)
    metrics: dict[str, float] = {
        "num-examples": len(site.test),
        SITE_INDEX: site.index,
        PATIENTS_NAMED: float(_patients_named(site)),
    }
    scores = predict(site.modality, site.trained.model, site.schema, site.test,
                     adapter=site.trained.adapter)  # fmt: skip
    shared = site_metrics(site.modality, site.schema, site.test, scores, **score)
    task = site.modality.task(site.schema)
    metrics.update(on_the_wire(shared, site.classes, task))
    if final:
        base_scores = predict(site.modality, site.data.base.model, site.schema, site.test,
                              adapter=None)  # fmt: skip
        base = site_metrics(site.modality, site.schema, site.test, base_scores, **score)
        metrics.update({f"{BASE_ALONE}{k}": v
                        for k, v in on_the_wire(base, site.classes, task).items()})  # fmt: skip
        paired = _paired_with_base(site, scores, base_scores, shared, n_boot=n_boot)
        metrics.update({f"{VERSUS_BASE}{k}": v for k, v in paired.items()})
        personalised = personal = personal_paired = None
        calibrated = False
        if run.personalise != "none":
            personalised = personalise(run, site.modality, site.schema, site.trained,
                                       site.train, site.index)  # fmt: skip
            weights = site.trained.weights()
            site.trained.load(personalised.weights)
            personal_scores = predict(site.modality, site.trained.model, site.schema, site.test,
                                      adapter=site.trained.adapter)  # fmt: skip
            site.trained.load(weights)
            personal = site_metrics(site.modality, site.schema, site.test, personal_scores,
                                    **score)  # fmt: skip
            sent = on_the_wire(personal, site.classes, task)
            metrics.update({f"personal/{k}": v for k, v in sent.items()})
            # the adapter the site keeps, against the base alone too (a trial's fine-tuned
            # adapter, the one it would use, had no verdict: only the shared one had)
            calibrated = calibrated_at({"personalise": run.personalise},
                                       site.modality.task(site.schema))  # fmt: skip
            personal_paired = _paired_with_base(
                site, personal_scores, base_scores, personal, n_boot=n_boot,
                # a recalibration moves the risks, not their order: judged on the Brier score
                # (a trial's recalibrated adapters repeated the shared one's AUROC verdict)
                calibrated=calibrated,
            )  # fmt: skip
            metrics.update({f"{PERSONAL_VERSUS_BASE}{k}": v for k, v in personal_paired.items()})
        if site.keep_in is not None and (personalised is not None or run.sites_out is None):
            # every figure the site's lines read (a review: the personalised adapter's line
            # quoted the shared one's Brier score, and the base's was missing)
            compared = {"n_test": len(site.test), "federated": shared, "base": base,
                        "personalised": personal, "versus_base": paired,
                        "personalised_versus_base": personal_paired}  # fmt: skip
            own = None if personal is None else site_versus_base(
                site.name, compared, key="personalised_versus_base",
                model=f"{site.name}'s {PERSONAL_LABELS[run.personalise]} adapter",
                calibrated=calibrated)  # fmt: skip
            kept = Kept(site.name, site.data_path, shared, base, personal, site.leaks,
                        site_versus_base(site.name, compared), own)  # fmt: skip
            keep_at_site(site.keep_in, run, site.data, site.trained, kept, personalised,
                         with_shared=run.sites_out is None)  # fmt: skip
    return Message(RecordDict({"metrics": MetricRecord(metrics)}), reply_to=message)


def _paired_with_base(site: LocalSite, scores: Any, base_scores: Any, shared: dict[str, float],
                      *, n_boot: int, calibrated: bool = False) -> dict[str, float]:  # fmt: skip
    """The shared adapter against the base alone, paired on this site's held-out samples
    (both models' scores are here; only the difference and its interval are sent); not
    compared where the site reported none of the figures it would compare (too few
    samples); ``calibrated``: a recalibrated adapter's, on what recalibration changes."""
    modality, schema = site.modality, site.schema
    task = modality.task(schema)
    # only a figure the site reported (its AUROC counts patients, 5 of each class)
    reported = [m for m in paired_metrics(task, calibrated=calibrated)
                if math.isfinite(shared.get(m, float("nan")))]  # fmt: skip
    if not reported:
        return not_compared(task)
    return paired_with_base(
        task, site.test.labels,
        modality.task_scores(schema, scores), modality.task_scores(schema, base_scores),
        n_boot=n_boot, seed=site.run.seed, unit=modality.unit,
        patients=site.test.known_patients(), metrics=reported,
    )  # fmt: skip
