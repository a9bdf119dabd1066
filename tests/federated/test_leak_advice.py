"""The fix a simulation's leak refusal offers: leaving a site out of ``--groups`` only for the
columns that leak at sites alone (a column that leaks in the base's training rows too stays
whatever sites are left out). No Flower run, no data: the refusal itself."""

from __future__ import annotations

import pytest

from medadapt.data.leaks import Leak
from medadapt.errors import DataError
from medadapt.federated.leak_survey import BASE_ROWS, _refuse

LEAVE = "out of --groups, or pass --on-site-error continue to go on without"


def _said(found, *, trained_here: bool = True) -> str:
    with pytest.raises(DataError) as refused:
        _refuse(found, "num", trained_here=trained_here)
    return str(refused.value)


def _leak(column: str) -> Leak:
    return Leak(column, "AUROC", 1.0, rows=200, threshold=0.98)


def test_a_column_leaking_in_the_bases_rows_and_at_a_site_is_not_fixed_by_leaving_the_site_out():
    said = _said([(BASE_ROWS, _leak("oldpeak")), ("at site Hungary", _leak("oldpeak"))])
    assert "leave it out with --exclude oldpeak" in said and LEAVE not in said
    assert "leave site Hungary" not in said


def test_a_column_leaking_at_sites_alone_may_be_fixed_by_leaving_them_out():
    said = _said([("at site Hungary", _leak("oldpeak")), ("at site Swiss", _leak("thalch"))],
                 trained_here=False)  # fmt: skip
    assert said.endswith(
        "correct the sites' export of them (or leave sites Hungary, Swiss out of --groups, or "
        "pass --on-site-error continue to go on without them)"
    )


def test_with_both_kinds_the_sites_are_offered_for_their_own_columns_only():
    said = _said([(BASE_ROWS, _leak("trestbps")), (BASE_ROWS, _leak("oldpeak")),
                  ("at site Hungary", _leak("oldpeak")),
                  ("at site Swiss", _leak("thalch"))])  # fmt: skip
    assert said.endswith(
        "(or for 'thalch', leave site Swiss out of --groups, or pass --on-site-error continue to "
        "go on without it)"
    )  # not Hungary: its 'oldpeak' leaks in the base's rows too


def test_the_bases_rows_alone_offer_no_site_to_leave_out():
    assert LEAVE not in _said([(BASE_ROWS, _leak("trestbps"))])
