"""A served image that the adapter or its base trained on is flagged in-sample, as a table row
is: by its file's bytes, by its pixels where a copy was saved with other bytes, or by the
values its file stores (a copy in another format); a lossy copy is said to look like one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from medadapt.data.dicom_series import KEY_CHARS
from medadapt.fileio import sha256_file
from medadapt.registry import Registry
from medadapt.results import in_sample_caution
from medadapt.serve.app import create_app
from medadapt.serve.image_inputs import ImageServing
from medadapt.serve.schemas import ImagePredictResponse
from tests.cli.helpers import run_cli, succeeded

pytestmark = pytest.mark.xdist_group("serve")  # share the registry fixtures per worker
TOKEN = "t" * 32
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _images_of(image_registry: dict, site: str) -> dict[str, Path]:
    """The site's training PNGs by file key (as a split records them)."""
    folder = image_registry["root"] / "data" / "images"
    return {sha256_file(p)[:KEY_CHARS]: p for p in sorted(folder.glob(f"{site}_*.png"))}


def _split(directory: Path) -> dict:
    return json.loads((directory / "split.json").read_bytes())


@pytest.fixture
def client(image_registry):
    app = create_app(image_registry["registry"], token=TOKEN, images=ImageServing())
    with TestClient(app) as test_client:
        yield test_client


def _ask(client: TestClient, path: Path, adapter: str, name: str | None = None) -> dict:
    files = [("file", (name or path.name, path.read_bytes()))]
    reply = client.post("/v1/predict", data={"adapter": adapter}, files=files, headers=AUTH)
    assert reply.status_code == 200, reply.text
    ImagePredictResponse.model_validate(reply.json())
    (prediction,) = reply.json()["predictions"]
    return prediction


def test_an_adapter_s_training_image_is_flagged_and_its_held_out_one_is_not(
    client, image_registry, tmp_path
):
    split = _split(image_registry["adapters"]["site_b"])
    site_b = _images_of(image_registry, "B")
    trained = site_b[split["train_keys"][0]]
    held_out = site_b[split["test_keys"][0]]
    said = _ask(client, trained, "site_b")
    assert said["trained_on"] == "adapter site_b@1"
    assert in_sample_caution("adapter site_b@1") in said["note"]
    assert _ask(client, held_out, "site_b")["trained_on"] is None
    # the same picture saved with other bytes (another compression level): its pixels tell
    copy = tmp_path / "copy.png"
    Image.open(trained).save(copy, compress_level=0)
    assert copy.read_bytes() != trained.read_bytes()
    assert _ask(client, copy, "site_b")["trained_on"] == "adapter site_b@1"


def test_a_base_model_s_training_image_is_flagged_for_its_adapters_too(client, image_registry):
    base = json.loads((image_registry["base"] / "model.json").read_bytes())
    site_a = _images_of(image_registry, "A")
    trained_by_base = next(site_a[k] for k in base["training"]["split"]["train_keys"]
                           if k in site_a)  # fmt: skip
    said = _ask(client, trained_by_base, "site_c")  # site_c trained on site C's images only
    assert said["trained_on"] == "the base model"
    assert in_sample_caution("the base model") in said["note"]


def test_registry_add_keeps_an_image_adapter_s_split_file_and_verify_checks_it(
    image_registry, tmp_path
):
    import shutil

    registry = Registry(shutil.copytree(image_registry["registry"], tmp_path / "registry"))
    v = registry.get("site_b@1")
    kept = registry.kept_split(v)
    assert list(kept) == ["split.json"]
    assert kept["split.json"] == sha256_file(image_registry["adapters"]["site_b"] / "split.json")
    assert not registry.verify("site_b@1").problems
    blob = registry.objects.path(kept["split.json"])
    blob.chmod(0o644)
    blob.write_bytes(b"{}")
    (problem,) = registry.verify("site_b@1").problems
    assert problem.startswith(
        "adapter site_b@1: its split file (which images trained it, as keyed hashes) is "
        "damaged: served answers cannot say which patients it trained on; run "
    ), problem


def test_adding_an_image_adapter_without_its_split_file_says_what_a_server_cannot_flag(
    image_registry, tmp_path
):
    import shutil

    root = shutil.copytree(image_registry["registry"], tmp_path / "registry")
    adapter = shutil.copytree(image_registry["adapters"]["site_a"], tmp_path / "site_a")
    (adapter / "split.json").unlink()
    added = Registry(root).add(adapter, name="site_a_copy")
    assert list(added.notices) == [
        f"note: site_a_copy@1: its split.json (which images trained it) is not beside it in "
        f"{adapter}: a server cannot say which patients it trained on (their predictions "
        "in-sample); add it from the folder 'medadapt adapt' wrote"
    ]


