"""From a new user's trial of serving image adapters: an empty routing field is refused, not
answered by the base alone; a file that is no image is told so in words (no Python exception
name); an image adapter names its positive class as its base does; an image sent as the body,
or a JSON body naming only an image adapter, is told how images are sent; a JSON body over the
limit of an image server is not told to send fewer instances; files go in ``file``."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from medadapt.serve.app import create_app
from medadapt.serve.limits import too_large_detail

pytestmark = pytest.mark.xdist_group("serve")  # share the registry fixtures per worker
REFERENCE = "dicomweb+http://127.0.0.1:9/dicom-web/studies/1.2.826.0.1.7"
SEND_IMAGES = (
    "upload images as multipart/form-data, each in a 'file' field (curl -F adapter={name} -F "
    'file=@scan.png), or send a JSON DICOMweb reference ({{"adapter": "{name}", "dicomweb": '
    '"dicomweb+http(s)://HOST/dicom-web/studies/UID"}})'
)


@pytest.fixture
def client(image_registry):
    with TestClient(create_app(image_registry["registry"], token=None)) as test_client:
        yield test_client


@pytest.fixture
def png(image_registry) -> bytes:
    return image_registry["files"]["png"].read_bytes()


EMPTY_ADAPTER = (
    "the {where} 'adapter' is empty; name an adapter (GET /v1/adapters lists them), or leave "
    "the field out to route by 'group' or score with the base model alone"
)
EMPTY_GROUP = (
    "the {where} 'group' is empty; name a group (GET /v1/adapters lists the groups its "
    "adapters serve), or leave the field out to route by 'adapter' or score with the base "
    "model alone"
)


@pytest.mark.parametrize(
    ("form", "said"),
    [({"adapter": ""}, EMPTY_ADAPTER), ({"adapter": "  "}, EMPTY_ADAPTER),
     ({"group": ""}, EMPTY_GROUP), ({"adapter": "site_b", "group": ""}, EMPTY_GROUP)],
    ids=["adapter", "adapter blank", "group", "group beside an adapter"],
)  # fmt: skip
def test_an_empty_routing_field_is_refused_not_scored_by_the_base_alone(client, png, form, said):
    """curl -F adapter=$UNSET -F file=@x.png was answered 200 by the base model alone."""
    reply = client.post("/v1/predict", data=form, files=[("file", ("x.png", png))])
    assert reply.status_code == 422
    assert reply.json() == {"detail": said.format(where="form field"), "file": None}


@pytest.mark.parametrize(
    ("body", "field", "said"),
    [({"adapter": "", "dicomweb": REFERENCE}, "adapter", EMPTY_ADAPTER),
     ({"adapter": " ", "instances": [{"age": 60}]}, "adapter", EMPTY_ADAPTER),
     ({"group": "", "dicomweb": REFERENCE}, "group", EMPTY_GROUP),
     ({"group": " ", "instances": [{"age": 60}]}, "group", EMPTY_GROUP)],
    ids=["adapter dicomweb", "adapter instances", "group dicomweb", "group instances"],
)  # fmt: skip
def test_an_empty_routing_field_in_a_json_body_is_refused_alike(client, body, field, said):
    """An empty adapter was "version reference '' is invalid: use NAME, NAME@N...", an empty
    group a 404 naming the groups served: each told now as a form field sent empty is."""
    reply = client.post("/v1/predict", json=body)
    assert reply.status_code == 422
    assert reply.json()["detail"] == [
        {"loc": ["body", field], "msg": said.format(where="field"), "type": "value_error"}
    ]


def test_a_file_that_is_no_image_is_told_so_in_words(client, png):
    """'fake.png: not a readable PNG image (UnidentifiedImageError: cannot identify image
    file 'fake.png')': a Python exception in an API answer, and a 422 where notes.csv, no
    image either, is a 415."""
    cases = [
        ("fake.png", b"patient,age\n1,60\n", 415, "fake.png: not a PNG image (its first bytes "
         "are not a PNG's; it looks like text): send a PNG, JPEG, DICOM or NIfTI file"),
        ("scan.jpg", b"%PDF-1.4 ...", 415, "scan.jpg: not a JPEG image (its first bytes are "
         "not a JPEG's; it looks like a PDF document): send a PNG, JPEG, DICOM or NIfTI file"),
        ("noise.png", bytes(range(256)), 415, "noise.png: not a PNG image (its first bytes "
         "are not a PNG's, nor another image type's): send a PNG, JPEG, DICOM or NIfTI file"),
        ("ct.dcm", b"not a DICOM file at all", 415, "ct.dcm: not a DICOM image (its first "
         "bytes are not a DICOM's; it looks like text): send a PNG, JPEG, DICOM or NIfTI file"),
        ("notes.csv", b"a,b\n1,2\n", 415, "notes.csv: an unsupported type (neither its name "
         "nor its first bytes say PNG, JPEG, DICOM or NIfTI); send one of those"),
        ("cut.png", png[:100], 422, "cut.png: not a readable PNG image (its decoder says: "
         "image file is truncated)"),
    ]  # fmt: skip
    for name, content, status, said in cases:
        reply = client.post("/v1/predict", files=[("file", (name, content))])
        assert (reply.status_code, reply.json()) == (status, {"detail": said, "file": name})
    # its bytes say what it is, whatever its name: a PNG saved as .jpg is read as the PNG it is
    reply = client.post("/v1/predict", files=[("file", ("chest.jpg", png))])
    assert reply.status_code == 200, reply.text


def test_an_image_adapter_names_its_positive_class_as_its_base_does(client):
    """/v1/adapters gave "positive_class": null for a binary image adapter, /v1/bases its
    base's "nodule"; an adapter that added a class has none."""
    (base,) = client.get("/v1/bases").json()
    assert (base["task"], base["positive_class"]) == ("binary", "nodule")
    listed = {
        a["name"]: (a["task"], a["positive_class"]) for a in client.get("/v1/adapters").json()
    }
    assert listed == {"site_a": ("binary", "nodule"), "site_b": ("binary", "nodule"),
                      "site_c": ("binary", "nodule"), "site_d": ("multiclass", None)}  # fmt: skip


