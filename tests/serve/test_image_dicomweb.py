"""A DICOMweb reference in a prediction request: fetched from an Orthanc PACS the server was
started with, scored exactly as the same files uploaded; other archives are refused. With
``"store_sr": true`` (a server started with ``--store-sr``) the answers are stored there as
DICOM SRs, which read back with the answer's probabilities."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from fastapi.testclient import TestClient

from medadapt.data.dicom_sr import (
    Finding,
    ModelIdentity,
    prediction_report,
    read_prediction_report,
)
from medadapt.data.dicomweb import DicomwebSource, NotFoundError
from medadapt.errors import DataError
from medadapt.evaluate.report.formatting import validation_summary
from medadapt.registry import Registry
from medadapt.serve.app import create_app
from medadapt.serve.image_inputs import ImageServing
from medadapt.serve.schemas import ImagePredictResponse
from tests.pacs.conftest import pacs  # noqa: F401 (the Orthanc fixture)
from tests.pacs.studies import ct_series, radiograph, save

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def logged_in(archive) -> str:
    """The archive's root with its ``user:password@``: the server's own credentials
    (``--dicomweb-archive``); a client's reference carries none."""
    return archive.root.replace("://", f"://{archive.user}:{archive.password}@")


def test_a_dicomweb_reference_scores_as_its_files_uploaded(image_registry, request, tmp_path):
    archive = request.getfixturevalue("pacs")
    films = [radiograph("bright", "PAT1", seed=1), radiograph("dark", "PAT1", seed=2)]
    films[1].StudyInstanceUID = films[0].StudyInstanceUID  # two series of one study
    series = ct_series("bright", "PAT2", n_slices=3)
    DicomwebSource(archive.root, auth=(archive.user, archive.password)).store([*films, *series])
    limits = ImageServing(dicomweb_archives=(logged_in(archive),), max_images=2)
    app = create_app(image_registry["registry"], token=TOKEN, images=limits)
    study = str(films[0].StudyInstanceUID)
    with TestClient(app) as client:

        def post(**body) -> dict:
            reply = client.post("/v1/predict", json={"adapter": "site_a", **body}, headers=AUTH)
            return {"status": reply.status_code, **reply.json()}

        fetched = post(dicomweb=archive.reference("studies", study, auth=False))
        assert fetched["status"] == 200, fetched
        by_uid = {p["file"]: p for p in fetched["predictions"]}
        assert set(by_uid) == {str(ds.SOPInstanceUID) for ds in films}
        files = [("file", (p.name, p.read_bytes())) for p in save(films, tmp_path)]
        uploaded = client.post("/v1/predict", data={"adapter": "site_a"}, files=files,
                               headers=AUTH).json()["predictions"]  # fmt: skip
        for one in uploaded:
            served = by_uid[one["file"].removesuffix(".dcm")]
            np.testing.assert_allclose(list(served["probabilities"].values()),
                                       list(one["probabilities"].values()), atol=1e-6)  # fmt: skip
            assert (served["adapter"], served["version"]) == ("site_a", 1)
        too_many = post(
            dicomweb=archive.reference("studies", str(series[0].StudyInstanceUID), auth=False)
        )
        assert too_many["status"] == 413 and too_many["detail"].endswith(
            "more than 2 instances, the most a request reads (serve --max-images); name one of "
            "its series, or score it with 'medadapt predict --data' (no such limit)"
        )
        one_series = post(dicomweb=archive.reference("studies", str(series[0].StudyInstanceUID),
                                                     "series", str(series[0].SeriesInstanceUID),
                                                     auth=False))  # fmt: skip
        assert one_series["status"] == 413  # its 3 slices: no "name one series" to it
        assert (
            "(serve --max-images); this series alone is over it, or score" in one_series["detail"]
        )
        missing = post(dicomweb=archive.reference("studies", "1.2.3.4", auth=False))
        assert missing["status"] == 404 and "not found on" in missing["detail"]
        elsewhere = post(dicomweb="dicomweb+http://10.0.0.9/dicom-web/studies/1.2.3")
        assert elsewhere["status"] == 403
        assert elsewhere["detail"] == (
            f"http://10.0.0.9/dicom-web: this server reads DICOMweb only from {archive.root}"
        )
        # the archive's own host without its /dicom-web: a misspelt reference, said so (a
        # trial's was answered 403 as another archive's)
        host = archive.root.removesuffix("/dicom-web")
        no_root = post(dicomweb=f"dicomweb+{host}/studies/{study}")
        assert no_root["status"] == 422
        assert no_root["detail"] == (
            f"{host} is not the DICOMweb root of the archive this server reads on that host "
            f"({archive.root}): write dicomweb+{archive.root}/studies/UID[/series/UID]"
        )
        malformed = post(dicomweb="dicomweb+http://pacs/dicom-web/studies/abc")
        assert malformed["status"] == 422 and "is not a DICOM UID" in malformed["detail"]
        assert post(dicomweb=archive.reference(auth=False))["status"] == 422  # no study
        unknown_field = post(dicomweb=archive.reference("studies", study, auth=False), instances=[])
        assert unknown_field["status"] == 422


