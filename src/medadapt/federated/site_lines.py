"""Plain-words lines that the terminal and the federated report share: what the run predicts,
from which base and on how many patients at each site; why a site has no AUROC, a regression
site's measured figures, a site that failed during the run, and what differential privacy
was."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medadapt.evaluate.metrics import LOWER_IS_BETTER, MIN_PATIENTS, MIN_PER_CLASS
from medadapt.evaluate.report.formatting import METRIC_LABELS, fmt, listed, metric_digits
from medadapt.federated.compared import (
    COLUMNS,
    SHOWN_MEASURED,
    figure_label,
    measured,
    measured_at,
    missing,
    test_patients,
    training_patients,
)
from medadapt.federated.privacy_budget import privacy_words
from medadapt.federated.strategies import SECOND_CLIENT, site_named
from medadapt.federated.strategies import when as moment


def run_lines(results: dict[str, Any]) -> list[str]:
    """What the figures are about, before any of them: the outcome the base predicts, where
    the base was trained (or which ``--base`` it is and what it records of its training), and
    each site's training and held-out test patients."""
    about = results.get("base_model") or {}
    lines = [f"Outcome: {about['outcome']}."] if about.get("outcome") else []
    if about:
        lines.append(base_line(about, list(results["sites"])))
    counts = [f"{name} {training_patients(site)} / {test_patients(site)}" if site["n_test"]
              else f"{name} none (it did not take part: see the warning about it)"
              for name, site in results["sites"].items()]  # fmt: skip
    lines.append(f"Patients per site (training / held-out test): {'; '.join(counts)}.")
    return lines + unnamed_patients_lines(results)


def unnamed_patients_lines(results: dict[str, Any]) -> list[str]:
    """The sites whose data names no patient (no id column), where each sample counts as a
    patient of its own: a trial read "19 held-out patients" of a table without ids, as the
    rest of medadapt says it ("each taken as one patient")."""
    unnamed = [name for name, site in results["sites"].items()
               if site.get("patients_named") is False]  # fmt: skip
    if not unnamed:
        return []
    noun = (results.get("base_model") or {}).get("noun", "samples")
    where = ("at every site" if len(unnamed) == len(results["sites"])
             else f"at {listed(unnamed)}")  # fmt: skip
    return [
        f"No id column names the patients {where}: each of the {noun} there is counted as one "
        f"patient, so a patient with several {noun} counts more than once, and the 95% "
        "intervals may be too narrow."
    ]


def base_line(about: dict[str, Any], sites: list[str]) -> str:
    """Where the base every site started from was trained: ``The base model was trained by
    this run (--base-groups) on 243 rows whose dataset is Cleveland; saved in base/ beside this
    report (weights sha256 f873aa46c6ec)``; for a ``--base``, its folder and what it records;
    and which of ``sites`` it trained on."""
    groups = about.get("training_groups") or {}
    noun, column = about.get("noun", "samples"), about.get("group_column")
    named = [name if len(groups) == 1 else f"{name} ({n})" for name, n in groups.items()]
    either = " or ".join(filter(None, [", ".join(named[:-1]), *named[-1:]]))
    where = (f"{sum(groups.values())} {noun} whose {column} is {either}" if column else
             f"{sum(groups.values())} {noun} from {listed(named)}") if groups else ""  # fmt: skip
    weights = f"weights sha256 {str(about.get('weights_sha256'))[:12]}"
    if about.get("trained_here"):
        said = (f"The base model was trained by this run (--base-groups) on {where}; saved in "
                f"the run's folder as base/ ({weights})")  # fmt: skip
    else:
        records = f"records training on {where}" if groups else "records no training groups"
        said = f"The base model is --base {about['folder']} ({weights}); it {records}"
    also = [site for site in sites if site in groups]
    if also:
        verb = "is also a site" if len(also) == 1 else "are also sites"
        their = "its" if len(also) == 1 else "their"
        said += f". {listed(also)} {verb} here: " + _kept_out(about.get("test_kept_out"), their)
    return said + "."


def _kept_out(kept_out: bool | None, their: str) -> str:
    """Whether the sites' held-out patients exclude the base's training patients: known in a
    simulation (the base's split recognised in the data, no test patient among them); a
    deployment's server cannot see it (each site splits its own data)."""
    if kept_out:
        return "scored only on patients the base never trained on"
    if kept_out is None:
        return ("each site held out only patients the base never trained on where its data let "
                "it recognise them (a site warns where it could not)")  # fmt: skip
    return (f"{their} held-out patients may include some the base trained on (see the warning "
            "above): the base alone may look better there than it is")  # fmt: skip


