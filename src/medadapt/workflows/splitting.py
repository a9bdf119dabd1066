"""Which samples a verb trains on and which it scores, for every modality.

The rules: an adapter's test samples come only from patients none of whose samples the base
model trained on (those may train the adapter, never test it); ``evaluate`` scores an
adapter's own held-out samples on the source it was trained from, and otherwise the requested
samples minus every sample the base or the adapter trained on (by position on the very file
and by content in any other, as the modality records them).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from medadapt.checks import named_with_hints
from medadapt.data.tables import refuse_group_spellings
from medadapt.errors import DataError
from medadapt.modalities.base import RECODED, UNKNOWN, UNRECOGNISED, Modality, Samples
from medadapt.wording import noun_for


def select(samples: Samples, column: str | None, values: Sequence[str] | None, *, what: str):
    """Indices of the samples whose group is one of ``values`` (all without values); refused,
    naming ``what`` (the option that chose), when the column also writes a chosen group
    otherwise (``hungary`` for ``Hungary``: those samples would be left out without a word)."""
    if not values:
        return np.arange(len(samples))
    values = [str(v).strip() for v in values]  # as the group labels are read
    groups = samples.groups
    if groups is None:
        raise DataError(f"{what} needs a group column: {samples.group_column_advice(values)}")
    present = set(groups.tolist())
    missing = [v for v in values if v not in present]
    unlabelled = samples.unlabelled_group(missing)
    if unlabelled is not None:
        raise DataError(f"{what}: {unlabelled}")
    if missing:
        listed = (
            f"{len(present)} distinct values (is it the right column?)"
            if len(present) > 10
            else ", ".join(sorted(present))
        )
        named, meant, hinted = named_with_hints(missing, sorted(present), among=10)
        elsewhere = "" if hinted else samples.group_column_hint(missing, holding_only=True)
        raise DataError(
            f"{what}: {noun_for(len(missing), 'group')} {named} not found in column "
            f"{column!r}{meant} (it has: {listed}){elsewhere}"
        )
    refuse_group_spellings(groups.tolist(), list(values), column=column, what=what)
    return np.flatnonzero(np.isin(groups, list(values)))


def adapter_split(
    modality: Modality,
    samples: Samples,
    chosen: np.ndarray,
    seen: np.ndarray,
    *,
    test_fraction: float,
    seed: int,
    where: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices among ``chosen``: test patients only among those none of whose
    samples the base model trained on (``seen``, of any group of ``samples``: a patient whose
    id also names a base training sample of another site is that patient); training may use
    the rest."""
    chosen = np.asarray(chosen, dtype=np.int64)
    unseen = never_seen(samples, chosen, seen)
    if len(unseen) == len(chosen):
        return _without_copies(samples, *modality.patient_split(samples, chosen, test_fraction,
                                                                seed))  # fmt: skip
    noun = modality.noun
    try:
        _, test = modality.patient_split(samples, unseen, test_fraction, seed)
    except DataError:
        trained = int(seen[chosen].sum())
        here = np.zeros_like(seen)
        here[chosen] = seen[chosen]
        elsewhere = len(never_seen(samples, chosen, here)) != len(unseen)  # a shared id
        others = " (or on other samples of their patients)" if elsewhere else ""
        raise DataError(
            f"the base model trained on {trained} of the {len(chosen)} {noun} of {where}{others}, "
            f"leaving {len(unseen)} {noun} of patients it never saw: too few to test an adapter "
            f"on; adapt on {noun} the base was not trained on, or retrain the base without them"
        ) from None
    return _without_copies(samples, np.setdiff1d(chosen, test), test)