@pytest.mark.parametrize(
    ("own", "said"),
    [
        ({"dicomweb_archives": ("http://127.0.0.1:8042/dicom-web",), "dicomweb_token": "k" * 32},
         "the token of its --dicomweb-token-file"),
        ({"dicomweb_archives": ("http://pacs-user:server-secret@127.0.0.1:8042/dicom-web",)},
         "the user:password@ of its --dicomweb-archive URL"),
        ({"dicomweb_archives": ("http://127.0.0.1:8042/dicom-web",)},
         "set where it is started: --dicomweb-token-file, or user:password@ in its "
         "--dicomweb-archive URL"),
    ],
    ids=["token", "archive password", "none"],
)  # fmt: skip
def test_a_reference_carrying_credentials_is_refused_without_repeating_them(
    image_registry, caplog, own, said
):
    """A client's ``user:password@`` was used silently when the server had none of its own: a
    password in a request ends up in logs and proxies. 422 before anything is fetched, saying
    whose credentials the server uses; neither the user nor the password is repeated."""
    caplog.set_level(logging.DEBUG)
    app = create_app(image_registry["registry"], token=TOKEN, images=ImageServing(**own))
    sent = "dicomweb+http://alice:hunter2-Secret@127.0.0.1:8042/dicom-web/studies/1.2.826.0.1.7"
    user_only = sent.replace(":hunter2-Secret", "")  # a user alone is refused too
    with TestClient(app) as client:
        replies = [
            client.post("/v1/predict", json={"adapter": "site_a", "dicomweb": url}, headers=AUTH)
            for url in (sent, user_only)
        ]
    for reply in replies:
        assert reply.status_code == 422
        assert reply.json() == {
            "detail": "'dicomweb' carries credentials (user:password@ in the URL): do not send "
            "them in the reference (they end up in logs and proxies); send "
            "dicomweb+http://127.0.0.1:8042/dicom-web/studies/1.2.826.0.1.7: the server reads "
            f"the archive with its own credentials, {said}",
            "file": None,
        }
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for secret in ("hunter2", "alice", "server-secret"):
        assert secret not in logged and all(secret not in r.text for r in replies)


def test_credentials_to_an_archive_not_served_get_the_403_and_no_word_of_the_servers_own(
    image_registry,
):
    """A review: the 422 on credentials came before the archive check, telling any client
    how the server authenticates to its PACS; an archive it does not serve is a 403 first."""
    limits = ImageServing(dicomweb_archives=("http://127.0.0.1:8042/dicom-web",),
                          dicomweb_token="k" * 32)  # fmt: skip
    app = create_app(image_registry["registry"], token=TOKEN, images=limits)
    elsewhere = "dicomweb+http://alice:pw@10.9.9.9:8042/dicom-web/studies/1.2.826.0.1.7"
    with TestClient(app) as client:
        reply = client.post(
            "/v1/predict", json={"adapter": "site_a", "dicomweb": elsewhere}, headers=AUTH
        )
    assert reply.status_code == 403
    assert "token" not in reply.json()["detail"] and "pw" not in reply.text


