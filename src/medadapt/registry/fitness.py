"""Whether a version's recorded test result shows harm to the patients it would serve: what
``registry promote`` refuses without ``--despite-warnings``, and what a server's hint about a
version to promote says of it (a review: the hint judged by the notes alone, and named a
``promote`` of an adapter that called none of a class's patients, which promote refuses).
"""

from __future__ import annotations

from medadapt.registry.records import AdapterVersion, metric_notes
from medadapt.registry.summary_words import recorded_unit
from medadapt.results import (
    ONE_CLASS,
    UNFIT_TO_SERVE,
    harm_at_sites,
    none_of_a_class,
    tested_unit,
)


def unfit_reason(version: AdapterVersion, summary: dict | None = None) -> str | None:
    """Why ``registry promote`` refuses ``version`` (its recorded harm, in one sentence), or
    None: what ``promote --despite-warnings`` records in the audit log as overridden."""
    summary = summary or {}  # a federated record of before: its sites' harm from its figures
    unit = tested_on(version)
    notes = {**harm_at_sites(summary.get("by_site"), summary.get("versus_base"), unit),
             **metric_notes(version.metrics)}  # fmt: skip
    said = next((" ".join(notes[k].split()) for k in UNFIT_TO_SERVE if k in notes), None)
    said = said or none_of_a_class(version.metrics, unit) or _everyone_one_class(notes)
    return None if said is None else said.rstrip(".")


def tested_on(version: AdapterVersion) -> str:
    """What the version was tested on, in its refusals: ``images`` for an image adapter (a
    trial's read "none of its 5 negative test patients"), else ``patients``."""
    return tested_unit(recorded_unit(version.data_summary))


def _everyone_one_class(notes: dict[str, str]) -> str | None:
    """The recorded note that the adapter called every test patient one class (``every
    patient is called positive ...``, :func:`~medadapt.evaluate.metrics.one_class_note`),
    where the class left out was too rare for a sensitivity or specificity to be reported
    (a trial's 37 patients, 2 negative); "95% of patients" is a warning, not this."""
    said = " ".join(notes.get(ONE_CLASS, "").split())
    return said if said.startswith("every ") else None
