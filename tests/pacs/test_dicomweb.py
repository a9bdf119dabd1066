"""DICOMweb references, the PACS client against a real Orthanc, the labels join and the SR.

Orthanc tests share one server per session (``xdist_group``); reference parsing, retries and
the labels CSV need none.
"""

from __future__ import annotations

from dataclasses import replace

import pydicom
import pytest
import requests

from medadapt.data.dicom_sr import (
    Finding,
    ModelIdentity,
    prediction_report,
    read_prediction_report,
)
from medadapt.data.dicomweb import (
    DicomwebReference,
    DicomwebSource,
    NotFoundError,
    NotImagesError,
    download,
    parse_reference,
)
from medadapt.data.dicomweb_labels import read_labels, write_path_csv
from medadapt.errors import ConfigError, DataError
from tests.pacs import orthanc
from tests.pacs.studies import ct_series, radiograph

pytestmark = pytest.mark.xdist_group("orthanc")  # one PACS per worker
MODEL = ModelIdentity("chest-base", "ab" * 32, "site_b", "sha256:0123456789abcdef")


@pytest.mark.parametrize(
    ("url", "base", "study", "series"),
    [
        ("dicomweb+http://pacs/dicom-web", "http://pacs/dicom-web", None, None),
        ("dicomweb+https://pacs:8443/dicom-web/", "https://pacs:8443/dicom-web", None, None),
        ("DICOMweb+http://10.0.0.2:8042/studies/1.2.3", "http://10.0.0.2:8042", "1.2.3", None),
        ("dicomweb+http://pacs/a/b/studies/1.2/series/1.2.03", "http://pacs/a/b", "1.2", "1.2.03"),
    ],
)
def test_references_name_a_server_a_study_or_a_series(url, base, study, series):
    ref = parse_reference(url)
    assert (ref.base_url, ref.study_uid, ref.series_uid) == (base, study, series)
    assert parse_reference(str(ref)) == ref


def test_credentials_in_a_reference_are_never_shown():
    ref = parse_reference("dicomweb+http://ann:s%40cret@pacs:8042/dicom-web/studies/1.2")
    assert ref.auth == ("ann", "s@cret")
    assert str(ref) == "dicomweb+http://pacs:8042/dicom-web/studies/1.2"
    assert "cret" not in repr(ref)
    with pytest.raises(DataError) as err:
        parse_reference("dicomweb+http://ann:secret@pacs/dicom-web/studies/x")
    assert "secret" not in str(err.value)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://pacs/dicom-web", "is not a DICOMweb reference: write dicomweb+http(s)://"),
        ("dicomweb+ftp://pacs/x", "is not a DICOMweb reference"),
        ("dicomweb+http:///dicom-web", "names no host"),
        ("dicomweb+http://pacs:99999/dicom-web", "has a bad port"),
        ("dicomweb+http://pacs/dicom-web?limit=3", "has a query or fragment"),
        ("dicomweb+http://pacs/dicom-web/studies", "ends in /studies: add the StudyInstanceUID"),
        ("dicomweb+http://pacs/dicom-web/studies/1.2/frames/1", "only /series/SERIES_UID"),
        ("dicomweb+http://pacs/studies/1.2/series/1.3/instances/1.4", "names more than a series"),
        ("dicomweb+http://pacs/dicom-web/studies/1..2", "study '1..2' is not a DICOM UID"),
        ("dicomweb+http://pacs/dicom-web/studies/1.2/series/abc", "series 'abc' is not a DICOM"),
    ],
)
def test_bad_references_are_one_line_naming_data(url, says):
    with pytest.raises(DataError) as err:
        parse_reference(url)
    message = str(err.value)
    assert message.startswith("--data") and says in message and "\n" not in message


def _http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(response=response)