def _writing_client(registry, archive, *, store_sr: bool = True) -> TestClient:
    limits = ImageServing(dicomweb_archives=(logged_in(archive),), store_sr=store_sr)
    return TestClient(create_app(registry, token=TOKEN, images=limits))


def _study_of_two_series(archive, patient: str) -> tuple[DicomwebSource, list, dict]:
    """Two radiographs of one study in the PACS, and a request to score and store them."""
    films = [radiograph("bright", patient, seed=3), radiograph("dark", patient, seed=4)]
    films[1].StudyInstanceUID = films[0].StudyInstanceUID  # two series: two reports
    source = DicomwebSource(archive.root, auth=(archive.user, archive.password))
    source.store(films)
    study = str(films[0].StudyInstanceUID)
    reference = archive.reference("studies", study, auth=False)
    body = {"adapter": "site_a", "dicomweb": reference, "store_sr": True}
    return source, films, body


def test_store_sr_writes_one_report_per_series_that_reads_back_as_answered(
    image_registry, request, caplog
):
    archive = request.getfixturevalue("pacs")
    source, films, body = _study_of_two_series(archive, "PAT3")
    study = str(films[0].StudyInstanceUID)
    caplog.set_level(logging.INFO, logger="medadapt.serve")
    with _writing_client(image_registry["registry"], archive) as client:
        reply = client.post("/v1/predict", json=body, headers=AUTH)
    assert reply.status_code == 200, reply.text
    answer = ImagePredictResponse.model_validate(reply.json()).model_dump()
    by_uid = {p["file"]: p for p in answer["predictions"]}
    stored = answer["stored_reports"]
    assert sorted(r["reports_on_series"] for r in stored) == sorted(
        str(ds.SeriesInstanceUID) for ds in films
    )
    for report in stored:
        [ds] = source.retrieve(study, report["series_instance_uid"])
        assert (ds.Modality, ds.SOPInstanceUID) == ("SR", report["sop_instance_uid"])
        assert report["study_instance_uid"] == study
        [finding] = read_prediction_report(ds)
        [sop_uid] = finding.sop_uids
        served = by_uid[sop_uid]
        assert finding.probabilities == served["probabilities"]
        assert finding.predicted == served["predicted"]
        model = finding.model
        version = Registry(image_registry["registry"]).get("site_a@1")
        # the weights' hash predict --store-sr records for them, and the registry version
        assert (model.adapter, model.adapter_version, model.registry_version) == (
            "site_a", f"sha256:{version.weights_blob[:16]}", 1)  # fmt: skip
        recorded = version.metrics
        assert model.validation == validation_summary(recorded)  # e.g. "not reported (n=2)"
        assert model.warnings == ("no measured performance (test set too small)",)
        assert served["note"].startswith(  # the answer says it too, as predict warns
            "caution, adapter site_a@1 was recorded with: no measured performance (test set "
            "too small)"
        )
        assert model.base == served["base"] and model.base_fingerprint.startswith(model.base)
        assert len(model.base_fingerprint) == 64
    logged = [r.getMessage() for r in caplog.records if r.name == "medadapt.serve"]
    assert sorted(logged) == sorted(f"stored DICOM SR {r['sop_instance_uid']}" for r in stored)
    assert "PAT3" not in caplog.text and "Test^" not in caplog.text
    assert not any(r["already_held"] for r in stored)


