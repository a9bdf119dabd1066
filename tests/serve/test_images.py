"""Serving image adapters: uploads in every format scored as offline, mixed adapters in one
forward pass, bounded queues (503), one clear 4xx per bad file, auth, metrics, hot promotion."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import nibabel as nib
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from medadapt.data.image_files import load_unlabelled
from medadapt.registry import Registry
from medadapt.serve import image_routes
from medadapt.serve.app import create_app
from medadapt.serve.image_inputs import ImageServing
from medadapt.serve.runner import BackgroundServer
from medadapt.serve.schemas import ImagePredictResponse
from medadapt.workflows.evaluate import load_for_inference
from tests.data.makers import huge_png

pytestmark = pytest.mark.xdist_group("serve")  # share the registry fixtures per worker
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FORMATS = ("png", "jpeg", "dicom", "nifti", "volume")

#: what every answer of an adapter whose test set was too small for any figure says
_UNMEASURED = (
    "caution, adapter {ref} was recorded with: no measured performance (test set too small)"
)
#: site_b's: its tiny adapter gives its few test images nearly one probability, said too
_SITE_B = _UNMEASURED.format(ref="site_b@1") + "; gave every test case about the same probability"


def _files(*paths: Path) -> list[tuple[str, tuple[str, bytes]]]:
    return [("file", (path.name, path.read_bytes())) for path in paths]


def _probabilities(reply: dict) -> np.ndarray:
    return np.array([list(p["probabilities"].values()) for p in reply["predictions"]])


@pytest.fixture
def client(image_registry):
    limits = ImageServing(max_images=6, max_image_bytes=60_000, max_upload_bytes=200_000)
    app = create_app(image_registry["registry"], token=TOKEN, images=limits)
    with TestClient(app) as test_client:
        yield test_client


def test_uploads_in_every_format_score_as_offline_predictions(client, image_registry):
    paths = [image_registry["files"][f] for f in FORMATS]
    reply = client.post("/v1/predict", data={"adapter": "site_b"}, files=_files(*paths),
                        headers=AUTH)  # fmt: skip
    assert reply.status_code == 200, reply.text
    body = ImagePredictResponse.model_validate(reply.json()).model_dump()
    predictions = body["predictions"]
    assert [p["file"] for p in predictions] == [p.name for p in paths]
    assert [p["slice"] for p in predictions] == [None, None, None, None, 2]  # middle of 5
    one_slice = ("this volume was scored on one slice, the middle one (index 2), as this 2D "
                 "model reads volumes: a finding on other slices is not seen")  # fmt: skip
    assert [one_slice in (p["note"] or "") for p in predictions] == [False] * 4 + [True]
    weights = Registry(image_registry["registry"]).get("site_b@1").base_fingerprint["weights"]
    assert {(p["adapter"], p["version"], p["base"]) for p in predictions} == {
        ("site_b", 1, weights[:12])
    }
    loaded = load_for_inference(image_registry["base"], image_registry["adapters"]["site_b"])
    assert list(predictions[0]["probabilities"]) == list(loaded.base.schema.classes)
    images = torch.cat([load_unlabelled(p, loaded.base.schema)[0] for p in paths])
    with torch.no_grad():
        logits = loaded.model.eval()(images, adapter_ids=[loaded.adapter] * len(images))
    expected = torch.softmax(logits, dim=1).numpy()
    np.testing.assert_allclose(_probabilities(body), expected, atol=1e-5)
    assert [p["predicted"] for p in predictions] == [
        loaded.base.schema.classes[i] for i in expected.argmax(axis=1)
    ]


def _blocking(app) -> tuple[list, threading.Event, threading.Event]:
    """Make the app's first forward pass wait for ``gate`` (on the worker thread: the app
    must run its passes there, ``inline=False``); ``calls`` records each pass's adapter ids,
    ``entered`` is set once the first pass is waiting."""
    state = app.state.serving
    original, calls = state.predict, []
    gate, entered = threading.Event(), threading.Event()

    def predict(base_key, inputs, adapter_ids):
        calls.append(list(adapter_ids))
        if len(calls) == 1:
            entered.set()
            gate.wait(30)
        return original(base_key, inputs, adapter_ids)

    state.predict = predict
    return calls, gate, entered


def _wait_for_queue(app, size: int) -> None:
    deadline = time.monotonic() + 30
    while app.state.batcher.queue.qsize() < size:
        assert time.monotonic() < deadline, "requests did not reach the queue"
        time.sleep(0.01)


def test_images_of_several_adapters_share_one_pass_and_equal_one_by_one(image_registry):
    app = create_app(image_registry["registry"], token=None, refresh_seconds=3600, inline=False)
    calls, gate, entered = _blocking(app)
    paths = [image_registry["files"][f] for f in ("png", "dicom", "nifti")]
    adapters = ("site_a", "site_b", "site_c", "site_d", None)  # site_d adds a class; None: base

    with BackgroundServer(app) as url, ThreadPoolExecutor(8) as pool:

        def post(adapter: str | None, files: list[Path]) -> dict:
            data = {"adapter": adapter} if adapter else {}
            reply = httpx.post(f"{url}/v1/predict", data=data, files=_files(*files), timeout=60)
            assert reply.status_code == 200, reply.text
            return reply.json()

        first = pool.submit(post, "site_a", paths[:1])
        assert entered.wait(30)
        together = {a: pool.submit(post, a, paths) for a in adapters}
        _wait_for_queue(app, len(adapters) * len(paths))
        gate.set()
        mixed = {a: future.result() for a, future in together.items()}
        first.result()
        alone = {a: post(a, paths) for a in adapters}  # one request, one pass, at a time
    # one mixed pass for the two-class adapters and the base; site_d's wider head: its own
    assert {frozenset(ids) for ids in calls[1:3]} == {
        frozenset({"site_a__v1", "site_b__v1", "site_c__v1", None}),
        frozenset({"site_d__v1"}),
    }
    assert all(len(set(ids)) == 1 for ids in calls[3:])  # one by one
    for adapter in adapters:
        assert [p["adapter"] for p in mixed[adapter]["predictions"]] == [adapter] * len(paths)
        np.testing.assert_allclose(
            _probabilities(mixed[adapter]), _probabilities(alone[adapter]), atol=1e-5
        )
    assert list(mixed["site_d"]["predictions"][0]["probabilities"]) == ["normal", "nodule", "mass"]
    # the base trained on PNGs: the DICOM's and NIfTI's min-max scaling is said, per image
    png, dicom, nifti = mixed["site_a"]["predictions"]
    assert png["note"] == _UNMEASURED.format(ref="site_a@1")  # as predict warns it
    base_png = mixed[None]["predictions"][0]  # the base alone, with adapters served: said
    assert base_png["note"] == (
        "scored by the base model alone: the request names no adapter and no group; adapters "
        "serve groups A, B, C, D (send 'group' or name an 'adapter' to use one); caution, the "
        "base model was recorded with: no measured performance (test set too small); gave "
        "every test case about the same probability"  # a tiny base: its six test images alike
    )
    scaled = (
        "intensities min-max scaled (DICOM/NIfTI without a window), but the model's training "
        "images were divided by their bit depth's maximum (8/16-bit pictures): the predictions "
        "may be unreliable; send images prepared as the training ones were, or adapt the "
        "model on this site's images read the same way (an adapter trained on them knows "
        "their scaling)"
    )
    assert nifti["note"] == f"{_UNMEASURED.format(ref='site_a@1')}; {scaled}"
    assert dicom["note"] == (  # the test's CT was written with RescaleIntercept 0
        f"{_UNMEASURED.format(ref='site_a@1')}; {scaled}; the image has no value below 0 and "
        "no negative RescaleIntercept, where air is about -1000 HU: it looks like raw stored "
        "values, not Hounsfield units, so a CT window (or a model trained on HU) reads it "
        "wrongly; check its RescaleIntercept (usually -1024)"
    )  # said of this one image, not as "1 of 1 DICOM CT files in <name>"


def test_a_full_queue_is_a_503_with_retry_after(image_registry):
    app = create_app(image_registry["registry"], token=None, refresh_seconds=3600, max_queue=1,
                     inline=False)  # fmt: skip
    _, gate, entered = _blocking(app)
    png = image_registry["files"]["png"]
    with BackgroundServer(app) as url, ThreadPoolExecutor(2) as pool:

        def post() -> httpx.Response:
            return httpx.post(f"{url}/v1/predict", data={"adapter": "site_a"},
                              files=_files(png), timeout=60)  # fmt: skip

        running = pool.submit(post)  # in the (blocked) forward pass
        assert entered.wait(30)
        waiting = pool.submit(post)  # the one place in the queue
        _wait_for_queue(app, 1)
        refused = post()
        gate.set()
        assert [running.result().status_code, waiting.result().status_code] == [200, 200]
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert refused.json()["detail"].startswith("the server is busy (1 instances waiting")


def test_requests_past_the_decoding_places_are_a_503(image_registry, monkeypatch):
    gate, entered = threading.Event(), threading.Event()
    original = image_routes.save_uploads

    def slow(*args):
        entered.set()
        gate.wait(30)
        return original(*args)

    monkeypatch.setattr(image_routes, "save_uploads", slow)
    limits = ImageServing(max_decoding=1)
    app = create_app(image_registry["registry"], token=None, refresh_seconds=3600, images=limits)
    png = image_registry["files"]["png"]
    with BackgroundServer(app) as url, ThreadPoolExecutor(1) as pool:
        first = pool.submit(httpx.post, f"{url}/v1/predict", files=_files(png), timeout=60)
        assert entered.wait(30)
        refused = httpx.post(f"{url}/v1/predict", files=_files(png), timeout=60)
        gate.set()
        assert first.result().status_code == 200
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert "busy reading" in refused.json()["detail"]


def test_bad_images_are_one_4xx_naming_the_file_and_the_problem(client, image_registry, tmp_path):
    png = image_registry["files"]["png"]
    four_d = tmp_path / "cine.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 3, 2), np.float32), np.eye(4)), four_d)
    black = tmp_path / "black.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(black)
    cases = [
        (_files(black), 422, "black.png", "black.png: a blank image: every pixel has the same "
         "value (nothing to score)"),
        ([("file", ("notes.png", b"not a picture"))], 415, "notes.png",
         "notes.png: not a PNG image (its first bytes are not a PNG's; it looks like text): "
         "send a PNG, JPEG, DICOM or NIfTI file"),
        ([("file", ("report.txt", b"plain text"))], 415, "report.txt",
         "report.txt: an unsupported type (neither its name nor its first bytes say PNG, JPEG, "
         "DICOM or NIfTI); send one of those"),
        ([("file", ("big.png", b"\x89PNG" + b"0" * 70_000))], 413, "big.png",
         "big.png: 68.4 KiB, over the limit of 58.6 KiB per image (serve --max-image-mb)"),
        (_files(huge_png(tmp_path / "huge.png")), 413, "huge.png",
         "huge.png: 400,000,000 pixels, over the 178,956,970 an image may have; send a smaller "
         "image"),
        (_files(four_d), 422, "cine.nii.gz", "cine.nii.gz: a NIfTI image of shape (8, 8, 3, 2); "
         "medadapt reads 2D images and 3D volumes: save one volume per file; this model takes "
         "1-channel 2D images (32 px)"),
        (_files(*[png] * 7), 413, None, "more than 6 images in one request; send at most 6"),
        ([("file", (f"p{i}.png", b"0" * 50_000)) for i in range(5)], 413, None,
         "request body over 195.3 KiB (serve --max-upload-mb); send fewer or smaller images "
         "per request"),
        ([("group", (None, "A"))], 422, None,
         "no image in the request: upload one or more files (e.g. -F file=@a.png)"),
        ([("note", (None, "x")), *_files(png)], 422, None,
         "unexpected form field 'note'; send 'adapter', 'group' and images as 'file'"),
        ([("adapter", (None, "site_b")), *_files(png)], 422, None,  # and data's adapter=site_a
         "the form field 'adapter' is given more than once; send each field once (no value is "
         "chosen for you)"),
    ]  # fmt: skip
    for files, status, name, detail in cases:
        reply = client.post("/v1/predict", data={"adapter": "site_a"}, files=files, headers=AUTH)
        assert reply.status_code == status, (name, reply.text)
        assert reply.json()["detail"].startswith(detail), reply.json()["detail"]
        assert reply.json().get("file") == name
        assert str(tmp_path) not in reply.text and "/tmp" not in reply.text


def test_routing_errors_and_auth(client, image_registry):
    png = _files(image_registry["files"]["png"])
    assert client.post("/v1/predict", files=png).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 32}
    assert client.post("/v1/predict", files=png, headers=wrong).status_code == 401
    reference = {"adapter": "site_a", "dicomweb": "dicomweb+http://pacs/dicom-web/studies/1.2"}
    assert client.post("/v1/predict", json=reference).status_code == 401
    reply = client.post("/v1/predict", data={"adapter": "nope"}, files=png, headers=AUTH)
    assert reply.status_code == 404 and reply.json()["detail"].startswith("unknown adapter")
    instances = {"adapter": "site_a", "instances": [{"age": 50}]}
    reply = client.post("/v1/predict", json=instances, headers=AUTH)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["msg"] == (
        "adapter 'site_a' serves image data, not tabular data: send images as "
        "multipart/form-data, or a JSON DICOMweb reference"
    )
    reply = client.post("/v1/predict", data={"group": "B"}, files=png, headers=AUTH)
    assert reply.json()["predictions"][0]["adapter"] == "site_b"
    reply = client.post("/v1/predict", json=reference, headers=AUTH)
    assert reply.status_code == 403
    assert reply.json()["detail"] == (
        "http://pacs/dicom-web: this server reads no DICOMweb archive (start it with "
        "--dicomweb-archive URL)"
    )
    listed = {a["name"]: a["kind"] for a in client.get("/v1/adapters", headers=AUTH).json()}
    assert listed == {"site_a": "image", "site_b": "image", "site_c": "image", "site_d": "image"}
    documented = client.get("/openapi.json").json()["paths"]["/v1/predict"]["post"]
    assert set(documented["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    metrics = client.get("/metrics", headers=AUTH).text
    assert 'medadapt_instances_total{adapter="site_b"} 1.0' in metrics
    assert "medadapt_image_decode_seconds_count 1.0" in metrics


def test_a_newly_promoted_image_adapter_is_served_without_a_restart(image_registry):
    registry = Registry(image_registry["registry"])
    app = create_app(image_registry["registry"], token=None, refresh_seconds=0.0)
    png = _files(image_registry["files"]["png"])
    with TestClient(app) as client:

        def version(adapter: str) -> int | None:
            reply = client.post("/v1/predict", data={"adapter": adapter}, files=png)
            return reply.json()["predictions"][0]["version"] if reply.status_code == 200 else None

        assert version("site_c") == 1
        registry.promote("site_c@2")
        try:  # the version replaced stops answering, pinned or not
            assert (version("site_c"), version("site_c@2"), version("site_c@1")) == (2, 2, None)
        finally:
            registry.promote("site_c@1")


def _imported(module: str) -> bool:
    """Whether ``module`` is imported in the process that runs this (a decoding worker)."""
    import sys

    return module in sys.modules


def test_decoding_in_worker_processes_gives_the_same_answers(client, image_registry):
    paths = [image_registry["files"][f] for f in ("png", "dicom")]
    limits = ImageServing(decode_workers=1, decode_processes=True)
    app = create_app(image_registry["registry"], token=None, images=limits)
    with TestClient(app) as in_processes:
        # the worker imported MONAI while the server started, not on the first request
        worker = app.state.decode_pool.processes
        assert worker.submit(_imported, "monai.transforms").result(timeout=60)
        reply = in_processes.post("/v1/predict", data={"adapter": "site_a"}, files=_files(*paths))
        cut = image_registry["files"]["png"].read_bytes()[:100]  # a PNG's start: read, and fails
        bad = in_processes.post("/v1/predict", files=[("file", ("x.png", cut))])
    threads = client.post("/v1/predict", data={"adapter": "site_a"}, files=_files(*paths),
                          headers=AUTH)  # fmt: skip
    np.testing.assert_allclose(
        _probabilities(reply.json()), _probabilities(threads.json()), atol=1e-6
    )
    assert bad.status_code == 422 and bad.json()["file"] == "x.png"  # raised in the worker


def test_an_answer_says_what_its_image_cannot_support_as_read(client, image_registry, tmp_path):
    """The checks ``predict`` makes of a data set, made of each upload: 12-bit values in a
    16-bit PNG (nearly black at 1/65535), far darker than the base's training images, and an
    image upscaled over 4x are said in its note."""
    from PIL import Image

    twelve = tmp_path / "detector.png"
    Image.fromarray(np.linspace(0, 4095, 32 * 32).reshape(32, 32).astype(np.uint16)).save(twelve)
    tiny = tmp_path / "thumb.png"
    Image.fromarray(np.arange(16, dtype=np.uint8).reshape(4, 4) * 10).save(tiny)
    reply = client.post("/v1/predict", data={"adapter": "site_b"}, files=_files(twelve, tiny),
                        headers=AUTH)  # fmt: skip
    assert reply.status_code == 200, reply.text
    detector, thumb = (p["note"] for p in reply.json()["predictions"])
    metrics = Registry(image_registry["registry"]).get("site_b").metrics
    said = {p["validated"] for p in reply.json()["predictions"]}  # how it was tested
    assert len(said) == 1 and said.pop().startswith(("not reported (n=", "AUROC ", "accuracy "))
    assert f"n={metrics['n']}" in reply.json()["predictions"][0]["validated"]
    caution = _SITE_B + "; "  # which model answered: first
    assert detector.startswith(caution) and thumb.startswith(caution)
    detector, thumb = detector.removeprefix(caution), thumb.removeprefix(caution)
    assert detector.startswith(
        "brightest level 0.062 (the 99th percentile of its intensities, 0 to 1) against "
    )  # compared with the training images (8-bit films), not guessed from the file alone
    assert "in the model's training images, about " in detector
    assert "times darker than them: its prediction may be unreliable; if it holds 12-bit " in (
        detector
    )
    assert "16-bit picture in" not in detector
    # said of this one image, without a command line's flag (a trial's SR read "1 of 1
    # images in <uid>.dcm ... a base with a smaller --image-size")
    assert thumb.startswith("the image is smaller than ")
    assert "upscaled over 4x to the model's" in thumb and thumb.endswith(
        "the detail the model expects is not in it; score the full-size image"
    )
    assert "--" not in thumb
    rng = np.random.default_rng(5)  # a colour photo with transparency, for a gray model,
    see_through = np.zeros((32, 32, 4), np.uint8)  # as dark and grainy as its training images
    see_through[..., :3] = rng.integers(20, 90, (32, 32, 1)) + np.array([0, 5, 10])
    see_through[..., 3] = 128
    Image.fromarray(see_through, "RGBA").save(tmp_path / "photo.png")
    reply = client.post("/v1/predict", data={"adapter": "site_b"},
                        files=_files(tmp_path / "photo.png"), headers=AUTH)  # fmt: skip
    assert reply.status_code == 200, reply.text
    (photo,) = reply.json()["predictions"]
    assert photo["note"] == (
        f"{_SITE_B}; this colour image was converted to gray (luma: "
        "0.299 R + 0.587 G + 0.114 B): the model takes gray images; this image had a "
        "transparency (alpha) channel, which was dropped: the model reads only its gray or "
        "colour values, as if opaque"
    )