def test_a_stored_report_of_an_image_the_model_trained_on_says_so(tmp_path):
    """A review: the server's answer flagged the image, but the SR it stored in the archive
    (``"store_sr": true``) carried only the image's own notes, where ``predict --store-sr``
    stores the in-sample caution."""
    import torch

    from medadapt.data.dicomweb import Instance
    from medadapt.serve.image_decode import Sample
    from medadapt.serve.image_dicomweb import ArchiveImages
    from medadapt.serve.image_reports import _with_sources

    def instance(sop: str) -> Instance:
        return Instance(tmp_path / f"{sop}.dcm", "1.2", "1.2.3", sop, "1.2.840.10008.5.1.4.1.1.2")

    images = ArchiveImages(reference=None, instances=[instance("1.1"), instance("1.2")])
    samples = [
        Sample(sop, None, torch.zeros(1, 4, 4), ("12-bit values",)) for sop in ("1.1", "1.2")
    ]
    answers = [{"probabilities": {"normal": 0.9, "nodule": 0.1}, "trained_on": who}
               for who in ("adapter site_b@1", None)]  # fmt: skip
    first, second = _with_sources(images, samples, answers, volumes=False)
    assert first.cautions == (in_sample_caution("adapter site_b@1"), "12-bit values")
    assert second.cautions == ("12-bit values",)


def test_adding_an_image_adapter_again_keeps_its_lost_split_file_and_says_so(
    image_registry, tmp_path
):
    """An image adapter registered before the registry kept split files (or whose kept file
    was lost) is flagged once added again from its folder, and the add says what it kept."""
    import shutil

    registry = Registry(shutil.copytree(image_registry["registry"], tmp_path / "registry"))
    digest = registry.kept_split(registry.get("site_b@1"))["split.json"]
    registry.objects.path(digest).unlink()
    assert registry.kept_split(registry.get("site_b@1")) == {}
    # verify says it, and the fix (a note: add keeps none an adapter lacks, and says so)
    assert registry.verify().unkept_splits == ["site_b@1"]
    said = succeeded(run_cli("registry", "--root", registry.root, "verify"))
    assert said.stdout.splitlines()[-1] == (
        "note: site_b@1: the registry holds no split file (which images trained it: never "
        "kept when added, or deleted from objects/), so served answers cannot flag those "
        "images as in-sample; add it again with "
        f"'medadapt registry --root {registry.root} add ADAPTER_DIR --name site_b' from the "
        "adapter directory that has its split.json"
    )
    added = Registry(registry.root).add(image_registry["adapters"]["site_b"], name="site_b")
    assert not added.new and added.repaired == (
        "the split file of its training images was missing",
    )
    assert registry.kept_split(registry.get("site_b@1")) == {"split.json": digest}
    assert registry.verify().unkept_splits == []
    # an imported version holds none by design (its images are at the site that trained it)
    exported = registry.export("site_b@1", tmp_path / "site_b.tar.gz")
    other = Registry(tmp_path / "other", create=True)
    assert other.import_(exported.path).version.ref == "site_b@1"
    assert other.verify().unkept_splits == []


def test_a_lossy_or_another_format_s_copy_of_a_training_image_is_told_as_predict_tells_it(
    client, image_registry, tmp_path
):
    """A trial: ``predict`` called a JPEG of a training PNG a near-copy, the server answered
    it as a new patient's image (it knew exact copies only). Now the server reads each
    uploaded picture's stored values as ``predict`` does: a DICOM holding a training PNG's
    values is the training image; a JPEG of it looks like a near-copy, and is said so."""
    from medadapt.data.stored_pixels import NEAR_KEYS, STORED_KEYS
    from medadapt.results import NEAR_COPY
    from tests.data.makers import write_dicom

    split = _split(image_registry["adapters"]["site_b"])
    assert split[STORED_KEYS] and split[NEAR_KEYS]  # what the server reads them by
    site_b = _images_of(image_registry, "B")
    trained, held_out = site_b[split["train_keys"][0]], site_b[split["test_keys"][0]]
    values = np.asarray(Image.open(trained).convert("L"))
    dicom = write_dicom(tmp_path / "copy.dcm", values.astype(np.uint16), modality="OT")
    assert _ask(client, dicom, "site_b")["trained_on"] == "adapter site_b@1"
    lossy = tmp_path / "copy.jpg"
    Image.open(trained).convert("L").save(lossy, quality=90)
    assert not np.array_equal(np.asarray(Image.open(lossy)), values)  # no exact key matches
    said = _ask(client, lossy, "site_b")
    assert said["trained_on"] == NEAR_COPY
    assert in_sample_caution(NEAR_COPY) in said["note"]
    # as predict says of the same two files
    table = tmp_path / "ask.csv"
    table.write_text(f"path\n{dicom}\n{lossy}\n{held_out}\n")
    out = tmp_path / "predictions.csv"
    adapter = image_registry["adapters"]["site_b"]
    succeeded(run_cli("predict", "--base", image_registry["base"], "--adapter", adapter,
                      "--data", table, "--out", out))  # fmt: skip
    import pandas as pd

    told = pd.read_csv(out, keep_default_na=False)["trained_on"].tolist()
    assert told == ["adapter 'site_b'", NEAR_COPY, ""]
    assert _ask(client, held_out, "site_b")["trained_on"] is None