def test_a_retried_store_sr_request_gets_the_reports_held_not_new_copies(image_registry, request):
    """A trial: the same request sent three times stored three identical reports per series
    (a client retrying after a timeout fills the PACS); the reports this model version wrote
    are found and answered again, marked ``already_held``, and nothing more is stored."""
    archive = request.getfixturevalue("pacs")
    source, films, body = _study_of_two_series(archive, "PAT5")
    study = str(films[0].StudyInstanceUID)
    with _writing_client(image_registry["registry"], archive) as client:
        first = client.post("/v1/predict", json=body, headers=AUTH).json()["stored_reports"]
        again = client.post("/v1/predict", json=body, headers=AUTH)
    assert again.status_code == 200, again.text
    retried = again.json()["stored_reports"]
    assert {r["sop_instance_uid"] for r in retried} == {r["sop_instance_uid"] for r in first}
    # as stored, the report's own series too (a trial read null there)
    assert sorted((r["sop_instance_uid"], r["series_instance_uid"], r["reports_on_series"])
                  for r in retried) == sorted(
        (r["sop_instance_uid"], r["series_instance_uid"], r["reports_on_series"]) for r in first
    )  # fmt: skip
    assert all(r["already_held"] for r in retried) and not any(r["already_held"] for r in first)
    reports = [info for info in source.series(study, modality="SR")]
    assert len(reports) == 2  # one per series, as after the first request


def test_the_same_store_sr_request_sent_at_once_stores_one_report_per_series(image_registry,
                                                                            request):  # fmt: skip
    """A trial sent one request three times at once: two of them stored a report of the same
    series, each finding none held yet (the README: a retried request does not fill the PACS
    with copies). The series are held while their reports are looked for and stored."""
    from concurrent.futures import ThreadPoolExecutor

    archive = request.getfixturevalue("pacs")
    source, films, body = _study_of_two_series(archive, "PAT6")
    study = str(films[0].StudyInstanceUID)
    client = _writing_client(image_registry["registry"], archive)
    with client, ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda _: client.post("/v1/predict", json=body, headers=AUTH),
                                range(3)))  # fmt: skip
    assert [r.status_code for r in replies] == [200, 200, 200], [r.text for r in replies]
    answers = [r.json()["stored_reports"] for r in replies]
    assert sum(not r["already_held"] for answer in answers for r in answer) == 2  # one each
    assert len({r["sop_instance_uid"] for answer in answers for r in answer}) == 2
    assert len(list(source.series(study, modality="SR"))) == 2
    from medadapt.serve import image_reports

    assert image_reports._HELD == {}  # no lock kept once no request wants its series


def test_store_sr_refusals_and_a_failed_stow_are_one_line(
    image_registry, request, tmp_path, monkeypatch
):
    archive = request.getfixturevalue("pacs")
    source, films, body = _study_of_two_series(archive, "PAT4")
    real_store, calls = DicomwebSource.store, []

    def refuse_after(n: int):
        def store(self, datasets, **kwargs):
            calls.append(1)
            if len(calls) > n:
                raise DataError(f"the DICOMweb server {self.url} answered HTTP 400")
            return real_store(self, datasets, **kwargs)

        return store

    failing = "cannot store the DICOM SR: the DICOMweb server {} answered HTTP 400; {}"
    with _writing_client(image_registry["registry"], archive) as client:
        for n, stored_before in ((0, "nothing was stored"), (1, "only 1 of 2 reports were")):
            calls.clear()
            with monkeypatch.context() as patched:
                patched.setattr(DicomwebSource, "store", refuse_after(n))
                failed = client.post("/v1/predict", json=body, headers=AUTH)
            assert failed.status_code == 502
            assert failed.json()["detail"].startswith(failing.format(archive.root, stored_before))
        files = [("file", (p.name, p.read_bytes())) for p in save(films[:1], tmp_path)]
        uploads = client.post("/v1/predict", data={"adapter": "site_a", "store_sr": "true"},
                              files=files, headers=AUTH)  # fmt: skip
    assert uploads.status_code == 422
    assert uploads.json()["detail"].startswith(
        "'store_sr' needs a DICOMweb reference: a report must reference instances in the archive"
    )
    with _writing_client(image_registry["registry"], archive, store_sr=False) as client:
        refused = client.post("/v1/predict", json=body, headers=AUTH)
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "this server does not write to the archive: start it with --store-sr"
    )
    study = str(films[0].StudyInstanceUID)
    reports = [s for s in source.series(study) if s.modality == "SR"]
    assert len(reports) == 1  # the first report before the second failure; nothing else


