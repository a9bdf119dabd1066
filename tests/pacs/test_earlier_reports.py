"""The medadapt reports a study holds already, read back before ``predict --store-sr`` stores
another: a report medadapt wrote that cannot be read (an older version's, one edited by hand)
is counted, never a traceback. No PACS: a source that lists and returns data sets."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest

from medadapt.cli.dicomweb import _earlier_note
from medadapt.data.dicom_sr import Finding, ModelIdentity, prediction_report, read_prediction_report
from medadapt.data.dicomweb import SeriesInfo
from medadapt.data.dicomweb_reports import EarlierReports, earlier_reports
from medadapt.errors import DataError
from tests.pacs.studies import radiograph

FILM = radiograph("bright", "PAT-EARLIER", seed=7)
STUDY = str(FILM.StudyInstanceUID)
OTHER = ModelIdentity.of("cd" * 32)


def _report() -> object:
    return prediction_report([Finding({"bright": 0.7, "dark": 0.3}, [FILM])], OTHER)


def _group(ds) -> object:
    [group] = ds.ContentSequence[-1].ContentSequence  # Imaging Measurements: one group
    return group


def _without_measurements():
    """A medadapt report whose measurement group lost its items (probabilities, algorithm)."""
    ds = _report()
    _group(ds).ContentSequence = [i for i in _group(ds).ContentSequence
                                  if i.ValueType in ("CODE", "IMAGE")]  # fmt: skip
    return ds


def _with_a_bare_parameter():
    """A medadapt report whose algorithm parameter says no ``name=value``: reading it raised
    ValueError outside the guarded part (a traceback from ``predict --store-sr``)."""
    ds = _report()
    for item in _group(ds).ContentSequence:
        if item.ConceptNameCodeSequence[0].CodeMeaning == "Algorithm Parameters":
            item.TextValue = "medadapt base_fingerprint"
    return ds


class Source:
    """A PACS's SR series of one study, each holding one report."""

    def __init__(self, reports: list) -> None:
        self.reports = {str(ds.SeriesInstanceUID): ds for ds in reports}

    def series(self, study_uid: str, *, modality: str | None = None) -> list[SeriesInfo]:
        return [SeriesInfo(study_uid, uid, "SR", 1, str(ds.SeriesDescription))
                for uid, ds in self.reports.items()]  # fmt: skip

    def retrieve(self, study_uid: str, series_uid: str) -> list:
        return [copy.deepcopy(self.reports[series_uid])]


def test_a_malformed_medadapt_report_reads_as_a_data_error():
    with pytest.raises(DataError, match="not a medadapt prediction report"):
        read_prediction_report(_with_a_bare_parameter())
    [finding] = read_prediction_report(_without_measurements())  # readable, names no model
    assert finding.probabilities == {} and finding.model.base_fingerprint == ""


def test_unreadable_earlier_reports_are_counted_and_the_readable_ones_kept():
    good = _report()
    found = earlier_reports(Source([good, _without_measurements(), _with_a_bare_parameter()]),
                            STUDY)  # fmt: skip
    assert [r.sop_uid for r in found.reports] == [str(good.SOPInstanceUID)]
    assert found.reports[0].model == OTHER
    assert found.reports[0].series == frozenset({str(FILM.SeriesInstanceUID)})
    assert found.unreadable == [STUDY, STUDY]
    elsewhere = earlier_reports(Source([_with_a_bare_parameter()]), STUDY, "1.2.999")
    assert not elsewhere  # it reports on another series of the study: not counted


def _earlier(readable: int, unreadable: int) -> EarlierReports:
    report = SimpleNamespace(study_uid=STUDY, model=SimpleNamespace(same_version=lambda m: False))
    return EarlierReports([report] * readable, [STUDY] * unreadable)


@pytest.mark.parametrize(
    ("readable", "unreadable", "stored", "said"),
    [
        (1, 0, 1, "1 earlier medadapt report (of other model versions): the new report is "
                  "stored beside it"),
        (2, 0, 3, "2 earlier medadapt reports (of other model versions): the 3 new reports are "
                  "stored beside them"),
        (0, 1, 1, "1 earlier medadapt report (1 could not be read, an older or edited report "
                  "whose model version is unknown): the new report is stored beside it"),
        (1, 1, 2, "2 earlier medadapt reports (1 of other model versions; 1 could not be read, "
                  "an older or edited report whose model version is unknown): the 2 new "
                  "reports are stored beside them"),
    ],
)  # fmt: skip
def test_the_note_counts_the_earlier_and_the_stored_reports(readable, unreadable, stored, said):
    assert _earlier_note(_earlier(readable, unreadable), None, stored) == (
        f"study {STUDY} already held {said}"
    )
