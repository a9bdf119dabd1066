"""The federated adapter's verdict against the base alone at each site, in plain words for
the terminal and the report: the difference paired on the same held-out patients (computed
at the site: only it and its 95% interval crossed the network), written with enough digits
and a sign to show which side of 0 it lies, on AUROC, or on the Brier score (checked against
the site's own outcome shares) where a class is too small for AUROC; and, around those lines,
the run's warnings."""

from __future__ import annotations

from typing import Any

from medadapt.evaluate.difference import Difference, signed, signed_digits, zero_end
from medadapt.evaluate.metrics import MIN_PER_CLASS
from medadapt.evaluate.sufficiency import FEW_TRAINING_SAMPLES
from medadapt.federated.compared import LABELS, figure_label, missing, test_patients
from medadapt.federated.config import PERSONAL_LABELS
from medadapt.federated.figure_warnings import no_information_lines, warning_lines


def verdict_lines(results: dict[str, Any]) -> list[str]:
    """In plain words, per site: the federated adapter against the base alone, paired on the
    same held-out patients (computed at the site: only the difference and its 95% interval
    were sent), and where the data cannot tell them apart; first, the warnings about the whole
    run (:func:`~medadapt.federated.figure_warnings.warning_lines`)."""
    lines = warning_lines(results)
    how = PERSONAL_LABELS.get((results.get("config") or {}).get("personalise", "none"))
    for name, site in results["sites"].items():
        if not site["n_test"]:
            continue
        line = paired_line(name, site)
        own = how and paired_line(name, site, key="personalised_versus_base",
                                  model=f"{name}'s {how} adapter",
                                  calibrated=calibrated_at(results.get("config") or {},
                                                           results.get("task")))  # fmt: skip
        lines += [said for said in (line, own) if said]
    small = [f"{n} ({s['n_test']} of {s['n_train'] + s['n_test']})"
             for n, s in results["sites"].items()
             if s["n_test"] and s["n_test"] < 0.2 * (s["n_train"] + s["n_test"])]  # fmt: skip
    if small:
        lines.append("Few test patients at " + ", ".join(small) + ": a site's test patients "
                     "come only from patients the base model never trained on.")  # fmt: skip
    few = [f"{n} ({s['n_train']})" for n, s in results["sites"].items()
           if 0 < s["n_train"] < FEW_TRAINING_SAMPLES]  # as its own client warns  # fmt: skip
    if few:  # a trial's 8-row site took part, said only at its own client
        noun = (results.get("base_model") or {}).get("noun") or "rows"
        lines.append(
            f"Few training {noun} at {', '.join(few)}, fewer than {FEW_TRAINING_SAMPLES}: each "
            f"round weighs a site by its training {noun}, so the shared adapter learnt little "
            "there, and the site's own figures are uncertain, or missing, where few are held "
            "out."
        )
    return lines + no_information_lines(results)


def paired_line(
    name: str,
    site: dict[str, Any],
    *,
    key: str = "versus_base",
    model: str = "the federated adapter",
    calibrated: bool = False,
) -> str | None:
    """The federated adapter's figure minus the base alone's at site ``name`` (AUROC, or the
    Brier score where too few patients of a class leave no AUROC, as ``adapt`` compares; MAE
    for a regression; as sites send it), paired on the same held-out patients, with its
    verdict and, for an error such as the Brier score or MAE, its direction as
    ``versus_base`` words them ("no detectable difference" whenever the interval contains
    0); on the Brier score, why not on AUROC. None where not compared (too few patients, or
    a run from before sites compared them). ``key``: the comparison's
    (``"personalised_versus_base"``: the site's personalised adapter's), ``model``: the
    model it compares, in words; ``calibrated``: a recalibrated adapter's, compared on the
    Brier score because a recalibration keeps the risks' order (AUROC unchanged)."""
    paired = site.get(key) or {}
    metric = next((k for k in paired if not k.endswith(("_low", "_high"))), "auroc")
    value, low, high = (paired.get(k) for k in (metric, f"{metric}_low", f"{metric}_high"))
    if missing(value) or missing(low) or missing(high):
        return None
    classes = _several_classes(site)
    diff = Difference(metric, float(value), (float(low), float(high)), of_classes=classes)
    label, n = LABELS.get(metric, metric), test_patients(site)
    d = signed_digits(diff.digits(), value, low, high)
    why = (" (a recalibration moves the risks but keeps their order: on the Brier score)"
           if calibrated and metric == "brier" else _why_not_auroc(metric, site))  # fmt: skip
    start = f"At {name}, paired on the same {n} held-out patients{why},"
    if high - low <= 1e-12:  # every resample alike: no interval, not certainty
        if abs(value) <= 1e-12:
            return (f"{start} {model} and the base alone have the same {label} "
                    "in every resample of these patients: no difference can be shown, and none "
                    "ruled out, without more patients.")  # fmt: skip
        way = f" ({diff.direction()})" if diff.direction() else ""
        return (f"{start} {model} changes {label} by {signed(value, d)}{way} in "
                "every resample of these patients, so the change has no interval: judge it on "
                "more patients.")  # fmt: skip
    if diff.verdict in ("better", "worse"):
        verdict = f"{model} {diff.verdict_in_words()}"
    else:
        verdict = f"no detectable difference on these patients{zero_end((low, high))}"
    said = (f"{start} {model} changes {label} by {signed(value, d)} (95% CI "
            f"{signed(low, d)} to {signed(high, d)}{diff.direction('; ')}) against the base "
            f"alone: {verdict}.")  # fmt: skip
    shares, neither = "", False
    if metric == "brier":
        shares, neither = _no_better_than_shares(site, key, model,
                                                 contrast=diff.verdict == "better")  # fmt: skip
    said += shares
    if diff.verdict == "worse" and not neither:  # the adapter did harm here: say what to do
        return f"{said} Keep the base model at {name}."
    return said