def test_connection_errors_and_5xx_are_retried_then_one_line():
    source = DicomwebSource("http://127.0.0.1:9/dicom-web", retries=2, backoff=0.0)
    answers = [_http_error(503), requests.ConnectionError(), [{"0020000E": {"Value": ["1.5"]}}]]

    def flaky(*args, **kwargs):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    source._client.search_for_series = flaky
    assert [s.series_uid for s in source.series("1.2")] == ["1.5"]
    source._client.search_for_series = lambda *a, **k: (_ for _ in ()).throw(_http_error(502))
    with pytest.raises(DataError, match=r"failed \(HTTP 502\) 3 times on study 1.2; try again"):
        source.series("1.2")
    unreachable = DicomwebSource("http://127.0.0.1:9/dicom-web", retries=1, backoff=0.0)
    with pytest.raises(DataError) as err:
        unreachable.series("1.2")
    assert str(err.value) == (
        "cannot reach the DICOMweb server http://127.0.0.1:9/dicom-web (ConnectionError, 2 "
        "tries): check --data and that the server is running"
    )
    with pytest.raises(ConfigError, match="not both"):
        DicomwebSource("http://u:p@pacs/dicom-web", token="t")


def test_store_list_retrieve_and_download_from_orthanc(pacs, tmp_path):
    source = DicomwebSource.for_reference(parse_reference(pacs.reference()))
    series = ct_series("bright", "PAT-CT", n_slices=4)
    xray = radiograph("dark", "PAT-CR")
    assert source.store([*series, xray]) == [str(ds.SOPInstanceUID) for ds in [*series, xray]]
    study = str(series[0].StudyInstanceUID)
    [info] = source.series(study)
    assert (info.modality, info.n_instances) == ("CT", 4)
    ref = DicomwebReference(source.url, study)
    fetched = source.instances(ref)
    assert sorted(ds.SOPInstanceUID for ds in fetched) == sorted(ds.SOPInstanceUID for ds in series)
    got = download(source, [study, str(xray.StudyInstanceUID)], tmp_path / "cache")
    assert len(got) == 5 and all(i.path.is_file() for i in got)
    assert got[0].path.relative_to(tmp_path / "cache").parts[:2] in {
        (study, info.series_uid), (str(xray.StudyInstanceUID), str(xray.SeriesInstanceUID))
    }  # fmt: skip
    local = pydicom.dcmread(next(i.path for i in got if i.sop_uid == series[2].SOPInstanceUID))
    assert (local.pixel_array == series[2].pixel_array).all()

    def no_fetch(*args):
        raise AssertionError("a cached series was fetched again")

    source.retrieve = no_fetch  # the kept folder holds every instance of both series
    again = download(source, [study, str(xray.StudyInstanceUID)], tmp_path / "cache")
    assert again == got and all(i.cached for i in again) and not any(i.cached for i in got)


def test_instances_stored_without_a_preamble_are_read(pacs, tmp_path):
    from dicomweb_client.api import DICOMwebClient

    plain = radiograph("bright", "PAT-RAW")
    raw = requests.Session()
    raw.auth = (pacs.user, pacs.password)
    DICOMwebClient(pacs.root, session=raw).store_instances([plain])  # no preamble is sent
    source = DicomwebSource.for_reference(parse_reference(pacs.reference()))
    [ds] = source.instances(DicomwebReference(source.url, str(plain.StudyInstanceUID)))
    assert ds.SOPInstanceUID == plain.SOPInstanceUID
    assert (ds.pixel_array == plain.pixel_array).all()