def test_an_https_archive_behind_a_bearer_token_is_read_and_written(
    image_registry, request, tmp_path, caplog
):
    """The server's --dicomweb-token-file and --dicomweb-ca-bundle reach a hospital gateway
    (TLS from the hospital's own CA, a bearer token on every request) in front of the PACS."""
    from medadapt.federated.certificates import make_certificates
    from tests.pacs.proxy import PacsProxy

    archive = request.getfixturevalue("pacs")
    source, _, body = _study_of_two_series(archive, "PAT5")
    certificates = make_certificates(tmp_path / "hospital_ca")
    pacs_token = "gateway-" + "g" * 24
    with PacsProxy(archive, token=pacs_token, certificates=certificates) as gateway:
        limits = ImageServing(dicomweb_archives=(gateway.root,), store_sr=True,
                              dicomweb_token=pacs_token,
                              dicomweb_ca_bundle=certificates / "ca.crt")  # fmt: skip
        untrusting = ImageServing(dicomweb_archives=(gateway.root,), dicomweb_token=pacs_token)
        study = body["dicomweb"].split("/studies/")[1]
        body = {**body, "dicomweb": gateway.reference("studies", study)}
        with TestClient(create_app(image_registry["registry"], token=TOKEN, images=limits)) as c:
            reply = c.post("/v1/predict", json=body, headers=AUTH)
        reached = len(gateway.authorizations)
        with TestClient(create_app(image_registry["registry"], token=TOKEN,
                                   images=untrusting)) as client:  # fmt: skip
            refused = client.post("/v1/predict", json={**body, "store_sr": False}, headers=AUTH)
        seen = gateway.authorizations
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["predictions"]) == 2 and len(reply.json()["stored_reports"]) == 2
    assert set(seen) == {f"Bearer {pacs_token}"}
    assert len(seen) == reached  # the CA-less server never got past TLS: no request arrived
    assert len([s for s in source.series(study) if s.modality == "SR"]) == 2
    assert refused.status_code == 502
    assert "has a TLS certificate this machine does not trust" in refused.json()["detail"]
    [logged] = [r.getMessage() for r in caplog.records if r.name == "medadapt.serve"
                and r.levelname == "WARNING"]  # fmt: skip
    assert logged.startswith("reading from DICOMweb failed (answered 502): the DICOMweb server")
    assert "does not trust" in logged


def test_an_archive_failure_is_logged_for_the_operator_without_uids(caplog):
    from medadapt.serve.image_dicomweb import archive_error

    failure = DataError(
        "the DICOMweb server http://pacs/dicom-web failed (HTTP 500) 2 times on series "
        "1.2.840.10008.9 of study 1.2.826.0.1.7; try again later"
    )
    with caplog.at_level(logging.WARNING, logger="medadapt.serve"):
        answer = archive_error(failure)
    assert answer.status == 502 and "1.2.826.0.1.7" in answer.problem  # the client sees its UIDs
    assert caplog.records[-1].getMessage() == (
        "reading from DICOMweb failed (answered 502): the DICOMweb server http://pacs/dicom-web "
        "failed (HTTP 500) 2 times on series <UID> of study <UID>; try again later"
    )
    down = archive_error(DataError("could not reach http://pacs (4 tries): check --data and "
                                   "that the server is running"))  # fmt: skip
    assert down.status == 502 and down.problem == (  # the operator's flag, not the client's
        "could not reach http://pacs (4 tries): check --dicomweb-archive and that the server is "
        "running"
    )
    missing = archive_error(NotFoundError("study 1.2.3 not found on http://pacs: check --data"))
    assert missing.status == 404 and missing.problem.endswith("check 'dicomweb'")