def calibrated_at(config: dict[str, Any], task: str | None) -> bool:
    """Whether the run's personalised adapters are a yes/no outcome's recalibration, whose
    risks move but keep their order (AUROC unchanged: compared on the Brier score); several
    classes' offsets, one per class, can change the order and the class called (a review),
    and keep AUROC first."""
    return config.get("personalise") == "recalibrate" and task == "binary"


def _several_classes(site: dict[str, Any]) -> bool:
    """Whether the site's model has several classes: its figures count no patients with the
    outcome (a binary site sends ``n_positive``; a multiclass one NaN, a regression none)."""
    shared = site.get("federated") or {}
    return "n_positive" in shared and missing(shared["n_positive"])


def _no_better_than_shares(
    site: dict[str, Any], key: str, model: str, *, contrast: bool
) -> tuple[str, bool]:
    """Where the compared adapter's Brier score is no better than giving every held-out
    patient the share of these very patients with each outcome (``shares_brier``, sent by
    the site; a share known only after the fact: a benchmark, not a model): a lower Brier
    score than the base's is then no sign of useful risks (a review: at Switzerland, 2 of 37
    without disease, moving every risk toward the site's rate lowers it), as ``adapt`` says
    it. Where the base alone is no better either, both are said, and the second value is
    True (no "keep the base model": a trial was told to keep a base that failed the same
    test). Empty and False otherwise, or where the site did not send them."""
    figures = site.get("personalised" if key == "personalised_versus_base" else "federated") or {}
    brier, base = figures.get("brier"), (site.get("base") or {}).get("brier")
    reference = figures.get("shares_brier", (site.get("federated") or {}).get("shares_brier"))
    if missing(brier) or missing(reference) or brier < reference - 1e-9:
        return "", False
    what = "class" if _several_classes(site) else "outcome"
    share = (f"giving every patient the share of these very patients with each {what} "
             f"({reference:.3f})")  # fmt: skip
    start = "Yet" if contrast else "And"  # "yet" only after a gain said
    if not missing(base) and base >= reference - 1e-9:
        return (f" {start} neither {model}'s Brier score ({brier:.3f}) nor the base alone's "
                f"({base:.3f}) is better than {share}: neither model's probabilities are worth "
                "more than that share here.", True)  # fmt: skip
    return (f" {start} {model}'s Brier score ({brier:.3f}) is no better than {share}: its "
            "probabilities are not yet worth more than that share.", False)  # fmt: skip


def _why_not_auroc(metric: str, site: dict[str, Any]) -> str:
    """Why a classifier's site was compared on the Brier score rather than AUROC (as sites
    compare, :func:`~medadapt.federated.local.paired_metrics`): too few patients of a class
    to rank them; empty for AUROC or MAE."""
    if metric != "brier":
        return ""
    if _several_classes(site):
        return f" (fewer than {MIN_PER_CLASS} in a class: too few for AUROC)"
    shared = site.get("federated") or {}
    n, positives = shared.get("n"), shared.get("n_positive")
    if missing(n) or missing(positives):
        return " (too few of an outcome for AUROC)"
    rare = int(min(positives, n - positives))
    if rare == 0:
        return " (all with the same outcome: no AUROC)"
    if rare >= MIN_PER_CLASS:  # rows enough, patients not (some have several rows)
        return f" (fewer than {MIN_PER_CLASS} patients with the rarer outcome: too few for AUROC)"
    return f" (only {rare} with the rarer outcome: too few for AUROC)"


