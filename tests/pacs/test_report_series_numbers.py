"""The reports stored of one study's series each get their own series number (9900 plus the
series' own; a trial's viewer listed two series 9901), and each report records what wrote it
(SoftwareVersions: ``medadapt`` and its version; a trial's had none). No PACS: a stand-in
source keeps what it is asked to store."""

from __future__ import annotations

from pydicom.uid import generate_uid

import medadapt
from medadapt.data.dicom_sr import SERIES_NUMBER, ModelIdentity
from medadapt.data.dicomweb import Instance
from medadapt.data.dicomweb_reports import Prediction, store_reports
from tests.pacs.studies import radiograph

MODEL = ModelIdentity("chest-base", "ab" * 32, "site_b", "sha256:0123456789abcdef")


class _Source:
    """What ``store_reports`` needs of a PACS: ``store``, keeping the reports."""

    url = "http://pacs.invalid/dicom-web"

    def __init__(self) -> None:
        self.stored: list = []

    def store(self, datasets, what: str = "") -> list[str]:
        self.stored += datasets
        return [str(ds.SOPInstanceUID) for ds in datasets]


def test_each_report_of_a_study_has_its_own_series_number_and_names_its_writer(tmp_path):
    first = radiograph("bright", "PAT-SN")
    second = radiograph("dark", "PAT-SN", seed=2)
    second.StudyInstanceUID = first.StudyInstanceUID  # one study, two series
    second.SeriesInstanceUID = generate_uid()
    other = radiograph("dark", "PAT-OTHER", seed=3)  # another study: numbered from 9901 again
    predictions = []
    for k, ds in enumerate((first, second, other)):
        path = tmp_path / f"{k}.dcm"
        ds.save_as(path, enforce_file_format=True)
        instance = Instance(path, str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID),
                            str(ds.SOPInstanceUID), str(ds.SOPClassUID))  # fmt: skip
        predictions.append(Prediction(instance.study_uid, instance.series_uid,
                                      {"bright": 0.6, "dark": 0.4}, [instance]))  # fmt: skip
    source = _Source()
    stored = store_reports(source, predictions, MODEL)
    assert len(stored) == 3
    numbers = [int(report.SeriesNumber) for report in source.stored]
    assert numbers == [SERIES_NUMBER, SERIES_NUMBER + 1, SERIES_NUMBER]  # both series number 1
    # a review: another request storing one series of the same study numbered alike; the
    # report's number follows its series' own (9900 + 5), whichever call stores it
    second.SeriesNumber = 5
    second.save_as(tmp_path / "1.dcm", enforce_file_format=True)
    later = _Source()
    store_reports(later, predictions[1:2], MODEL)
    assert int(later.stored[0].SeriesNumber) == 9905
    assert {str(r.SoftwareVersions) for r in source.stored} == {f"medadapt {medadapt.__version__}"}