def test_an_archive_behind_a_password_is_read_with_the_servers_own_credentials(
    image_registry, request
):
    """--dicomweb-archive http://USER:PASSWORD@pacs/dicom-web (a PACS behind HTTP basic auth):
    a client's reference names no password, and a failed login asks the operator, not the
    client, for credentials."""
    archive = request.getfixturevalue("pacs")
    film = radiograph("bright", "PAT7", seed=7)
    DicomwebSource(archive.root, auth=(archive.user, archive.password)).store([film])
    with_password = logged_in(archive)
    body = {
        "adapter": "site_a",
        "dicomweb": archive.reference("studies", str(film.StudyInstanceUID), auth=False),
    }
    replies = []
    for root in (with_password, archive.root):
        limits = ImageServing(dicomweb_archives=(root,))
        app = create_app(image_registry["registry"], token=TOKEN, images=limits)
        with TestClient(app) as client:
            replies.append(client.post("/v1/predict", json=body, headers=AUTH))
    read, refused = replies
    assert read.status_code == 200, read.text
    assert [p["file"] for p in read.json()["predictions"]] == [str(film.SOPInstanceUID)]
    assert refused.status_code == 502
    assert refused.json()["detail"].endswith(
        "pass a valid bearer token, or USER:PASSWORD for basic auth, in a file with "
        "--dicomweb-token-file, or user:password@ in the --dicomweb-archive URL"
    )


def test_an_archive_failure_log_masks_uids_but_not_the_archive_address(caplog):
    from medadapt.serve.image_dicomweb import archive_error

    failure = DataError(
        "cannot reach the DICOMweb server http://10.0.0.2:8042/dicom-web (ConnectionError, "
        "2 tries) for study 1.2.826.0.1.7: check --data and that the server is running"
    )
    with caplog.at_level(logging.WARNING, logger="medadapt.serve"):
        archive_error(failure)
    logged = caplog.records[-1].getMessage()
    assert "http://10.0.0.2:8042/dicom-web" in logged and "study <UID>" in logged


def test_a_reference_to_a_report_series_is_422_naming_what_it_holds(image_registry, request):
    """A client that posts the series of an earlier report (an SR the server stored) is told
    that it holds no image, not that the archive failed."""
    archive = request.getfixturevalue("pacs")
    film = radiograph("bright", "PAT8", seed=8)
    model = ModelIdentity("base", "ab" * 32)
    report = prediction_report([Finding({"bright": 0.6, "dark": 0.4}, [film])], model)
    DicomwebSource(archive.root, auth=(archive.user, archive.password)).store([film, report])
    study, series = str(film.StudyInstanceUID), str(report.SeriesInstanceUID)
    reference = archive.reference("studies", study, "series", series, auth=False)
    body = {"adapter": "site_a", "dicomweb": reference}
    with _writing_client(image_registry["registry"], archive) as client:
        reply = client.post("/v1/predict", json=body, headers=AUTH)
    assert reply.status_code == 422
    assert reply.json()["detail"] == (
        f"series {series} of study {study} holds a structured report (SR), not images: name the "
        "study's image series, or the study, in 'dicomweb'"
    )


def test_a_pinned_version_s_report_names_its_own_weights_and_validation():
    """``"adapter": "site_a@1"`` while site_a@2 is promoted: the SR recorded version "1" with
    version 2's weights hash and validation (matched by name among the promoted ones). The
    version is the weights' hash, as ``predict --store-sr`` records it; the registry version a
    parameter of its own."""
    from types import SimpleNamespace

    from medadapt.serve.image_reports import model_of
    from medadapt.serve.state import Route

    served = SimpleNamespace(key="f" * 64, base=SimpleNamespace(training={}))
    promoted = [{"name": "site_a", "version": 2, "metrics": {"auroc": 0.91, "n": 80},
                 "notes": {}, "weights": "sha256:2222222222222222"}]  # fmt: skip
    first = SimpleNamespace(metrics={"auroc": 0.71, "auroc_ci": [0.6, 0.8], "n": 60},
                            weights_blob="1" * 64)  # fmt: skip
    registry = SimpleNamespace(get=lambda ref: {"site_a@1": first}[ref])
    pinned = model_of(served, Route("f" * 64, "a", "site_a", 1), promoted, registry)
    assert (pinned.adapter_version, pinned.registry_version) == ("sha256:1111111111111111", 1)
    assert pinned.validation == validation_summary(first.metrics)
    assert (pinned.base, pinned.base_fingerprint) == ("f" * 12, "f" * 64)
    current = model_of(served, Route("f" * 64, "a", "site_a", 2), promoted, registry)
    assert (current.adapter_version, current.registry_version) == ("sha256:2222222222222222", 2)
    assert current.validation == validation_summary({"auroc": 0.91, "n": 80, "notes": {}})


