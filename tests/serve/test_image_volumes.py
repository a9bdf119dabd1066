"""Serving a 3D image adapter: a CT series, uploaded as its slice files or referenced in an
Orthanc PACS, is one volume and one prediction, equal to ``predict`` on the same files
(<= 1e-5); with ``"store_sr": true`` one SR references every slice of the volume and reads back
with the answer's probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from medadapt.data.dicom_sr import read_prediction_report
from medadapt.data.dicomweb import DicomwebReference, DicomwebSource
from medadapt.registry import Registry
from medadapt.registry.bases import add_base
from medadapt.serve.app import create_app
from medadapt.serve.image_inputs import ImageServing
from tests.cli.helpers import run_cli, succeeded
from tests.pacs.conftest import pacs  # noqa: F401 (the Orthanc fixture)
from tests.pacs.studies import ct_series, save

pytestmark = pytest.mark.xdist_group("orthanc")
TOKEN = "v" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TINY_3D = ["--backbone", "monai:vit", "--spatial-dims", "3", "--image-size", "8",
           "--backbone-options", "hidden_size=16,mlp_dim=32,num_layers=1,num_heads=2"]  # fmt: skip


@pytest.fixture(scope="module")
def volumes(tmp_path_factory):
    """A 3D base trained on six CT series, a LoRA adapter trained on six others and promoted
    in a registry, and one more series (never trained on) on disk."""
    root = tmp_path_factory.mktemp("served_volumes")
    for label in ("bright", "dark"):
        for k in range(3):
            save(ct_series(label, f"VT{label}{k}"), root / "train" / label / f"s{k}")
            save(ct_series(label, f"VS{label}{k}"), root / "site" / label / f"s{k}")
    succeeded(run_cli("train-base", "--data", root / "train", *TINY_3D, "--epochs", "1",
                "--test-fraction", "0.34", "--out", root / "base"))  # fmt: skip
    succeeded(run_cli("adapt", "--base", root / "base", "--data", root / "site", "--method", "lora",
                "--epochs", "1", "--test-fraction", "0.34", "--name", "ct_site",
                "--out", root / "adapter"))  # fmt: skip
    registry = Registry(root / "registry", create=True)
    add_base(registry.root, root / "base")
    registry.add(root / "adapter", name="ct_site")
    registry.promote("ct_site@1")
    series = ct_series("bright", "VNEW")
    files = save(series, root / "new" / "bright" / "s0")
    return {"root": root, "registry": registry.root, "series": series, "files": files}


def _offline(volumes, tmp_path) -> dict[str, float]:
    """``predict`` on the unseen series' files: the probabilities of its one volume."""
    out = tmp_path / "offline.csv"
    root = volumes["root"]
    succeeded(run_cli("predict", "--base", root / "base", "--adapter", root / "adapter",
                "--data", root / "new", "--out", out))  # fmt: skip
    [row] = pd.read_csv(out).to_dict("records")
    return {k.removeprefix("p_"): v for k, v in row.items() if k.startswith("p_")}


def test_a_ct_series_uploaded_or_referenced_is_one_volume_scored_as_predict(
    volumes, request, tmp_path
):
    archive = request.getfixturevalue("pacs")
    series = volumes["series"]
    source = DicomwebSource(archive.root, auth=(archive.user, archive.password))
    source.store(series)
    study, series_uid = str(series[0].StudyInstanceUID), str(series[0].SeriesInstanceUID)
    expected = _offline(volumes, tmp_path)
    own = archive.root.replace("://", f"://{archive.user}:{archive.password}@")  # the server's
    limits = ImageServing(dicomweb_archives=(own,), store_sr=True, max_images=8)
    app = create_app(volumes["registry"], token=TOKEN, images=limits)
    files = [("file", (p.name, p.read_bytes())) for p in volumes["files"]]
    with TestClient(app) as client:
        uploaded = client.post("/v1/predict", data={"adapter": "ct_site"}, files=files,
                               headers=AUTH)  # fmt: skip
        referenced = client.post("/v1/predict", headers=AUTH, json={
            "adapter": "ct_site", "store_sr": True,
            "dicomweb": archive.reference("studies", study, "series", series_uid,
                                         auth=False)})  # fmt: skip
        too_many = client.post("/v1/predict", data={"adapter": "ct_site"},
                               files=files + files[:1], headers=AUTH)  # fmt: skip
    assert uploaded.status_code == 200, uploaded.text
    [one] = uploaded.json()["predictions"]
    np.testing.assert_allclose([one["probabilities"][c] for c in expected],
                               list(expected.values()), atol=1e-5)  # fmt: skip
    assert referenced.status_code == 200, referenced.text
    answer = referenced.json()
    [served] = answer["predictions"]
    assert served["probabilities"] == pytest.approx(one["probabilities"], abs=1e-6)
    [stored] = answer["stored_reports"]
    assert stored["reports_on_series"] == series_uid
    [report] = source.instances(DicomwebReference(source.url, study,
                                                  stored["series_instance_uid"]),
                                images_only=False)  # fmt: skip
    [finding] = read_prediction_report(report)
    assert sorted(finding.sop_uids) == sorted(str(ds.SOPInstanceUID) for ds in series)
    assert finding.probabilities == served["probabilities"]
    assert too_many.status_code == 413  # nine files for a limit of eight
