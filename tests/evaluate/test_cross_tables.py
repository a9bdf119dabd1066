"""Subgroup tables read together: a trial's ``--subgroups ethnicity,ga_flag,b_flag,c_flag``
(each flag "this group or not") suppressed ethnicity for a group of one patient, while the
flags of groups A and C showed their counts exactly and B's as ranges; with the overall 60
patients, 45 with the disease, that patient was left with the disease."""

from __future__ import annotations

import numpy as np

from medadapt.evaluate.cross_tables import UNCHECKED, combinations, shown_tables_give_away
from medadapt.evaluate.small_cells import (
    NESTED_HIDDEN,
    SMALL_CELL,
    TOGETHER_HIDDEN,
    TOGETHER_UNCHECKED,
    mask_subgroups,
    withheld_note,
)

# the trial's groups: patients, with the disease
GROUPS = {"A": (33, 24), "B": (15, 14), "C": (11, 6), "D": (1, 1)}


def _patients() -> tuple[np.ndarray, np.ndarray]:
    """Each patient's group and outcome, as the trial's held-out rows had them."""
    groups, outcomes = [], []
    for group, (n, positives) in GROUPS.items():
        groups += [group] * n
        outcomes += [1] * positives + [0] * (n - positives)
    return np.array(groups), np.array(outcomes)


def _table(labels: np.ndarray, outcomes: np.ndarray) -> dict[str, dict]:
    return {value: {"n": int((labels == value).sum()),
                    "n_positive": int(outcomes[labels == value].sum())}
            for value in sorted(set(labels))}  # fmt: skip


def _trial() -> tuple[dict, dict]:
    groups, outcomes = _patients()
    members = {"ethnicity": groups}
    for flag in ("A", "B", "C"):
        members[f"{flag.lower()}_flag"] = np.where(groups == flag, flag, f"not{flag}")
    return {name: _table(labels, outcomes) for name, labels in members.items()}, members


def test_each_table_masked_alone_gives_the_one_patient_away_read_with_the_others():
    subgroups, members = _trial()
    alone = mask_subgroups(subgroups)
    assert alone["a_flag"]["A"]["n"] == 33 and alone["c_flag"]["C"]["n"] == 11  # exact
    assert alone["ethnicity"]["D"]["n"] in ("<5", "suppressed")
    assert shown_tables_give_away(subgroups, alone, members, small=SMALL_CELL)


def test_read_together_no_small_count_can_be_told_and_the_tables_say_why():
    subgroups, members = _trial()
    shown = mask_subgroups(subgroups, members)
    shown_here = {name: values for name, values in shown.items() if withheld_note(values) is None}
    assert not shown_tables_give_away(subgroups, shown_here, members, small=SMALL_CELL)
    hidden_together = [name for name, values in shown.items()
                       if any(v.get("notes", {}).get("counts") == TOGETHER_HIDDEN
                              for v in values.values())]  # fmt: skip
    assert hidden_together  # a flag's counts, hidden for the others' sake, say so
    assert all(shown[name][value]["n"] == "suppressed" for name in hidden_together
               for value in shown[name])  # fmt: skip
    assert shown["ethnicity"]["D"]["n"] in ("<5", "suppressed")


def test_unrelated_tables_without_a_small_count_are_shown_as_they_are():
    rng = np.random.default_rng(0)
    sex = rng.choice(["F", "M"], 120)
    band = rng.choice(["<50", "50-64", ">=65"], 120)
    outcome = rng.integers(0, 2, 120)
    subgroups = {"sex": _table(sex, outcome), "age band": _table(band, outcome)}
    assert mask_subgroups(subgroups, {"sex": sex, "age band": band}) == mask_subgroups(subgroups)
    assert mask_subgroups(subgroups)["sex"]["F"]["n"] == int((sex == "F").sum())


def test_a_column_that_fixes_another_is_known_to_and_others_are_not():
    groups, _ = _patients()
    codes = {g: i for i, g in enumerate(GROUPS)}
    flag = (groups == "A").astype(int)
    sex = np.arange(len(groups)) % 2
    values = np.column_stack([[codes[g] for g in groups], flag, sex])
    combos = combinations(values, [4, 2, 2])
    assert sorted(map(tuple, combos[:, :2].tolist())) == sorted(
        [(0, 1)] * 2 + [(1, 0)] * 2 + [(2, 0)] * 2 + [(3, 0)] * 2
    )  # the flag follows the group; sex is free: two of each
    assert len(combos) == 8