def test_a_stored_report_holds_each_images_caution_as_the_answer_says_it(image_registry, request):
    """The answer's ``note`` said that an image was unlike the model's training images, but
    the SR stored for it held only the finding: a PACS reader saw the score alone. Then it
    held ``predict``'s few words ("shaped 3:1; ..."), not the answer's notes (how to fix,
    raw CT, 12-bit values): each finding now holds the answer's notes, word for word."""
    import numpy as np

    archive = request.getfixturevalue("pacs")
    source, films, body = _study_of_two_series(archive, "PAT9")
    wide = radiograph("bright", "PAT9", seed=9)
    wide.StudyInstanceUID = films[0].StudyInstanceUID
    wide.set_pixel_data(np.tile(wide.pixel_array, (1, 3)), "MONOCHROME2", bits_stored=16)
    source.store([wide])
    with _writing_client(image_registry["registry"], archive) as client:
        reply = client.post("/v1/predict", json=body, headers=AUTH)
    assert reply.status_code == 200, reply.text
    notes = {p["file"]: p["note"] for p in reply.json()["predictions"]}
    study = str(films[0].StudyInstanceUID)
    cautions = {}
    for report in reply.json()["stored_reports"]:
        [ds] = source.retrieve(study, report["series_instance_uid"])
        [finding] = read_prediction_report(ds)
        cautions[finding.sop_uids[0]] = finding.cautions
    # the model's own caution first: the report says it in the algorithm's parameters
    model = "caution, adapter site_a@1 was recorded with: no measured performance (test set "
    model += "too small)"
    for sop, said in cautions.items():  # the image's notes, one TEXT item each
        assert said and notes[sop] == "; ".join([model, *said])
    scaled = cautions[str(films[0].SOPInstanceUID)]
    assert scaled[0].startswith("intensities min-max scaled (DICOM/NIfTI without a window)")
    assert cautions[str(films[1].SOPInstanceUID)] == scaled
    assert "shaped 3:1 (longer side to shorter)" in notes[str(wide.SOPInstanceUID)]
    assert "shaped" not in notes[str(films[0].SOPInstanceUID)]


def test_a_stow_refused_to_a_reader_is_a_502_saying_the_archive_takes_no_reports(
    image_registry, request
):
    """A 403 to STOW-RS said "refused the credentials" of the token that had just read."""
    from tests.pacs.proxy import PacsProxy

    archive = request.getfixturevalue("pacs")
    _, _, body = _study_of_two_series(archive, "PAT10")
    study = body["dicomweb"].split("/studies/")[1]
    with PacsProxy(archive, token="g" * 24, read_only=True) as gateway:
        limits = ImageServing(dicomweb_archives=(gateway.root,), dicomweb_token="g" * 24,
                              store_sr=True)  # fmt: skip
        body = {**body, "dicomweb": gateway.reference("studies", study)}
        with TestClient(create_app(image_registry["registry"], token=TOKEN, images=limits)) as c:
            reply = c.post("/v1/predict", json=body, headers=AUTH)
    assert reply.status_code == 502
    assert reply.json()["detail"] == (
        f"cannot store the DICOM SR: the DICOMweb server {gateway.root} refused to store the "
        "report (HTTP 403): this account may read but not write (STOW-RS): ask the PACS "
        "administrator for write access, or send the request without 'store_sr'; nothing was "
        "stored"
    )
    # the predictions are kept with the refusal (a trial's read-only account lost them, where
    # the command line keeps them in --out)
    kept = reply.json()["predictions"]
    assert kept and all(sum(p["probabilities"].values()) == pytest.approx(1, abs=1e-5)
                        for p in kept)  # fmt: skip