def test_unknown_uids_and_bad_credentials_are_one_line(pacs):
    good = DicomwebSource.for_reference(parse_reference(pacs.reference()))
    with pytest.raises(DataError) as err:
        good.instances(DicomwebReference(good.url, "1.2.3"))
    assert str(err.value) == f"study 1.2.3 not found on {pacs.root}: check --data"
    study = radiograph("dark", "PAT-404")
    good.store([study])
    with pytest.raises(DataError, match=r"^series 1\.9 of study [0-9.]+ not found on http"):
        good.instances(DicomwebReference(good.url, str(study.StudyInstanceUID), "1.9"))
    # a series' or an instance's UID given as a study's (copied from the viewer's wrong
    # field): the reference to write (a trial's was only "not found")
    uid, series = str(study.StudyInstanceUID), str(study.SeriesInstanceUID)
    instance = str(study.SOPInstanceUID)
    for given, level, tail in ((series, "series", ""),
                               (instance, "instance", " (its whole series)")):  # fmt: skip
        with pytest.raises(NotFoundError) as err:
            good.instances(DicomwebReference(good.url, given))
        assert str(err.value) == (
            f"study {given} not found on {pacs.root}: {given} is a {level} UID on it, of study "
            f"{uid}: name it as dicomweb+{pacs.root}/studies/{uid}/series/{series}{tail}"
        )
    for source, how in [
        (DicomwebSource(pacs.root, auth=(pacs.user, "wrong")), "refused the credentials"),
        (DicomwebSource(pacs.root, token="not-a-token"), "refused the credentials"),
        (DicomwebSource(pacs.root), "asks for credentials"),
    ]:
        with pytest.raises(DataError) as err:
            source.series(str(study.StudyInstanceUID))
        assert str(err.value) == (
            f"the DICOMweb server {pacs.root} {how} (HTTP 401): pass a valid bearer token, or "
            "USER:PASSWORD for basic auth, in a file with --dicomweb-token-file, or "
            "user:password@ in the --data URL"
        )
    # basic auth from the file, not the URL (a trial's password showed in 'ps' to every user)
    kept = DicomwebSource(pacs.root, token=f"{pacs.user}:{pacs.password}")
    assert kept.series(str(study.StudyInstanceUID))


def test_a_series_that_holds_no_image_is_refused_by_what_it_holds(pacs, tmp_path):
    """A report series named as the images to read (its UID copied from the PACS viewer) is
    refused before anything is fetched, naming what it holds; an unknown one is not found."""
    source = DicomwebSource.for_reference(parse_reference(pacs.reference()))
    film = radiograph("bright", "PAT-NOIMG")
    report = prediction_report([Finding({"bright": 0.7, "dark": 0.3}, [film])], MODEL)
    source.store([film, report])
    study = str(film.StudyInstanceUID)
    named = DicomwebReference(source.url, study, str(report.SeriesInstanceUID))
    with pytest.raises(NotImagesError) as err:
        download(source, named, tmp_path)
    assert str(err.value) == (
        f"series {report.SeriesInstanceUID} of study {study} holds a structured report (SR), "
        "not images: name the study's image series, or the study, in --data"
    )
    assert not any(tmp_path.iterdir())  # nothing fetched
    [ds] = source.instances(named, images_only=False)  # still readable as what it is
    assert ds.SOPInstanceUID == report.SOPInstanceUID
    with pytest.raises(NotFoundError) as err:
        source.series_uids(DicomwebReference(source.url, study, "1.2.9"))
    assert str(err.value) == (
        f"series 1.2.9 of study {study} not found on {pacs.root}: check --data"
    )


def test_a_report_is_valid_sr_stored_and_read_back_with_the_same_values(pacs):
    source = DicomwebSource.for_reference(parse_reference(pacs.reference()))
    volume, xray = ct_series("bright", "PAT-SR", n_slices=3), radiograph("dark", "PAT-SR2")
    source.store([*volume, xray])
    probabilities = {"bright": 0.8123456789012345, "dark": 0.1876543210987655}
    report = prediction_report([Finding(probabilities, volume)], MODEL)
    assert report.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    assert report.StudyInstanceUID == volume[0].StudyInstanceUID
    assert source.store([report]) == [report.SOPInstanceUID]
    ref = DicomwebReference(source.url, str(report.StudyInstanceUID), report.SeriesInstanceUID)
    [back] = source.instances(ref, images_only=False)
    [finding] = read_prediction_report(back)
    assert finding.probabilities == probabilities and finding.predicted == "bright"
    assert finding.sop_uids == tuple(ds.SOPInstanceUID for ds in volume)
    assert finding.model == MODEL
    assert sorted(s.modality for s in source.series(str(report.StudyInstanceUID))) == ["CT", "SR"]
    assert len(source.instances(DicomwebReference(source.url, ref.study_uid))) == 3  # images
    with pytest.raises(DataError, match="one study; these findings span 2"):
        prediction_report([Finding(probabilities, volume), Finding(probabilities, [xray])], MODEL)