def failure_lines(failures: list[dict[str, Any]], rounds: int,
                  trained: Sequence[str] = (), said: Sequence[str] = ()) -> list[str]:  # fmt: skip
    """One line per site that failed (its first failure), naming the round and what it
    meant: a site refused on joining did not take part, unless it joined with another client
    (``trained``: the sites that trained in every round); a second client of a site was left
    out while the site took part; a site failing later left the run (or missed its final
    scoring). None for a refusal on joining ``said`` already before the rounds (a trial's
    left-out site was said twice: "site Alpha: ..." and "on joining: site Alpha: ...")."""
    first: dict[str, dict[str, Any]] = {}
    for failure in failures:
        first.setdefault(failure["error"].split(":", 1)[0], failure)
    lines = []
    for failure in first.values():
        error, round_ = failure["error"], failure["round"]
        if round_ == 0 and any(note.startswith(error) for note in said):
            continue
        when = moment(round_, rounds)
        site = site_named(trained, error)
        if round_ > rounds:
            meant = "no final figures from this site"
        elif round_ >= 1:
            meant = "the run went on without this site"
        elif SECOND_CLIENT in error:
            meant = "that client was left out; the site took part"
        elif site is not None:
            meant = "a later client of this site joined and took part"
        else:
            meant = "this site did not take part"
        lines.append(f"{when}: {error} ({meant})")
    return lines


def no_auroc_line(name: str, site: dict[str, Any], classes: list[str] | None = None) -> str:
    """Why a site has no AUROC: too few held-out patients for any figure, one outcome only,
    or too few patients of the rarer one; for a measured outcome (a regression, which has no
    AUROC or accuracy), the figures it has instead (:func:`measured_line`)."""
    n, positive = site["federated"].get("n"), site["federated"].get("n_positive")
    if not missing(n) and n < MIN_PATIENTS:
        return (f"No figures at {name}: only {int(n)} held-out patients, too few for any "
                f"(medadapt reports none below {MIN_PATIENTS}).")  # fmt: skip
    if measured_at(site):
        return measured_line(name, site)
    if not missing(site["federated"].get("n_commonest")):  # several classes
        why = _fewest_class(site["federated"], classes)
    elif missing(n) or missing(positive):
        why = "too few patients of one outcome among its held-out patients"
    elif positive in (0, n):
        why = "all its held-out patients have the same outcome"
    else:
        rarer = min(int(positive), int(n - positive))
        kind = "without" if positive > n - positive else "with"
        why = (f"only {rarer} of its {int(n)} held-out patients are {kind} the outcome, too "
               f"few for an AUROC (medadapt reports none below {MIN_PER_CLASS})")  # fmt: skip
    return f"No AUROC at {name}: {why}; accuracy is reported there."


def _fewest_class(figures: dict[str, Any], classes: list[str] | None) -> str:
    """Why a site of several classes has no AUROC: its rarest class among its held-out
    patients, named (``classes``) and counted where the site sent it."""
    fewest, n_fewest, n = figures.get("fewest"), figures.get("n_fewest"), figures.get("n")
    if missing(fewest) or missing(n_fewest) or missing(n):
        return (f"fewer than {MIN_PER_CLASS} of its held-out patients are in one of the "
                "classes (medadapt reports none below that)")  # fmt: skip
    which = int(fewest)
    named = f"class {classes[which]!r}" if classes and which < len(classes) else "one class"
    few = (f"none of its {int(n)} held-out patients is in {named}" if not n_fewest else
           f"only {int(n_fewest)} of its {int(n)} held-out patients are in {named}")  # fmt: skip
    return f"{few}, too few for an AUROC (medadapt reports none below {MIN_PER_CLASS})"


def measured_line(name: str, site: dict[str, Any]) -> str:
    """A regression site's MAE, RMSE and R² for each model compared there, in one line (the
    terminal's, where the table has a classifier's columns): ``At South, on its 44 held-out
    patients: MAE shared 48.9, ..., base 55.1 (lower is better); ...``."""
    compared = [(key, label) for key, label in COLUMNS if site.get(key)]
    said = []
    for metric in SHOWN_MEASURED:
        values = [(label, site[key].get(metric)) for key, label in compared]
        figures = ", ".join(f"{label} {_figure(metric, value)}" for label, value in values)
        way = "lower" if metric in LOWER_IS_BETTER else "higher"
        said.append(f"{METRIC_LABELS[metric]} {figures} ({way} is better)")
    return f"At {name}, on its {test_patients(site)} held-out patients: {'; '.join(said)}."


def _figure(metric: str, value: Any) -> str:
    """A figure as the tables print it (an error in the label's unit: three significant
    figures); n/a where it was not reported."""
    return "n/a" if missing(value) else fmt(float(value), metric_digits(metric, value))


def privacy_line(results: dict[str, Any]) -> str | None:
    """What differential privacy was in this run (None when it was off): the clipping norm,
    the noise multiplier, and that its cost in the leading figure (accuracy at 0.5, or MAE
    for a measured outcome: the first the tables show) was not measured, since the run has no
    twin without it, with how to measure it."""
    config = results["config"]
    if not config.get("noise_multiplier"):
        return None
    leading = figure_label("mae" if measured(results) else "accuracy", results)
    return (
        f"Differential privacy was on: each site's update clipped to norm "
        f"{config['clipping_norm']:g}, Gaussian noise multiplier {config['noise_multiplier']:g} "
        "(noise of that many times the clipping norm added to the sum of the updates each "
        "round; Flower's server-side fixed clipping); "
        f"{privacy_words(config['noise_multiplier'], config['rounds'])}. Its cost in {leading} "
        "was not measured: run the same command without --dp-clip and --dp-noise and compare "
        "the sites' figures."
    )
