"""What an image request is told when it goes wrong or is answered otherwise than asked: a
misspelt field names the field meant (never the table request's fields), a file over the
limit says its size in MiB or KiB, and the base model answering alone, while adapters for no
group in particular are served, says so and names them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from medadapt.modalities.images.options import ImageOptions
from medadapt.registry import Registry
from medadapt.registry.bases import add_base
from medadapt.serve.app import create_app
from medadapt.serve.image_inputs import MiB, over_the_limit
from medadapt.workflows.adapt import adapt_job

pytestmark = pytest.mark.xdist_group("serve")  # share the registry fixtures per worker
REFERENCE = "dicomweb+http://127.0.0.1:9/dicom-web/studies/1.2.826.0.1.7"


@pytest.fixture
def client(image_registry):
    with TestClient(create_app(image_registry["registry"], token=None)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"adaptr": "site_a", "dicomweb": REFERENCE},
         [(["body", "adaptr"], "unknown field 'adaptr': did you mean 'adapter'?")]),
        ({"adapter": "site_a", "dicomweb": REFERENCE, "store_SR": True},
         [(["body", "store_SR"], "unknown field 'store_SR': did you mean 'store_sr'?")]),
        ({"adapter": "site_a", "dicomwb": REFERENCE},  # not also "dicomweb: Field required"
         [(["body", "dicomwb"], "unknown field 'dicomwb': did you mean 'dicomweb'?")]),
        ({"adapter": "site_a", "colour": "crimson", "dicomweb": REFERENCE},
         [(["body", "colour"], "unknown field 'colour': this request takes 'adapter', "
           "'group', 'dicomweb', 'store_sr'")]),
        ({"adapter": "site_a"}, [(["body"], "adapter 'site_a' serves image data, and the "
          "request sends none: upload images as multipart/form-data, each in a 'file' field "
          "(curl -F adapter=site_a -F file=@scan.png), or send a JSON DICOMweb reference "
          '({"adapter": "site_a", "dicomweb": "dicomweb+http(s)://HOST/dicom-web/studies/UID"})'
          )]),  # images only: not pydantic's bare "dicomweb: Field required"
    ],
    ids=["adapter", "store_sr", "dicomweb", "unlike any", "no reference"],
)  # fmt: skip
def test_a_misspelt_field_names_the_field_meant_and_no_table_field(client, body, errors):
    """pydantic's "Extra inputs are not permitted" named no field meant, and ``dicomwb``
    added "instances: Field required" (the table request's field) for an image base."""
    reply = client.post("/v1/predict", json=body)
    assert reply.status_code == 422
    assert [(e["loc"], e["msg"]) for e in reply.json()["detail"]] == errors
    assert "instances" not in reply.text and "crimson" not in reply.text  # no value echoed


def test_a_file_over_the_limit_says_its_size_in_mib_or_kib():
    """ "9015107 bytes, over the limit of 1048576 bytes per image": a size to count digits of."""
    assert (
        over_the_limit(9_015_107, MiB)
        == "8.6 MiB, over the limit of 1 MiB per image (serve --max-image-mb)"
    )
    assert (
        over_the_limit(70_004, 60_000)
        == "68.4 KiB, over the limit of 58.6 KiB per image (serve --max-image-mb)"
    )
    assert over_the_limit(3 * MiB + 1, 3 * MiB) == (  # alike once rounded: the bytes
        "3145729 bytes, over the limit of 3145728 bytes (3 MiB) per image (serve --max-image-mb)"
    )


def test_the_base_alone_says_so_when_adapters_for_no_group_are_served(image_registry, tmp_path):
    """A request naming no adapter was answered by the base alone without a word when the
    promoted adapters were trained for no group: the client took the base's answer for its
    adapter's."""
    registry = Registry(tmp_path / "registry", create=True)
    add_base(registry.root, image_registry["base"])
    for name in ("site_b", "site_c"):
        adapter = tmp_path / name
        adapt_job(base_dir=image_registry["base"], data=image_registry["root"] / "data" /
                  "base.csv", out=adapter, options=ImageOptions(epochs=1), label="label",
                  method="lora", name=name, n_boot=20)  # fmt: skip
        registry.add(adapter, name=name)
    png = image_registry["files"]["png"]
    files = [("file", (png.name, png.read_bytes()))]
    notes = []
    for promoted in ("site_b", "site_c"):
        registry.promote(f"{promoted}@1")
        with TestClient(create_app(registry.root, token=None)) as client:
            reply = client.post("/v1/predict", files=files)
        assert reply.status_code == 200, reply.text
        [prediction] = reply.json()["predictions"]
        assert prediction["adapter"] is None
        notes.append(prediction["note"])
    assert [note.split("; caution")[0] for note in notes] == [
        "scored by the base model alone: the request names no adapter; served: site_b (name "
        "it in 'adapter' to use it)",
        "scored by the base model alone: the request names no adapter; served: site_b, site_c "
        "(name one in 'adapter' to use it)",
    ]
