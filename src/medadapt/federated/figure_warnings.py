"""What a federated run says of figures that cannot be taken at face value: a "federated"
adapter that fewer than two sites trained (the one-site note), a model's figures at a site
too good to be true, a model that ranks a site's patients backwards, and an accuracy no
better than calling every patient the commoner outcome (the no-information rate); as lines
for the terminal and the report, and as the notes ``federated.json`` keeps."""

from __future__ import annotations

from typing import Any

from medadapt.evaluate.metrics import MIN_PER_CLASS, TOO_GOOD, backwards_note, too_good_note
from medadapt.evaluate.report.formatting import listed
from medadapt.federated.compared import COLUMNS, missing, named
from medadapt.results import BACKWARDS, NEVER_CALLED, none_of_a_class, tested_unit

ONE_SITE = "one_site"  # the note's key in federated.json
NONE_CALLED = "none_of_a_class"  # a model's note at a site: none of one outcome's called so


def warning_lines(results: dict[str, Any]) -> list[str]:
    """``Warning: ...`` lines, each once: fewer than two sites trained the shared adapter
    (``federated.json``'s ``notes``), each site's figures too good to be true, each model
    that ranks a site's patients backwards, and each that calls none of a site's patients of
    one outcome that outcome."""
    notes = results.get("notes") or {}
    lines = [f"Warning: {notes[ONE_SITE]}."] if notes.get(ONE_SITE) else []
    return lines + too_good_lines(results) + backwards_lines(results) + none_called_lines(results)


def held_out_unit(results: dict[str, Any]) -> str:
    """What a run's sites hold out, in its warnings: ``images`` where the base is an image
    model (a review: a federated image run's warnings said "test patients"), else
    ``patients``.

    >>> [held_out_unit({"base_model": {"noun": n}}) for n in ("images", "rows")]
    ['images', 'patients']
    """
    return tested_unit((results.get("base_model") or {}).get("noun"))


def one_site_note(sites: list[str], trained: list[str]) -> str | None:
    """What a run trained by fewer than two of its ``sites`` is (``trained``: the sites that
    trained the shared adapter in every round): not a federated adapter. None otherwise."""
    if len(trained) >= 2:
        return None
    dropped = listed([site for site in sites if site not in trained])
    if not trained:
        return (f"no site trained the shared adapter in every round ({dropped} dropped out): "
                "it is not a federated adapter")  # fmt: skip
    return (f"only {trained[0]} trained the shared adapter ({dropped} dropped out): it is an "
            f"adapter trained at one site, not a federated one; compare it with the local-only "
            f"adapter at {trained[0]}")  # fmt: skip


def site_notes(site: dict[str, Any], classes: list[str] | None = None,
               unit: str = "patients") -> dict[str, dict[str, str]]:  # fmt: skip
    """Each compared model's warnings about its figures at ``site``, by column, as
    ``federated.json`` keeps them: ``too_good`` (``evaluate``'s rule,
    :func:`~medadapt.evaluate.metrics.too_good_note`), ``backwards`` (its AUROC's whole 95%
    interval below 0.5, :func:`~medadapt.evaluate.metrics.backwards_note`) and
    ``no_information`` (its accuracy no better than calling every patient the commoner
    outcome, or class: ``classes`` names a model's several); ``unit``: what the site holds
    out (:func:`held_out_unit`)."""
    one = unit.removesuffix("s")
    out: dict[str, dict[str, str]] = {}
    for key, _label in COLUMNS:
        values = site.get(key) or {}
        notes = {}
        if note := _too_good(values, unit):
            notes["too_good"] = note
        if note := _backwards(values, unit):
            notes[BACKWARDS] = note
        if note := none_of_a_class(values, unit):
            notes[NONE_CALLED] = note
        if found := no_information(values, classes):
            accuracy, rate, common = found
            notes["no_information"] = (
                f"accuracy {accuracy:.3f} is no better than calling every {one} {common} "
                f"({rate:.3f}, the no-information rate)"
            )
        if notes:
            out[key] = notes
    return out


def _too_good(values: dict[str, Any], unit: str = "patients") -> str | None:
    """:func:`~medadapt.evaluate.metrics.too_good_note` of one model's figures at a site
    (``unit``: what the site held out, :func:`held_out_unit`)."""
    figures = {m: float(values[m]) for m in ("auroc", "accuracy", "r2")
               if not missing(values.get(m))}  # fmt: skip
    patients = values.get("n_patients", values.get("n"))
    figures["n"] = 0 if missing(patients) else int(patients)
    return too_good_note(figures, unit.removesuffix("s"))


