"""A DICOMweb reference in a prediction request: fetched from an Orthanc PACS the server was
started with, scored exactly as the same files uploaded; other archives are refused."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from medadapt.data.dicomweb import DicomwebSource
from medadapt.serve.app import create_app
from medadapt.serve.image_inputs import ImageServing
from tests.pacs.conftest import pacs  # noqa: F401 (the Orthanc fixture)
from tests.pacs.studies import ct_series, radiograph, save

pytestmark = pytest.mark.xdist_group("serve")
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_a_dicomweb_reference_scores_as_its_files_uploaded(image_registry, request, tmp_path):
    archive = request.getfixturevalue("pacs")
    films = [radiograph("bright", "PAT1", seed=1), radiograph("dark", "PAT1", seed=2)]
    films[1].StudyInstanceUID = films[0].StudyInstanceUID  # two series of one study
    series = ct_series("bright", "PAT2", n_slices=3)
    DicomwebSource(archive.root, auth=(archive.user, archive.password)).store([*films, *series])
    limits = ImageServing(dicomweb_archives=(archive.root,), max_images=2)
    app = create_app(image_registry["registry"], token=TOKEN, images=limits)
    study = str(films[0].StudyInstanceUID)
    with TestClient(app) as client:

        def post(**body) -> dict:
            reply = client.post("/v1/predict", json={"adapter": "site_a", **body}, headers=AUTH)
            return {"status": reply.status_code, **reply.json()}

        fetched = post(dicomweb=archive.reference("studies", study))
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
        too_many = post(dicomweb=archive.reference("studies", str(series[0].StudyInstanceUID)))
        assert too_many["status"] == 413 and "more than 2 instances" in too_many["detail"]
        missing = post(dicomweb=archive.reference("studies", "1.2.3.4"))
        assert missing["status"] == 404 and "not found on" in missing["detail"]
        elsewhere = post(dicomweb="dicomweb+http://10.0.0.9/dicom-web/studies/1.2.3")
        assert elsewhere["status"] == 403
        assert elsewhere["detail"] == (
            f"http://10.0.0.9/dicom-web: this server reads DICOMweb only from {archive.root}"
        )
        malformed = post(dicomweb="dicomweb+http://pacs/dicom-web/studies/abc")
        assert malformed["status"] == 422 and "is not a DICOM UID" in malformed["detail"]
        assert post(dicomweb=archive.reference())["status"] == 422  # no study
        unknown_field = post(dicomweb=archive.reference("studies", study), instances=[])
        assert unknown_field["status"] == 422
