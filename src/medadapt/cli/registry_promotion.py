"""What ``medadapt registry promote`` says of the version it now serves: the warnings recorded
with its result, and a headline figure worse than that of the version served until now, said
as a warning or, when chance explains the difference, as a note.

Imported by :mod:`medadapt.cli.registry`; cheap to import (no torch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from medadapt.cli.registry_format import headline_metric, metric_text
from medadapt.evaluate.report.formatting import calibration_sentence
from medadapt.registry import AdapterVersion, RegistryError, VersionDiff
from medadapt.registry.fitness import tested_on
from medadapt.registry.records import metric_notes
from medadapt.registry.summary_words import metric_label
from medadapt.results import (
    LOWER_IS_BETTER,
    WHOLE_RESULT,
    none_of_a_class,
    r2_in_words,
    reaches_chance,
)


def _unmeasured(promoted: AdapterVersion, was: AdapterVersion | None, notes: dict) -> str:
    """That ``promoted`` has no measured performance (and why, as recorded), and what the
    version served until now had."""
    why = " ".join(str(notes.get("all") or "").split())
    said = f"{promoted.ref} has no measured performance" + (f" ({why})" if why else "")
    before = None if was is None or was.ref == promoted.ref else headline_metric(was)
    if before and not before.startswith("-"):  # the one served until now was measured
        said += f", where {was.ref}, served until now, has {before}"  # type: ignore[union-attr]
    return f"{said}: serve it only if it has been checked on other patients"


#: measures ideal at 1 or 0, not ranked higher or lower (:data:`LOWER_IS_BETTER`'s note)
_NOT_RANKED = ("oe_ratio", "calibration_slope", "calibration_in_the_large")

OTHER_FILE = "other file"
"""``same_test_rows`` of two versions tested at the same positions of two different data
files (:attr:`~medadapt.registry.diff.VersionDiff.other_file`)."""

#: where the two versions were tested (:attr:`VersionDiff.same_test_rows`), in words
_TESTED_ON = {
    True: ", on the same test set",
    False: ", on their own test sets (different test rows: the difference mixes model and data)",
    OTHER_FILE: (
        ", on the rows at the same positions of two different data files (the same patients "
        "only if one file is a re-saved copy of the other, which the registry cannot tell: "
        "the difference may mix model and data)"
    ),
    None: " (their test rows are not recorded: they may not have been tested on the same patients)",
}


def where_tested(diff: VersionDiff) -> bool | str | None:
    """Where two versions were tested, as :func:`promotion_messages` takes it: True (the same
    test rows), False (others), :data:`OTHER_FILE` (the same positions of two different
    files: perhaps the same patients) or None (not recorded)."""
    return OTHER_FILE if diff.other_file else diff.same_test_rows


def unfit_refusal(version: AdapterVersion, said: str) -> RegistryError:
    """The refusal to promote ``version``, whose recorded test result shows harm to the
    patients it would serve (``said``: :func:`~medadapt.registry.fitness.unfit_reason`'s
    sentence: a trial promoted an adapter that had forgotten the old classes with a warning
    only; a federated adapter did harm at a site it would serve). ``--despite-warnings``
    serves it."""
    return RegistryError(
        f"{version.ref} is not promoted, as its recorded test result says: {said} "
        "(pass --despite-warnings to serve it all the same)"
    )


def whole_result_warnings(version: AdapterVersion) -> list[str]:
    """The notes recorded about ``version``'s whole result (too good to be true, ranked
    backwards, ...), one line each after its reference, as ``promote`` and ``diff`` say
    them."""
    notes = metric_notes(version.metrics)
    return [f"{version.ref}: {' '.join(notes[k].split())}" for k in WHOLE_RESULT if k in notes]


def chance_words(version: AdapterVersion) -> str | None:
    """``va@1's AUROC 0.616 (0.447–0.779) is not shown to be better than chance ...`` where
    the interval of the version's AUROC reaches 0.5 (a trial's promoted adapter was said so
    only in its HTML report); None otherwise."""
    r2 = next((m for m in version.metric_list() if m.name == "r2"), None)
    if r2 is not None and r2.ci is not None and r2.value is not None:
        said = r2_in_words(r2.value, r2.ci[0])  # (0 or below: its own note says it)
        return f"{version.ref}'s R² {metric_text(r2)} is {said}" if said else None
    auroc = next((m for m in version.metric_list() if m.name == "auroc"), None)
    if auroc is None or not reaches_chance(auroc.ci):
        return None  # (wholly below: ranked backwards, as its own note says)
    return (
        f"{version.ref}'s AUROC {metric_text(auroc)} is not shown to be better than chance "
        f"(its interval reaches 0.50): nothing here shows that it tells {tested_on(version)} "
        "apart"
    )


def promotion_messages(
    promoted: AdapterVersion,
    was: AdapterVersion | None,
    *,
    same_test_rows: bool | str | None = None,
    diff: str = "medadapt registry diff",
    versus_base_warnings: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """What ``promote`` must say of the version it now serves, as ``(warnings, notes)``. The
    warnings: those recorded about its whole result (ranking backwards, too good to be true,
    a kept leak ...), and a headline figure below the one of the version served until now
    when their intervals do not show it within chance (promoting 0.062 over 0.778 went
    unsaid). A lower figure whose difference chance explains is a note, not a warning.
    ``diff``: the command that compares two versions, as the user would type it (with their
    registry flag)."""
    notes = metric_notes(promoted.metrics)
    warned = whole_result_warnings(promoted)
    # a refusal's reason, said where it is overridden
    never = none_of_a_class(promoted.metrics, tested_on(promoted))
    warned += [f"{promoted.ref}: {never}"] if never else []  # (--despite-warnings)
    warned += [f"{promoted.ref}: {w}" for w in versus_base_warnings]  # as show says them
    chance = chance_words(promoted)
    warned += [chance] if chance else []
    calibration = calibration_sentence(promoted.metrics or {})  # as its answers will say
    warned += [f"{promoted.ref}: its recorded test {calibration}"] if calibration else []
    now = next((m for m in promoted.metric_list() if not m.is_count), None)
    whole = any(key in notes for key in WHOLE_RESULT)  # said above (too good to be true...)
    if now is not None and now.value is not None and notes.get(now.name) and not whole:
        # list's (!) on it, said (a trial's federated mean, flagged by list and show, was
        # promoted unsaid)
        warned.append(f"{promoted.ref}: {metric_label(now.name)} {metric_text(now)}: "
                      f"{' '.join(notes[now.name].split()).rstrip('.')}")  # fmt: skip
    if now is None or now.value is None:  # nothing measured: the reader must know before serving
        warned.append(_unmeasured(promoted, was, notes))
    elif now.name != "auroc" and notes.get("auroc"):  # a trial's 12 rows: promoted unsaid
        warned.append(
            f"{promoted.ref}: AUROC {' '.join(notes['auroc'].split()).rstrip('.')}; its "
            f"{metric_label(now.name)} {metric_text(now)} alone cannot show how well it tells "
            "patients apart: serve it only if it has been checked on more patients"
        )
    risks = _lower_figure(promoted, was, same_test_rows, diff, metric="brier")
    if risks is not None and not risks[0] and now is not None and now.name != "brier":
        warned.append(risks[1])  # risks further from what happened, beyond chance: a trial's
        # promote over a version of Brier 0.201 to one of 0.444 (AUROC alike) went unsaid
    compared = _lower_figure(promoted, was, same_test_rows, diff)
    if compared is None:
        return warned, []
    within, said = compared
    return (warned, [said]) if within else ([*warned, said], [])


def _lower_figure(
    promoted: AdapterVersion,
    was: AdapterVersion | None,
    same_test_rows: bool | str | None,
    diff: str = "medadapt registry diff",
    *,
    metric: str | None = None,
) -> tuple[bool, str] | None:
    """``(within chance, what to say)`` when ``promoted``'s headline figure (or ``metric``,
    where both record it) is worse than ``was``'s (the version served until now), else None.
    Said as it is: lower (higher for an error), with both intervals; whether they were
    tested on the same test set (``same_test_rows``). Intervals that overlap can still
    differ beyond chance (0.70, 0.65-0.75 against 0.78, 0.74-0.82: z = 2.45, p = 0.014): the
    difference is tested from the two intervals and said in words, with its p-value where it
    is beyond chance (no z: a clinician reads the sentence). One within chance cannot tell
    the two apart, and is no evidence that they perform the same either: only comparing both
    patient by patient on the same patients could say (where ``same_test_rows``, they were
    scored on the same patients, but the registry keeps no patient's answer to compare);
    ``diff`` lists the figures and intervals side by side, and is named as doing only that.
    Without an interval the size of the difference is unknown."""
    now = next((m for m in promoted.metric_list()
                if not m.is_count and metric in (None, m.name)), None)  # fmt: skip
    if was is None or was.ref == promoted.ref or now is None or now.name in _NOT_RANKED:
        return None
    then = next((m for m in was.metric_list() if m.name == now.name), None)
    if then is None:
        return None
    lower_is_better = now.name in LOWER_IS_BETTER
    if (now.value > then.value) != lower_is_better or now.value == then.value:
        return None  # as good or better
    if metric_text(now) == metric_text(then):
        return None  # alike as shown: a trial read "Brier score <0.001 is higher (worse) than
        # <0.001" (no interval: every resample gave the same value, to the digits shown)
    direction = "higher (worse)" if lower_is_better else "lower"
    said = (
        f"{promoted.ref}'s {metric_label(now.name)} {metric_text(now)} is {direction} than "
        f"{was.ref}'s {metric_text(then)}, served until now{_TESTED_ON[same_test_rows]}"
    )
    compare = f"'{diff} {was.ref} {promoted.ref}' lists their figures and intervals side by side"
    if now.ci is None or then.ci is None:
        missing = " and ".join(v.ref for v, m in ((promoted, now), (was, then)) if m.ci is None)
        return False, (
            f"{said}; with no interval recorded for {missing}, these figures cannot say "
            f"whether the difference is real ({compare})"
        )
    if not (now.ci[0] <= then.ci[1] and then.ci[0] <= now.ci[1]):
        return False, f"{said}; their intervals do not overlap ({compare})"
    z = _z_from_intervals(now.value, now.ci, then.value, then.ci)
    if z >= _Z95:  # overlapping intervals can still differ beyond chance
        return False, (
            f"{said}; their intervals overlap, but the difference is larger than chance "
            f"explains (p = {_two_sided_p(z):.3f}, judged from the two intervals; {compare})"
        )
    could = (
        "they were scored on the same patients, but only comparing their answers patient by "
        "patient could, and the registry keeps no patient's answer"
        if same_test_rows is True
        else "only scoring both on the same patients and comparing them patient by patient could"
    )
    return True, (
        f"{said}; the difference is within what chance explains: these figures cannot tell "
        f"the two apart, nor show that they perform the same ({could}; {compare})"
    )


_Z95 = 1.959964  # the normal quantile of a two-sided 95% test


def _z_from_intervals(a: float, a_ci: list[float], b: float, b_ci: list[float]) -> float:
    """The difference of two estimates over its standard error, each error read from its 95%
    interval (width / 2 x 1.96; Altman & Bland, BMJ 2011;343:d2090), as if the two were
    independent: on the same patients a paired comparison is more sensitive."""
    se = ((a_ci[1] - a_ci[0]) ** 2 + (b_ci[1] - b_ci[0]) ** 2) ** 0.5 / (2 * _Z95)
    return abs(a - b) / se if se > 0 else float("inf")


def _two_sided_p(z: float) -> float:
    return math.erfc(z / math.sqrt(2))