def test_a_report_on_images_that_lack_patient_and_study_attributes_leaves_them_empty():
    """Some archives' images leave out attributes the SR must hold (Type 2: present, may be
    empty), such as the birth date: the report holds them empty (nothing made up), is valid
    and reads back; the source images are not changed."""
    volume = ct_series("bright", "PAT-NODOB", n_slices=2)
    for ds in volume:
        del ds.PatientBirthDate, ds.PatientSex, ds.AccessionNumber
    probabilities = {"bright": 0.7, "dark": 0.3}
    report = prediction_report([Finding(probabilities, volume)], MODEL)
    assert (report.PatientBirthDate, report.PatientSex, report.AccessionNumber) == ("", "", "")
    assert report.PatientID == "PAT-NODOB"
    assert all("PatientBirthDate" not in ds for ds in volume)
    [finding] = read_prediction_report(report)
    assert finding.probabilities == probabilities and finding.predicted == "bright"


def test_a_report_names_the_cautions_recorded_with_the_models_test():
    """A trial's SR read "validation=AUROC 1.00 (0.69-1.00), n=12, warning": the PACS reader
    could not tell what the warning was. Each caution is now a parameter of its own, read
    back as written, and a "Caution about the model" item of each finding's group (a later
    trial's viewer showed the finding and left the algorithm's parameters folded away)."""
    volume = ct_series("bright", "PAT-WARN", n_slices=2)
    cautions = ("test result too good to be true: check leaks",
                "no measured performance (test set too small)")  # fmt: skip
    model = replace(MODEL, validation="AUROC 1.00 (0.69-1.00), n=12, warning", warnings=cautions)
    report = prediction_report([Finding({"bright": 0.52, "dark": 0.48}, volume)], model)
    [finding] = read_prediction_report(report)
    assert finding.model == model and finding.model.warnings == cautions
    assert finding.model_cautions == cautions and finding.cautions == ()
    assert report.SeriesDescription == (  # the adapter by name (a trial's list: a hash alone)
        f"medadapt AI result, unverified ({model.adapter} on {model.base})"
    )
    group = report.ContentSequence[-1].ContentSequence[0]  # the one measurement group
    said = [(i.ConceptNameCodeSequence[0].CodeMeaning, i.TextValue)
            for i in group.ContentSequence if i.ValueType == "TEXT"]  # fmt: skip
    assert said[-2:] == [("Caution about the model", c) for c in cautions]
    assert [p for p in model.parameters() if "warning=" in p] == [
        "medadapt warning=test result too good to be true: check leaks",
        "medadapt warning=no measured performance (test set too small)",
    ]


def test_a_report_by_a_fully_fine_tuned_model_says_so_and_reads_back():
    """A model ``adapt --method full`` wrote was "base model ID alone" in the series
    description and in ``predict``'s ``model`` column: neither the base nor alone."""
    volume = ct_series("bright", "PAT-FULL", n_slices=2)
    model = ModelIdentity.of("ef" * 32, fine_tuned="va_full")
    report = prediction_report([Finding({"bright": 0.6, "dark": 0.4}, volume)], model)
    assert (
        report.SeriesDescription == "medadapt AI result, unverified (fine-tuned model efefefefefef)"
    )
    [finding] = read_prediction_report(report)
    assert finding.model == model and finding.model.fine_tuned == "va_full"
    assert finding.model.described() == "fully fine-tuned model efefefefefef (va_full)"
    assert "medadapt fine_tuned=va_full" in model.parameters()
    assert not any("fine_tuned" in p for p in MODEL.parameters())  # an adapter's as before