def never_seen(samples: Samples, indices: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Those of ``indices`` whose patient has no sample the base trained on (``seen``), in
    any group of ``samples``: what the base is scored on where it "never saw" them (a trial's
    check-data counted a site's patients with other sites' ids among them)."""
    indices = np.asarray(indices, dtype=np.int64)
    if not seen.any():
        return indices
    patients = np.asarray(samples.patients())
    return indices[~np.isin(patients[indices], patients[seen])]


def shared_patients_warning(modality: Modality, samples: Samples, chosen: np.ndarray,
                            seen: np.ndarray, where: str) -> list[str]:  # fmt: skip
    """A warning where patients of ``chosen`` (the group adapted to) share a patient id with
    samples of other groups that trained the base model, and are therefore kept out of the
    adapter's test set (:func:`adapter_split`): a trial's 20 patients of site B with the ids
    of site A's were tested on without a word, "patients it never saw". Counts only."""
    known = samples.known_patients()
    if known is None or not seen.any():
        return []
    known = np.asarray(known)
    elsewhere = np.setdiff1d(np.flatnonzero(seen), chosen)
    shared = np.isin(known[chosen], known[elsewhere]) & ~seen[chosen]
    if not shared.any():
        return []
    n = len(np.unique(known[chosen][shared]))
    one = n == 1
    return [
        f"{n} patient{'' if one else 's'} of {where} ({int(shared.sum())} {modality.noun}) "
        f"{'shares an id' if one else 'share ids'} with patients whose {modality.noun} in other "
        f"groups of --data trained the base model: taken for the same patient{'' if one else 's'}"
        f", {'it is' if one else 'they are'} kept out of the adapter's test set (trained on "
        "only); if patient ids are local to each site, make them unique (prefix the site) to "
        "test on them"
    ]


def _without_copies(samples: Samples, train: np.ndarray, test: np.ndarray):
    """``test`` without the samples identical to a training one (two records of one patient
    under two ids): not fresh patients, and ``evaluate`` leaves them out too."""
    contents = samples.contents()
    if contents is None or not len(test):
        return train, test
    return train, test[~np.isin(contents[test], contents[train])]


def near_copies_sentence(n: int, scored: str, copied: str, figures: str) -> str:
    """A warning that ``n`` of ``scored`` ("the images scored") look like near-identical
    copies of ``copied`` ("images the model trained on"), so ``figures`` may be optimistic.
    Said, never acted on: a perceptual key cannot tell a lossy copy from a distinct but alike
    image (two similar synthetic images, two standard chest films), so leaving them out could
    drop genuine new patients unseen."""
    one = n == 1  # (a trial read "1 of the images predicted looks like near-identical copies")
    them = f"1 of {scored} looks" if one else f"{n} of {scored} look"
    copies = ("a near-identical copy (a lossy re-save)" if one
              else "near-identical copies (lossy re-saves)")  # fmt: skip
    they, it = ("it is a", "it") if one else ("they are", "them")
    return (f"{them} like {copies} of {copied}: if {they} "
            f"{'copy' if n == 1 else 'copies'}, {figures} are optimistic; leave {it} out of "
            "--data (a copy is no new patient)")  # fmt: skip


def adapter_test_near_copies(
    modality: Modality,
    data: Path,
    samples: Samples,
    base_split: dict[str, Any] | None,
    train: np.ndarray,
    test: np.ndarray,
) -> list[str]:
    """The warning where some of an adapter's ``test`` samples look like near-identical
    copies (a JPEG re-save of a PNG) of a sample the base trained on or of one of the
    adapter's ``train``: exact copies are left out of the test, near ones only said
    (:func:`near_copies_sentence`)."""
    test = np.asarray(test, dtype=np.int64)
    of_base = modality.near_copies(data, samples, [base_split], test)
    among = modality.near_copies_among(samples, np.asarray(train, dtype=np.int64), test)
    if of_base is None or among is None or not len(test):
        return []
    near_base, near_own = of_base[test], np.asarray(among, dtype=bool)
    if not (near_base | near_own).any():
        return []
    noun = modality.noun
    whose = [who for who, near in (("the base model", near_base), ("the adapter", near_own))
             if near.any()]  # fmt: skip
    copied = f"{noun} {' or '.join(whose)} trained on"
    return [near_copies_sentence(int((near_base | near_own).sum()),
                                 f"the adapter's {len(test)} test {noun}", copied,
                                 "its figures (and the base's alone on them)")]  # fmt: skip


def _others_sentence(
    trained: dict[str, np.ndarray], held_out: np.ndarray, own_name: str, noun: str
) -> str:
    """What became of the samples of the adapter's own source that are not its held-out ones,
    counted (a trial's ``evaluate`` on its 140 images said "24 images (the adapter's 24
    held-out images)" and nothing of the 116 others); empty where there are none."""
    others = ~held_out
    if not others.any():
        return ""
    own, base = trained["adapter"] & others, trained["base"] & others & ~trained["adapter"]
    neither = others & ~own & ~base
    parts = [f"{int(own.sum())} trained {own_name}" if own.any() else "",
             f"{int(base.sum())} the base model" if base.any() else "",
             f"{int(neither.sum())} neither (another group's, or the base's held-out ones: "
             "pass --group to score a group's)" if neither.any() else ""]  # fmt: skip
    return (
        f"; of the {len(held_out)} in --data, the {int(others.sum())} others: "
        f"{', '.join(p for p in parts if p)}"
    )


def to_score(
    modality: Modality,
    data: Path,
    samples: Samples,
    chosen: np.ndarray,
    *,
    base_split: dict[str, Any] | None,
    own_split: dict[str, Any] | None,
    group: str | None,
    group_column: str | None,
    own_name: str = "the adapter",
) -> tuple[np.ndarray, str, dict[str, int]]:
    """The indices to evaluate, a sentence saying which they are, and how many samples the
    base and the adapter trained on were left out (``{"base": n, "adapter": m}``);
    ``own_name``: what trained on ``own_split`` ("the fine-tuned model" for a fully
    fine-tuned base, whose left-out rows a trial saw attributed to "the adapter")."""
    noun = modality.noun
    trained = {
        "base": modality.in_split(data, samples, base_split, "train"),
        "adapter": modality.in_split(data, samples, own_split, "train"),
    }
    if own_name != "the adapter":  # a fine-tuned model is its own base: its rows once
        trained["base"] = trained["base"] & ~trained["adapter"]
    either = trained["base"] | trained["adapter"]
    if own_split and group is None and modality.same_source(own_split, data, samples):
        held_out = modality.in_split(data, samples, own_split, "test")
        kept = np.flatnonzero(held_out & ~either)
        sentence = f"{own_name}'s {int(held_out.sum())} held-out {noun}"
        dropped = {who: int((held_out & mask).sum()) for who, mask in trained.items()
                   if (held_out & mask).any()}  # fmt: skip
        if dropped:  # an older adapter's split, or a copy under another id
            by = {"base": "the base model", "adapter": own_name}
            sentence += ", minus " + " and ".join(
                f"{n} that match {noun} {by[who]} trained on (by content)"
                for who, n in dropped.items()
            )
        sentence += _others_sentence(trained, held_out, own_name, noun)  # after what is scored
        return kept, sentence, dropped
    chosen = np.asarray(chosen, dtype=np.int64)
    described = f"{group_column} = {group}" if group is not None else f"all {noun}"
    excluded = {who: int(mask[chosen].sum()) for who, mask in trained.items() if mask[chosen].any()}
    kept = chosen[~either[chosen]]
    if not excluded:
        return kept, described, {}
    who = {"base": "the base model", "adapter": own_name}
    if len(excluded) == 1:
        ((key, n),) = excluded.items()
        sentence = (
            f"{described}, minus {n} {noun} that match {noun} {who[key]} trained on (by content)"
        )
    else:
        parts = ", ".join(f"{n} by {who[key]}" for key, n in excluded.items())
        sentence = (
            f"{described}, minus {len(chosen) - len(kept)} {noun} that match training {noun} "
            f"(by content; {parts})"
        )
    return kept, sentence, excluded


#: what a warning says of the samples a model trained on that are not recognised: an
#: evaluation includes them; predict's trained_on column leaves them unmarked
INCLUDES = "may include them and overstate the model"


def unrecognised_warning(
    splits: dict[str, dict[str, Any] | None], scored: str = "this evaluation",
    misses: str = INCLUDES, *, outcome: str | None = None,
) -> list[str]:  # fmt: skip
    """The warnings where the samples a model trained on cannot be recognised in ``--data``:
    the model's columns absent from it (a split's ``"_unrecognised"``), or categorical
    columns recoded since training in most of its rows (``"_recoded"``); ``splits``: whose
    split ("the base model", "the adapter") -> the split read; ``scored``: what may hold
    them, and ``misses`` what it then does; ``outcome``: the label, which new patients'
    rows lack (``predict``: not asked for)."""
    return (_absent_columns(splits, scored, misses, outcome)
            + _recoded_columns(splits, scored, misses))  # fmt: skip


def _marked(splits: dict[str, dict[str, Any] | None], key: str) -> tuple[list[str], str, str]:
    """The columns the splits read mark under ``key`` (every split's, sorted), whose splits
    mark them ("the base model and the adapter"), and the columns quoted for a sentence."""
    marked = {who: (split or {}).get(key, []) for who, split in splits.items()}
    columns = sorted({column for names in marked.values() for column in names})
    who = " and ".join(name for name, names in marked.items() if names)
    return columns, who, ", ".join(map(repr, columns))


def _absent_columns(splits: dict[str, dict[str, Any] | None], scored: str,
                    misses: str = INCLUDES, outcome: str | None = None) -> list[str]:  # fmt: skip
    columns, who, named = _marked(splits, UNRECOGNISED)
    if outcome in columns and len(columns) > 1:  # new patients have no outcome: a trial was
        # told to add it; with every feature there, rows are recognised without it
        columns = [c for c in columns if c != outcome]
        named = ", ".join(map(repr, columns))
    if not columns:
        return []
    if len(columns) == 1:
        said, them, those = f"column {named} is", "it", "that column"
    else:
        said, them, those = f"columns {named} are", "them", "those columns"
    return [
        f"the model's {said} not in --data: rows {who} trained on cannot be recognised without "
        f"{them}, so {scored} {misses}; add {those} to --data to leave those rows out"
    ]


def _recoded_columns(splits: dict[str, dict[str, Any] | None], scored: str,
                     misses: str = INCLUDES) -> list[str]:  # fmt: skip
    """The warning where categorical columns were recoded since training (yes/no for
    true/false) in most rows of --data: a training row recoded so is not recognised by its
    content, and would be scored as a test row."""
    columns, who, named = _marked(splits, RECODED)
    if not columns:
        return []
    said = f"column {named} holds" if len(columns) == 1 else f"columns {named} hold"
    return [
        f"{said}, in most rows of --data, values the model never learned (recoded since "
        f"training?): rows {who} trained on, recoded so, cannot be recognised by their "
        f"content, so {scored} {misses}; recode them as in training to leave those rows out"
    ]


def unknown_split_warning(
    splits: dict[str, dict[str, Any] | None], scored: str = "this evaluation",
    misses: str = INCLUDES, noun: str = "rows",
) -> list[str]:  # fmt: skip
    """The warning where a model's ``split.json`` (which samples trained it, as hashes) is not
    beside it and ``--data`` is another file than its training one (``"_unknown"``): a
    registry's copy, or one imported from another hospital, holds none (the hashes stay where
    the rows are), so the samples it trained on cannot be recognised; ``splits``, ``scored``
    and ``misses`` as for :func:`unrecognised_warning`; ``noun``: what the samples are."""
    who = [name for name, split in splits.items() if (split or {}).get(UNKNOWN)]
    if not who:
        return []
    whose = " and ".join(who)
    them, it = ("them", "they") if len(who) > 1 else ("it", "it")
    return [
        f"the split.json of {whose} (which {noun} trained {them}, as hashes) is not beside "
        f"{them}: a registry's copy, or one imported from another hospital, holds none, so "
        f"the {noun} {it} trained on cannot be recognised in --data, and {scored} {misses} if "
        f"--data holds any ({noun} of the hospital that trained {them}); to leave them out, "
        "point at the directories train-base and adapt wrote"
    ]


def unrecorded_warning(
    who: str,
    how: str,
    noun: str = "rows",
    scored: str = "this evaluation",
    *,
    figures: str = "its figures",
    instead: str = "evaluate only on",
) -> str:
    """The warning when ``who`` ("the base model", "adapter 'c'") records no samples it
    trained on (saved without them: none can be left out, so ``scored`` may include them and
    ``figures`` may be optimistic); ``how``: what trains it again with them recorded;
    ``instead``: what to do only on samples it never saw."""
    return (
        f"{who} records no {noun} it trained on: they cannot be left out, so {scored} may "
        f"include them and {figures} may be optimistic; retrain it with {how}, which records "
        f"them, or {instead} {noun} it never saw"
    )


def unrecorded_base_warning(
    modality: Modality,
    base: Any,
    base_split: dict[str, Any] | None,
    scored: str,
    *,
    figures: str,
    instead: str,
) -> list[str]:
    """:func:`unrecorded_warning` for a ``base`` (a ``BaseModel``) whose split read
    (``base_split``) records no samples it trained on, as a list (empty when it records them,
    or was never trained: a FLamby initial base has none)."""
    if base_split or base.training.get("untrained"):
        return []
    python = {"tabular": "ma.train_base", "image": "images.train_base"}.get(modality.kind)
    how = "medadapt train-base" + (f" (or {python}, then base.save)" if python else "")
    return [
        unrecorded_warning(
            "the base model", how, modality.noun, scored, figures=figures, instead=instead
        )
    ]


def base_split_warnings(
    modality: Modality,
    base: Any,
    base_split: dict[str, Any] | None,
    scored: str,
    *,
    figures: str,
    instead: str,
) -> list[str]:
    """Why ``scored`` may hold samples ``base`` trained on: its training samples cannot be
    recognised in this data (:func:`unrecognised_warning`), or it records none
    (:func:`unrecorded_base_warning`); what ``adapt``, ``study --base`` and federated sites
    say of the base they start from."""
    splits = {"the base model": base_split}
    return (
        unrecognised_warning(splits, scored)
        + unknown_split_warning(splits, scored, noun=modality.noun)
        + unrecorded_base_warning(modality, base, base_split, scored, figures=figures,
                                  instead=instead)
    )  # fmt: skip