@pytest.mark.parametrize(
    ("headers", "what"),
    [({"Content-Type": "image/png"}, "an image (sent as 'image/png')"),
     ({"Content-Type": "application/x-www-form-urlencoded"},
      "a PNG image (sent as 'application/x-www-form-urlencoded')"),
     ({}, "a PNG image")],
    ids=["image/png", "curl's default type", "no type"],
)  # fmt: skip
def test_an_image_sent_as_the_body_is_told_to_upload_it(client, png, headers, what):
    """curl --data-binary @x.png was told "There was an error parsing the body: not valid
    UTF-8 (byte 0x89 at position 0); send JSON encoded as UTF-8"."""
    reply = client.post("/v1/predict", content=png, headers=headers)
    assert reply.status_code == 415
    assert reply.json() == {
        "detail": f"the body is {what}, not JSON: {SEND_IMAGES.format(name='NAME')}"
    }


def test_a_json_body_naming_only_an_image_adapter_says_how_images_are_sent(client):
    """{"adapter": "site_b"} was answered [{"loc": ["body", "dicomweb"], "msg": "Field
    required"}]."""
    for adapter in ("site_b", "site_b@1"):
        reply = client.post("/v1/predict", json={"adapter": adapter})
        assert reply.status_code == 422
        assert reply.json()["detail"] == [{
            "loc": ["body"], "type": "missing",
            "msg": f"adapter '{adapter}' serves image data, and the request sends none: "
                   f"{SEND_IMAGES.format(name=adapter)}",
        }]  # fmt: skip
    reply = client.post("/v1/predict", json={"group": "B"})  # an image server: said alike
    assert reply.json()["detail"][0]["msg"] == (
        f"this server serves image data, and the request sends none: "
        f"{SEND_IMAGES.format(name='NAME')}"
    )


def test_a_json_body_too_large_for_an_image_server_is_not_told_of_instances(image_registry):
    """'request body over 1 MiB (serve --max-body-mb); send fewer instances per request (at
    most 1024)' to a client of an image adapter: tables' words."""
    app = create_app(image_registry["registry"], token=None, max_body_bytes=2**20)
    with TestClient(app) as client:
        big = b'{"adapter": "site_b", "dicomweb": "' + b"x" * 2**20 + b'"}'
        reply = client.post("/v1/predict", content=big,
                            headers={"Content-Type": "application/json"})  # fmt: skip
    assert reply.status_code == 413
    assert reply.json()["detail"] == (
        "request body over 1 MiB (serve --max-body-mb): a JSON request for images holds a "
        "DICOMweb reference, not images; upload images as multipart/form-data (curl -F "
        "file=@scan.png; serve --max-upload-mb)"
    )
    assert too_large_detail(2**20, 1024, {"tabular", "image"}) == (
        "request body over 1 MiB (serve --max-body-mb); to a table adapter, send fewer "
        "instances per request (at most 1024); for an image adapter, upload images as "
        "multipart/form-data (curl -F file=@scan.png; serve --max-upload-mb)"
    )


@pytest.mark.parametrize(
    ("files", "said"),
    [([("image", ("x.png", b"{png}"))],
      "unexpected form field 'image'; send images as 'file' (repeat it for several)"),
     ([("files", ("x.png", b"{png}"))],
      "unexpected form field 'files'; send images as 'file' (repeat it for several)"),
     ([("file", ("x.png", b"{png}")), ("adapter", ("name.txt", b"site_b"))],
      "the form field 'adapter' holds a file; send it as text (curl -F adapter=NAME), and "
      "images as 'file'"),
     ([("file", (None, "x.png"))],
      "the form field 'file' holds text, not a file: upload the file itself (curl -F "
      "file=@scan.png: the @ sends its contents)")],
    ids=["image", "files", "adapter as a file", "file as text"],
)  # fmt: skip
def test_files_are_taken_from_the_file_field_only(client, png, files, said):
    """-F image=@x.png and -F files=@x.png were scored as if sent as 'file' (the API's
    description names 'file' only)."""
    sent = [(key, (name, png if value == b"{png}" else value)) for key, (name, value) in files]
    reply = client.post("/v1/predict", files=sent)
    assert reply.status_code == 422
    assert reply.json() == {"detail": said, "file": None}
    several = [("file", ("a.png", png)), ("file", ("b.png", png))]  # the README's curl's way
    reply = client.post("/v1/predict", data={"adapter": "site_b"}, files=several)
    assert [p["file"] for p in reply.json()["predictions"]] == ["a.png", "b.png"]


def test_json_rows_for_an_image_adapter_s_group_say_how_images_are_sent(client):
    """A trial's {"group": "B", "instances": [...]} to a server whose image adapter site_b
    serves group B was a 404 "no adapter serves group 'B' ... served groups: <the tables'>"."""
    reply = client.post("/v1/predict", json={"group": "B", "instances": [{"x": 1}]})
    assert reply.status_code == 404
    assert reply.json()["detail"] == (
        "group 'B' is served by adapter 'site_b', which takes images as multipart/form-data, "
        "or a JSON DICOMweb reference, not JSON instances: " + SEND_IMAGES.format(name="site_b")
    )