def site_versus_base(
    name: str,
    site: dict[str, Any],
    *,
    model: str = "the federated adapter",
    key: str = "versus_base",
    calibrated: bool = False,
) -> dict[str, Any] | None:
    """The shared adapter (``model``: or the one named, whose comparison ``site`` holds as
    its ``key``: ``"personalised_versus_base"`` for the site's personalised adapter) against
    the base alone at site ``name``, as ``adapt`` records its ``versus_base`` (``metric``,
    ``difference``, ``ci``, ``verdict``, ``in_words``: the report's line, :func:`paired_line`;
    ``neither_beats_shares``: where neither it nor the base beats the site's outcome shares,
    and the line says so rather than "keep the base model"); None where the site compared
    nothing."""
    said = (paired_line(name, site, key=key, model=model, calibrated=calibrated)
            if site.get("n_test") else None)  # fmt: skip
    if said is None:
        return None
    paired = site[key]
    metric = next(k for k in paired if not k.endswith(("_low", "_high")))
    low, high = float(paired[f"{metric}_low"]), float(paired[f"{metric}_high"])
    diff = Difference(metric, float(paired[metric]), (low, high),
                      of_classes=_several_classes(site))  # fmt: skip
    verdict = UNSETTLED if high - low <= 1e-12 else diff.verdict  # as its sentence says
    neither = metric == "brier" and _no_better_than_shares(site, key, model, contrast=False)[1]
    return {"metric": metric, "difference": diff.value, "ci": [low, high],
            "verdict": verdict, "in_words": said, "neither_beats_shares": neither}  # fmt: skip


UNSETTLED = "no difference shown or ruled out"  # the same difference in every resample


def _grouped_verdict(found: dict[str, Any] | None) -> str:
    """A site's verdict as the sites' summary groups them: a difference without an interval
    (the same in every resample of few patients) is no "no detectable difference" (a trial's
    card said so of Switzerland, where the site's own line says that no difference can be
    shown, and none ruled out)."""
    if found is None:
        return "not compared"
    low, high = found["ci"]
    return UNSETTLED if high - low <= 1e-12 else found["verdict"]  # as paired_line says


def versus_base_over_sites(results: dict[str, Any], metric: str) -> dict[str, Any] | None:
    """What the shared adapter's record says against the base alone: both models' ``metric``
    averaged over the sites (each on its own held-out patients), then each site's paired
    verdict (:func:`site_versus_base`), in words, with a warning for each site where the
    adapter did worse; None where the base alone was scored nowhere."""
    sites = results["sites"]
    base, shared = (results["average"][key].get(metric) for key in ("base", "federated"))
    if missing(base):
        return None
    named, counted = (
        figure_label(metric, results),
        results["average"]["base"].get(f"{metric}_sites"),
    )
    ours = f" (the federated adapter {shared:.3f})" if not missing(shared) else ""
    said = (f"Averaged over {counted} of {len(sites)} sites, each on its own held-out "
            f"patients, the base model alone had {named} {base:.3f}{ours}.")  # fmt: skip
    paired = {name: site_versus_base(name, site) for name, site in sites.items()}
    by_verdict: dict[str, list[str]] = {}
    for name, found in paired.items():
        by_verdict.setdefault(_grouped_verdict(found), []).append(name)
    if paired := {name: found for name, found in paired.items() if found}:
        gain = ("no site showed a detectable gain" if "better" not in by_verdict
                else f"better at {', '.join(by_verdict['better'])}")  # fmt: skip
        rest = [f"{verdict} at {', '.join(names)}" for verdict, names in by_verdict.items()
                if verdict != "better"]  # fmt: skip
        also = f" ({'; '.join(rest)})" if rest else ""
        said += (f" Paired at each site on the same held-out patients "
                 f"({_compared_on(paired)}): {gain}{also}.")  # fmt: skip
    return {
        "metric": metric, "base": base, "adapter": None if missing(shared) else shared,
        "sites": paired, "in_words": said,
        "warnings": [found["in_words"] for found in paired.values() if found["verdict"] == "worse"],
    }  # fmt: skip


def _compared_on(paired: dict[str, dict[str, Any]]) -> str:
    """What the sites' paired verdicts compare: ``AUROC``, or ``AUROC at Cleveland; Brier
    score at Switzerland`` where a site had too few patients of a class for AUROC."""
    by_metric: dict[str, list[str]] = {}
    for name, found in paired.items():
        by_metric.setdefault(found["metric"], []).append(name)
    if len(by_metric) == 1:
        return LABELS.get(next(iter(by_metric)), next(iter(by_metric)))
    return "; ".join(f"{LABELS.get(metric, metric)} at {', '.join(names)}"
                     for metric, names in by_metric.items())  # fmt: skip