def test_the_finding_is_named_the_most_probable_class_not_a_diagnosis(monkeypatch):
    """A trial's viewer showed "Finding: class abnormal" for a probability of 0.59; the
    finding now reads "most probable class ...", and a report written before (its finding
    "class ...") reads back with the same predicted class."""
    from medadapt.data import dicom_sr

    volume = ct_series("bright", "PAT-MOST", n_slices=2)
    report = prediction_report([Finding({"bright": 0.59, "dark": 0.41}, volume)], MODEL)
    group = report.ContentSequence[-1].ContentSequence[0]
    [finding] = [i for i in group.ContentSequence
                 if i.ConceptNameCodeSequence[0].CodeMeaning == "Finding"]  # fmt: skip
    assert finding.ConceptCodeSequence[0].CodeMeaning == "most probable class bright"
    assert read_prediction_report(report)[0].predicted == "bright"
    monkeypatch.setattr(dicom_sr, "MOST_PROBABLE", "class")  # as an older report said it
    older = prediction_report([Finding({"bright": 0.3, "dark": 0.7}, volume)], MODEL)
    monkeypatch.undo()
    assert read_prediction_report(older)[0].predicted == "dark"


def test_labels_join_the_fetched_images_by_their_finest_uid(tmp_path):
    from medadapt.data.dicomweb import Instance

    folder = tmp_path / "f"
    instances = [
        Instance(folder / "1.1" / "1.2" / f"1.3.{k}.dcm", "1.1", "1.2", f"1.3.{k}", "1.2.840")
        for k in range(3)
    ]
    labels_csv = tmp_path / "labels.csv"
    labels_csv.write_text("StudyInstanceUID,SOPInstanceUID,label\n1.1,1.3.0,a\n1.1,1.3.2,b\n")
    labels = read_labels(labels_csv, columns=[("--label", "label")])
    assert labels.key == "SOPInstanceUID" and labels.studies == ("1.1",)
    folder.mkdir()
    csv, kept = write_path_csv(folder, instances, labels)
    assert oct(csv.stat().st_mode & 0o777) == "0o600"  # its patient column: the owner's alone
    assert [i.sop_uid for i in kept] == ["1.3.0", "1.3.2"]
    assert csv.read_text().splitlines() == [
        "path,StudyInstanceUID,SOPInstanceUID,label",
        "1.1/1.2/1.3.0.dcm,1.1,1.3.0,a",
        "1.1/1.2/1.3.2.dcm,1.1,1.3.2,b",
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("label\na\n", "has no StudyInstanceUID, SeriesInstanceUID or SOPInstanceUID column"),
        ("StudyInstanceUID,diagnosis\n1.2,a\n", "has no column 'label' (it has Study"),
        ("StudyInstanceUID,label\n1.2,a\n1.2,b\n", "StudyInstanceUID 1.2 is on lines 2 and 3"),
        ("StudyInstanceUID,label\nabc,a\n", "StudyInstanceUID on line 2 of --labels"),
        ("StudyInstanceUID,label\n,a\n", "empty 'StudyInstanceUID' (line 2 of --labels"),
        ("StudyInstanceUID,label\n1.2,a\n1.3, \n", "empty 'label' (line 3 of --labels"),
        ("StudyInstanceUID,label,path\n1.2,a,x\n", "has a 'path' column"),
        ("StudyInstanceUID,label\n", "has no rows"),
        # a trial's series column held each study's UID: refused before 40 images were fetched
        (
            "StudyInstanceUID,SeriesInstanceUID,label\n1.2,1.2,a\n1.5,1.5,b\n",
            "column 'SeriesInstanceUID' repeats 'StudyInstanceUID' on every row, but each series "
            "has a UID of its own: fill in their own UIDs, or drop column 'SeriesInstanceUID' to "
            "label by StudyInstanceUID",
        ),
        # a template's blank finer column is said blank, not a repeat of a coarser one
        ("StudyInstanceUID,SeriesInstanceUID,label\n1.2,,a\n", "empty 'SeriesInstanceUID'"),
    ],
)
def test_bad_labels_are_one_line_naming_the_flag(tmp_path, text, says):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(DataError) as err:
        read_labels(path, columns=[("--label", "label")])
    assert says in str(err.value) and "--labels" in str(err.value)


