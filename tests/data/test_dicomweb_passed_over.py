"""What a DICOMweb fetch passes over as no image is counted by kind: medadapt's own reports
(a rerun's ``predict --store-sr`` results, by their series description) apart from other
non-image series, which a trial's rerun read as "a report, a document" of another kind."""

from __future__ import annotations

from collections import Counter

from medadapt.data.dicom_sr import SERIES_DESCRIPTION
from medadapt.data.dicomweb import SeriesInfo, download


class _Listing:
    """A PACS that lists one study's series (QIDO-RS) and holds no image series to fetch."""

    def __init__(self, series: list[SeriesInfo]) -> None:
        self._series = series

    def series(self, study_uid: str) -> list[SeriesInfo]:
        return self._series


def test_medadapt_s_own_reports_are_counted_apart_from_other_non_image_series(tmp_path):
    study = "1.2.3"
    listed = [
        SeriesInfo(study, "1.2.3.1", "SR", 1, f"{SERIES_DESCRIPTION} (0123456789ab)"),
        SeriesInfo(study, "1.2.3.2", "SR", 1, "medadapt ba9876543210"),  # an older one's
        SeriesInfo(study, "1.2.3.3", "SR", 1, "Radiologist report"),
        SeriesInfo(study, "1.2.3.4", "DOC", 1, ""),
    ]
    passed_over: Counter[str] = Counter()
    assert download(_Listing(listed), [study], tmp_path, passed_over=passed_over) == []
    assert passed_over == {"medadapt_series": 2, "series": 2}