def _backwards(values: dict[str, Any], unit: str = "patients") -> str | None:
    """:func:`~medadapt.evaluate.metrics.backwards_note` of one model's figures at a site
    (its interval as the site sent it: ``auroc_low``, ``auroc_high``)."""
    auroc, low, high = (values.get(k) for k in ("auroc", "auroc_low", "auroc_high"))
    if missing(auroc) or missing(low) or missing(high):
        return None
    return backwards_note({"auroc": float(auroc), "auroc_ci": [float(low), float(high)]},
                          unit.removesuffix("s"))  # fmt: skip


#: where :func:`~medadapt.evaluate.metrics.backwards_note` turns from the figure to its reading
_BELOW = " is below 0.5: "


def backwards_lines(results: dict[str, Any]) -> list[str]:
    """A warning for each site where a model ranks the patients backwards (its AUROC's whole
    95% interval below 0.5), naming each such model, in ``evaluate``'s words."""
    config, lines, unit = results.get("config") or {}, [], held_out_unit(results)
    for name, site in results["sites"].items():
        found = {key: note for key, _label in COLUMNS
                 if (note := _backwards(site.get(key) or {}, unit))}  # fmt: skip
        if not found:
            continue
        said = [
            f"{named(key, config)}'s {note.partition(_BELOW)[0]}" for key, note in found.items()
        ]
        verb = " is" if len(said) == 1 else " are"
        why = next(iter(found.values())).partition(_BELOW)[2]
        lines.append(f"Warning: at {name}, {listed(said)}{verb} below 0.5: {why}."
                     f"{_noise_words(config, found)}")  # fmt: skip
    return lines


#: the models that trained with differential privacy's noise (the shared adapter, and what
#: each site made of it), not the base alone nor the local or pooled references
_NOISED = ("federated", "personalised")


def _noise_words(config: dict[str, Any], found: dict[str, str]) -> str:
    """Where the run added differential privacy's noise and a model trained with it ranks a
    site backwards, that the noise is the likelier cause than the labels (a trial's noise 0.5
    turned AUROC 1.000 into 0.219 and 0.147, and the warning sent it to check its classes)."""
    noise = config.get("noise_multiplier")
    if not noise or not set(found) <= set(_NOISED):  # one trained without it: not the noise
        return ""
    return (
        f" This run added differential privacy's noise (--dp-noise {noise:g}, --dp-clip "
        f"{config.get('clipping_norm', 0):g}), the likelier cause where the models trained "
        "without it do not rank them so: run again with less noise or none, and compare"
    )


def none_called_lines(results: dict[str, Any]) -> list[str]:
    """A warning for each site where a model called none of its held-out patients of one
    outcome that outcome (sensitivity or specificity 0 there; a trial's shared adapter called
    none of VA's 15 negative patients negative, where the base alone found 5, and the run
    said only that its accuracy was no better than calling everyone positive)."""
    config, lines, unit = results.get("config") or {}, [], held_out_unit(results)
    for name, site in results["sites"].items():
        for key, _label in COLUMNS:
            figures = site.get(key) or {}
            said = none_of_a_class(figures, unit)
            if said:  # the adapters this run registers: the shared one, each site's own
                refused = (" (registry promote refuses it)"
                           if key in ("federated", "personalised") else "")  # fmt: skip
                # several classes: the class it gives the highest probability, no threshold
                where = "" if NEVER_CALLED in figures else "at the threshold "
                model = named(key, config)
                lines.append(f"Warning: at {name}, {model} {said.removeprefix('it ')}: {where}"
                             f"it identifies none of them{refused}.")  # fmt: skip
    return lines


def too_good_lines(results: dict[str, Any]) -> list[str]:
    """One warning naming each site where a model's figures are too good to be true (AUROC
    or R² of 0.99 or more, every one of 20 or more patients right), and each such model there
    (a trial's run said the whole sentence and its advice once per site)."""
    config, at, why = results.get("config") or {}, {}, ""
    unit = held_out_unit(results)
    for name, site in results["sites"].items():
        notes = {key: _too_good(site.get(key) or {}, unit) for key, _label in COLUMNS}
        found = {key: note for key, note in notes.items() if note}
        if not found:
            continue
        at[name] = "; ".join(f"{named(key, config)}'s {note.partition(f': {TOO_GOOD}')[0]}"
                             for key, note in found.items())  # fmt: skip
        why = why or next(iter(found.values())).partition(f": {TOO_GOOD}")[2]
    if not at:
        return []
    if len(at) == 1:
        ((name, said),) = at.items()
        return [f"Warning: at {name}, {said}: {TOO_GOOD}{why}."]
    sites = listed(f"at {name} ({said})" for name, said in at.items())
    return [f"Warning: {sites}: {TOO_GOOD}{why.replace('trusting it', 'trusting them')}."]