def test_a_small_count_of_an_unrelated_table_is_left_as_its_own_table_shows_it():
    """A review: an age band of 7 patients, 3 of them without the outcome, beside sex (no
    relation between them) had every count hidden "read with another subgroup table's
    counts": a reader of both learns nothing that either alone does not tell."""
    sex = np.array(["F"] * 30 + ["M"] * 30)
    band = np.array(["<50"] * 7 + [">=50"] * 53)
    rng = np.random.default_rng(1)
    rng.shuffle(sex)
    outcome = np.array([0, 0, 0, 1, 1, 1, 1] + [1] * 40 + [0] * 13)
    subgroups = {"sex": _table(sex, outcome), "age band": _table(band, outcome)}
    alone = mask_subgroups(subgroups)
    assert alone["age band"]["<50"]["n_positive"] == "suppressed"  # 4 of 7: hidden alone
    assert mask_subgroups(subgroups, {"sex": sex, "age band": band}) == alone


def test_masking_what_was_masked_together_changes_nothing():
    """The report masks again what evaluate masked: a table hidden for another's sake kept
    its note, not "counts shown as ranges" beside counts "suppressed"."""
    subgroups, members = _trial()
    shown = mask_subgroups(subgroups, members)
    assert mask_subgroups(shown) == shown


def test_tables_too_many_combinations_to_check_are_hidden_and_say_so(monkeypatch):
    """Linked tables of more combinations than are solved: the check is not run, counts as
    giving a count away (the safe side), and the note says why."""
    from medadapt.evaluate import cross_tables

    subgroups, members = _trial()
    monkeypatch.setattr(cross_tables, "MOST_JOINT_CELLS", 2)
    found = shown_tables_give_away(subgroups, mask_subgroups(subgroups), members,
                                   small=SMALL_CELL)  # fmt: skip
    assert found == UNCHECKED
    shown = mask_subgroups(subgroups, members)
    notes = {v.get("notes", {}).get("counts") for values in shown.values() for v in values.values()}
    withheld = [withheld_note(values) for values in shown.values()]
    assert TOGETHER_UNCHECKED in notes or any("too many to check" in (w or "") for w in withheld)
    assert TOGETHER_HIDDEN not in notes  # never said to give a count away: unchecked


def test_nested_groups_whose_difference_is_small_hide_the_later_table_s_counts():
    """A second trial: "age >= 58" inside "age >= 55", both exact, left 5 patients aged 55 to
    57, none without the disease, and "age >= 59" inside "age >= 58" 4 patients; an
    unrelated insurance flag beside them stays as it is."""
    ages = np.array([50] * 18 + [56] * 5 + [58] * 4 + [62] * 33)
    outcome = np.array([1] * 9 + [0] * 9 + [1] * 5 + [1, 1, 1, 0] + [1] * 22 + [0] * 11)
    insured = np.array(["yes", "no"] * 30)
    members = {"ge55": np.where(ages >= 55, "yes", "no"), "ge58": np.where(ages >= 58, "yes", "no"),
               "ge59": np.where(ages >= 59, "yes", "no"), "insured": insured}  # fmt: skip
    subgroups = {name: _table(labels, outcome) for name, labels in members.items()}
    alone = mask_subgroups(subgroups)
    assert all(isinstance(v["n"], int) for name in members for v in alone[name].values())
    shown = mask_subgroups(subgroups, members, named=list(members))
    notes = {name: {v.get("notes", {}).get("counts") for v in shown[name].values()}
             for name in members}  # fmt: skip
    assert notes["ge58"] == notes["ge59"] == {NESTED_HIDDEN}
    assert shown["ge55"] == alone["ge55"] and shown["insured"] == alone["insured"]
    assert mask_subgroups(subgroups, members) == alone  # none named: the site, sex and age


def test_a_table_no_relation_links_is_never_hidden_for_the_others():
    """A trial's random insurance flag, named last beside an ethnicity and its coarser
    grouping, had its counts hidden "read with another subgroup table's counts"."""
    subgroups, members = _trial()
    rng = np.random.default_rng(3)
    insured = rng.permutation(np.array(["yes", "no"] * 30))
    _, outcomes = _patients()
    members["insured"] = insured
    subgroups["insured"] = _table(insured, outcomes)
    shown = mask_subgroups(subgroups, members, named=list(members))
    assert shown["insured"] == mask_subgroups(subgroups)["insured"]


def test_one_table_or_none_is_read_as_it_is():
    """An image evaluation's one table (or none) has nothing to be read with (a first
    version failed on an empty list of tables)."""
    subgroups, members = _trial()
    one = {"ethnicity": subgroups["ethnicity"]}
    assert mask_subgroups({}, {}) == {}
    assert mask_subgroups(one, {"ethnicity": members["ethnicity"]}) == mask_subgroups(one)
