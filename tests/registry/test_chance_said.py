"""An AUROC whose recorded interval reaches 0.5 is said to be not shown better than chance by
``registry show``, ``list`` and the card, as ``promote`` warns it: a trial's card said only
that the interval was wide, and ``show`` printed the AUROC unmarked."""

from __future__ import annotations

from medadapt.cli.registry_format import note_lines
from medadapt.registry.card import _metric_limitations
from medadapt.registry.records import CHANCE_NOTE, parse_metrics, shown_notes

CHANCE = {"n": 60, "auroc": 0.631, "auroc_ci": [0.462, 0.786], "accuracy": 0.7,
          "accuracy_ci": [0.58, 0.8], "notes": {}}  # fmt: skip


def test_an_interval_reaching_chance_is_a_note_of_its_own():
    assert shown_notes(CHANCE) == {"auroc": CHANCE_NOTE}
    recorded = {**CHANCE, "notes": {"auroc": "rough: 8 positives"}}
    assert shown_notes(recorded) == {"auroc": f"rough: 8 positives; {CHANCE_NOTE}"}
    assert shown_notes({**CHANCE, "auroc_ci": [0.55, 0.8]}) == {}
    assert note_lines(CHANCE) == [
        "(!) AUROC: not shown to be better than chance (the interval reaches 0.50)"
    ]


def test_the_card_says_it_where_it_said_only_that_the_interval_is_wide():
    said = _metric_limitations(CHANCE, parse_metrics(CHANCE))
    assert "AUROC: not shown to be better than chance (the interval reaches 0.50)." in said


def test_a_read_only_registry_is_said_as_such_not_as_a_full_disk(tmp_path):
    """A trial's user without write access was told to "check the directory's permissions
    and free disk space" by `registry list`: the index opens for writing (its WAL)."""
    import sqlite3

    import pytest

    from medadapt.registry.db import Index
    from medadapt.registry.records import RegistryError

    index = Index(tmp_path / "registry.sqlite")
    with pytest.raises(RegistryError) as err, index._sqlite_errors():
        raise sqlite3.OperationalError("attempt to write a readonly database")
    assert str(err.value) == (
        f"registry {tmp_path} is read-only for this user: every command, list and show too, "
        "opens its index for writing (its write-ahead log); ask its owner for write access to "
        "the folder, or work on a copy of it"
    )