def test_a_labels_csv_separated_by_semicolons_is_read_as_its_columns(tmp_path):
    """A trial: an Excel export in a decimal-comma locale (`StudyInstanceUID;label;site`) was
    told it had no StudyInstanceUID column "(it has StudyInstanceUID;label;site)"."""
    path = tmp_path / "labels.csv"
    path.write_text("StudyInstanceUID;label;site\n1.2.3;bright;A\n1.2.4;dark;B\n")
    labels = read_labels(path, columns=[("--label", "label"), ("--group-column", "site")])
    assert labels.columns == ("StudyInstanceUID", "label", "site")
    assert labels.rows["1.2.4"]["label"] == "dark" and labels.studies == ("1.2.3", "1.2.4")


def test_a_missing_orthanc_skips_or_fails_as_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.setattr(orthanc, "ORTHANC", tmp_path / "Orthanc")
    monkeypatch.delenv("MEDADAPT_REQUIRE_ORTHANC", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Debian packages orthanc and orthanc-dic"):
        orthanc.require_orthanc()
    monkeypatch.setenv("MEDADAPT_REQUIRE_ORTHANC", "1")
    with pytest.raises(pytest.fail.Exception, match="Orthanc and its DICOMweb plug-in"):
        orthanc.require_orthanc()


def _caution_items(ds: pydicom.Dataset) -> list[tuple[str, str]]:
    """``(concept meaning, text)`` of the TEXT items "Caution" in each measurement group of
    a report, read with pydicom alone (as a PACS viewer walks the tree)."""
    [measurements] = ds.ContentSequence[-1:]  # Imaging Measurements
    return [
        (item.ConceptNameCodeSequence[0].CodeMeaning, str(item.TextValue))
        for group in measurements.ContentSequence
        for item in group.ContentSequence
        if item.ValueType == "TEXT" and item.ConceptNameCodeSequence[0].CodeValue == "CAUTION"
    ]


def test_a_report_holds_each_images_caution_and_none_for_a_usual_one(pacs):
    """A trial's SR of an MR image, for a model trained on DX, held the finding and the
    model's warnings but not the image's own caution, which predict warned and wrote in
    ``outside_training``: now a TEXT item of that finding (each note of the image one item),
    stored and read back from Orthanc."""
    source = DicomwebSource.for_reference(parse_reference(pacs.reference()))
    odd, usual = radiograph("bright", "PAT-ODD", seed=5), radiograph("dark", "PAT-ODD", seed=6)
    usual.StudyInstanceUID = odd.StudyInstanceUID
    source.store([odd, usual])
    caution = ("1 of 1 images is a DICOM MR image, but the model was trained on DX images "
               "only: the prediction may be unreliable",)  # fmt: skip
    findings = [Finding({"bright": 0.9, "dark": 0.1}, [odd], cautions=caution),
                Finding({"bright": 0.2, "dark": 0.8}, [usual])]  # fmt: skip
    report = prediction_report(findings, MODEL)
    source.store([report])
    ref = DicomwebReference(source.url, str(report.StudyInstanceUID), report.SeriesInstanceUID)
    [back] = source.instances(ref, images_only=False)
    first, second = read_prediction_report(back)
    assert (first.sop_uids, first.cautions) == ((odd.SOPInstanceUID,), caution)
    assert (second.sop_uids, second.cautions) == ((usual.SOPInstanceUID,), ())
    assert _caution_items(back) == [("Caution", caution[0])]  # one, in the odd image's group


def _texts(group: pydicom.Dataset, meaning: str) -> list[str]:
    """The values of a measurement group's TEXT items named ``meaning``, read with pydicom."""
    items = [item for item in group.ContentSequence if item.ValueType == "TEXT"]
    return [str(i.TextValue) for i in items if i.ConceptNameCodeSequence[0].CodeMeaning == meaning]


def test_one_naming_rule_names_the_model_whoever_writes_the_report():
    """``predict --store-sr`` named the base by its folder and the adapter's version by its
    hash; ``serve`` by a fingerprint prefix and "1 (sha256:...)". One rule now: Algorithm
    Name the base's id, Algorithm Version the adapter weights' hash, the full fingerprint and
    a registry version parameters of their own."""
    film = radiograph("bright", "PAT-NAME")
    served = ModelIdentity.of("ab" * 32, "site_b", "cd" * 32, registry_version=3)
    offline = ModelIdentity.of("ab" * 32, "site_b", "cd" * 32)
    report = prediction_report([Finding({"bright": 0.6, "dark": 0.4}, [film])], served)
    [finding] = read_prediction_report(report)
    assert finding.model == served and finding.model.registry_version == 3
    assert (offline.base, offline.adapter_version) == (served.base, served.adapter_version)
    assert (served.base, served.adapter_version) == ("abababababab", "sha256:cdcdcdcdcdcdcdcd")
    [group] = report.ContentSequence[-1].ContentSequence
    assert _texts(group, "Algorithm Name") == ["abababababab"]
    assert _texts(group, "Algorithm Version") == ["sha256:cdcdcdcdcdcdcdcd"]
    parameters = _texts(group, "Algorithm Parameters")
    assert f"medadapt base_fingerprint={'ab' * 32}" in parameters
    assert "medadapt registry_version=3" in parameters
    assert "medadapt registry_version=3" not in offline.parameters()


def test_an_unknown_host_is_one_line_and_not_retried():
    """``pacs.invalid`` was tried 4 times, then "cannot reach ... (ConnectionError, 4 tries)"."""
    import socket

    source = DicomwebSource("http://pacs.invalid/dicom-web", retries=3, backoff=0.0)
    calls = []

    def unresolved(*args, **kwargs):
        calls.append(1)
        cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        raise requests.ConnectionError(cause)

    source._client.search_for_series = unresolved
    with pytest.raises(DataError) as err:
        source.series("1.2")
    assert str(err.value) == "cannot resolve host 'pacs.invalid': check the address in --data"
    assert len(calls) == 1
    failing = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    source._client.search_for_series = lambda *a, **k: (_ for _ in ()).throw(
        requests.ConnectionError(failing)
    )
    with pytest.raises(DataError) as err:
        source.series("1.2")
    assert str(err.value) == (
        "cannot resolve host 'pacs.invalid' (Temporary failure in name resolution): check the "
        "address in --data and this machine's name server (DNS)"
    )


def test_a_url_that_is_no_dicomweb_root_is_said_to_be_none_not_to_lack_the_study(pacs):
    """Orthanc's REST root (no /dicom-web) said "study ... not found" of a study it holds:
    a 404 is now checked against a QIDO-RS search of the root."""
    good = DicomwebSource(pacs.root, auth=(pacs.user, pacs.password))
    film = radiograph("bright", "PAT-ROOT")
    good.store([film])
    study = str(film.StudyInstanceUID)
    host = f"http://{pacs.host}:{pacs.port}"
    for root, status in ((host, 400), (f"{host}/wrong", 404)):  # Orthanc's REST root: 400
        source = DicomwebSource(root, auth=(pacs.user, pacs.password))
        with pytest.raises(DataError) as err:
            source.series(study)
        assert str(err.value) == (
            f"{root} is not a DICOMweb root (QIDO-RS answered {status} at {root}/studies): "
            f"check the path in --data, e.g. dicomweb+{host}/dicom-web"
        )
        assert not isinstance(err.value, NotFoundError)
    with pytest.raises(NotFoundError, match=r"^study 1\.2\.3 not found on"):  # a real root
        good.series("1.2.3")


def test_a_server_without_dicomweb_at_the_usual_path_is_not_told_to_use_that_path():
    """A trial: a web server that is no DICOMweb server was told "check the path in --data,
    e.g. dicomweb+http://HOST/dicom-web", the very URL typed; it is told to check that the
    server's DICOMweb service is on (Orthanc: its plugin) and the host and port."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self):  # the standard library names it so
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host = f"127.0.0.1:{server.server_port}"
        source = DicomwebSource(f"http://{host}/dicom-web")
        with pytest.raises(DataError) as err:
            source.series("1.2.3")
    finally:
        server.shutdown()
    assert str(err.value) == (
        f"http://{host}/dicom-web is not a DICOMweb root (QIDO-RS answered 404 at "
        f"http://{host}/dicom-web/studies): {host} answers, but not as a DICOMweb server at "
        "/dicom-web: check that its DICOMweb service is on (Orthanc: the DICOMweb plugin) and "
        "where it serves it, and the host and port in --data"
    )


def test_a_stow_refused_to_a_reader_says_the_account_may_not_write(pacs):
    """A 403 to STOW-RS, from the credentials that have just read the study, said "refused
    the credentials: pass a valid bearer token"."""
    from tests.pacs.proxy import PacsProxy

    film = radiograph("dark", "PAT-RO")
    DicomwebSource(pacs.root, auth=(pacs.user, pacs.password)).store([film])
    report = prediction_report([Finding({"bright": 0.3, "dark": 0.7}, [film])], MODEL)
    with PacsProxy(pacs, token="t" * 24, read_only=True) as gateway:
        source = DicomwebSource(gateway.root, token="t" * 24)
        assert source.series(str(film.StudyInstanceUID))  # it reads
        with pytest.raises(DataError) as err:
            source.store([report], what="the report")
    assert str(err.value) == (
        f"the DICOMweb server {gateway.root} refused to store the report (HTTP 403): this "
        "account may read but not write (STOW-RS): ask the PACS administrator for write "
        "access, or drop --store-sr"
    )


def test_a_server_that_does_not_answer_is_said_to_be_tried_again(caplog):
    """A trial: a PACS that stopped answering (SIGSTOP) left predict silent for 4 minutes (4
    tries at the 60 s read timeout) before its one error line. It is asked once more (a note
    says so, and which flag sets the wait), then the error names that flag."""
    import logging
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are taken, never answered
    root = f"http://127.0.0.1:{silent.getsockname()[1]}/dicom-web"
    source = DicomwebSource(root, retries=2, backoff=0, timeout=0.2)
    try:
        with (
            caplog.at_level(logging.WARNING, logger="medadapt.notes"),
            pytest.raises(DataError) as err,
        ):
            source.series("1.2.3")
    finally:
        silent.close()
    assert str(err.value) == (
        f"the DICOMweb server {root} did not answer within 0.2 s (2 tries): check that it is "
        "running, or give a slow server longer with --dicomweb-timeout"
    )
    said = [r.getMessage() for r in caplog.records if r.name == "medadapt.notes"]
    assert said == [
        f"the DICOMweb server {root} did not answer within 0.2 s; asking once more "
        "(--dicomweb-timeout sets the wait)"
    ]


def test_a_labels_csv_is_narrowed_to_the_chosen_groups_before_anything_is_fetched(tmp_path):
    """A trial's adapt on site C fetched every site's 40 studies from its PACS (other sites'
    patients' images, for nothing) and counted them in its notes."""
    labels = tmp_path / "labels.csv"
    labels.write_text("StudyInstanceUID,label,site\n1.2.3,normal,B\n1.2.4,abnormal,C \n"
                      "1.2.5,normal,C\n")  # fmt: skip
    table = read_labels(labels, columns=[("--group-column", "site")])
    only = table.only("site", ["C"])
    assert only.studies == ("1.2.4", "1.2.5") and set(only.rows) == {"1.2.4", "1.2.5"}
    assert table.only("site", ["Z"]) is table  # none: the reader says which groups there are
    assert table.only("site", ["B", "C"]) is table