def no_information_lines(results: dict[str, Any]) -> list[str]:
    """Where a compared model's accuracy (the shared adapter's, a reference's, the base
    alone's) is no better than calling every patient the commoner outcome (the
    no-information rate): its accuracy says little there."""
    config, lines = results.get("config") or {}, []
    classes = (results.get("base_model") or {}).get("classes")
    unit = held_out_unit(results)
    for name, site in results["sites"].items():
        found = [(key, info) for key, _label in COLUMNS
                 if (info := no_information(site.get(key) or {}, classes))]  # fmt: skip
        if not found:
            lines += few_of_one_outcome(name, site, unit)
            continue
        _accuracy, rate, common = found[0][1]
        if len(found) == 1:
            key, (accuracy, _rate, _common) = found[0]
            who, it = f"{named(key, config)}'s accuracy ({accuracy:.3f})", "it"
        else:
            models = [f"{named(key, config)} ({info[0]:.3f})" for key, info in found]
            who, it = f"the accuracy of {listed(models)}", "them"
        said = (f"At {name}, {who} is no better than calling every {unit[:-1]} {common} "
                f"({rate:.3f}, the no-information rate)")  # fmt: skip
        values = site[found[0][0]]
        if missing(values.get("n_positive")):  # several classes: is each large enough?
            enough = not missing(values.get("auroc"))
        else:
            enough = min(values["n_positive"], values["n"] - values["n_positive"]) >= MIN_PER_CLASS
        if enough:
            lines.append(f"{said}: judge {it} there by AUROC and balanced accuracy (each "
                         "model's, per site: the AUROC in the tables printed and in the "
                         "report, balanced accuracy in the report's table and "
                         "federated.json).")  # fmt: skip
        else:  # neither is reported there: too few patients of the rarer outcome (a class)
            whose = "its" if it == "it" else "their"
            few = ("are in one of the classes" if missing(values.get("n_positive"))
                   else "have the rarer outcome")  # fmt: skip
            lines.append(f"{said}, and too few of its held-out {unit} {few} for an AUROC "
                         f"or balanced accuracy: {whose} figures there say little.")  # fmt: skip
    return lines


def few_of_one_outcome(name: str, site: dict[str, Any], unit: str = "patients") -> list[str]:
    """Where a binary site's held-out patients hold too few of one outcome for an AUROC or a
    balanced accuracy, though every model's accuracy beat the no-information rate: a
    trial's Switzerland, 2 negatives among 37, had its shared adapter's 0.973 (one patient
    better than calling everyone positive) without a word."""
    counted = [site[key] for key, _label in COLUMNS if isinstance(site.get(key), dict)]
    values = next((v for v in counted if v.get("n") and not missing(v.get("n_positive"))), None)
    if values is None or all(missing(v.get("accuracy")) for v in counted):
        return []  # no figure at all there: said so already (a review)
    n, positives = values["n"], values["n_positive"]
    fewer = min(positives, n - positives)
    if fewer >= MIN_PER_CLASS:
        return []
    rare, common = ("positive", "negative") if positives < n - positives else (
        "negative", "positive")  # fmt: skip
    return [f"At {name}, only {fewer} of the {n} held-out {unit} {'is' if fewer == 1 else 'are'}"
            f" {rare}: too few for an AUROC or balanced accuracy, and every model's accuracy "
            f"there mostly reflects how common the {common} outcome is; the figures there say "
            "little."]  # fmt: skip


def no_information(
    values: dict[str, Any], classes: list[str] | None = None
) -> tuple[float, float, str] | None:
    """``(accuracy, no-information rate, the commoner outcome)`` where one model's accuracy
    at a site is no better than calling every patient that outcome (several classes: the
    commonest, ``class '1'`` of ``classes``, a trial's 5-class site at 0.233 against 0.283
    said nothing); None otherwise."""
    n, positives, accuracy = values.get("n"), values.get("n_positive"), values.get("accuracy")
    if not n or missing(accuracy):
        return None
    if not missing(positives):
        rate, common = max(positives, n - positives) / n, (
            "positive" if positives >= n - positives else "negative")  # fmt: skip
    elif not missing(commonest := values.get("n_commonest")):
        which = int(values.get("commonest") or 0)
        rate = commonest / n
        common = f"class '{classes[which]}'" if classes and which < len(classes) else (
            "the commonest class")  # fmt: skip
    else:
        return None
    if accuracy > rate:
        return None
    return accuracy, rate, common
