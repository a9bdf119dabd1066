"""Training images are recognised by the values their files store, before any intensity
scaling. A trial: 8-bit DICOM files holding exactly the pixel values of the training PNGs were
all scored by ``evaluate`` (a DICOM without a window is min-max scaled when read, a PNG divided
by 255: other model inputs, another pixel key), while the PNGs themselves were recognised; JPEG
copies (quality 95) were scored as new too. Now the DICOM copy is left out as the PNG is, and
the JPEG copy as a near-identical copy, counted apart. Splits recorded before these keys are
matched as they were."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from medadapt.data.images import load_images
from medadapt.data.stored_pixels import (
    NEAR_BITS,
    NEAR_KEYS,
    NEAR_WORDS,
    STORED_KEYS,
    near_key,
    stored_key,
    stored_pixels,
    unpack_near,
)
from medadapt.modalities.images.modality import ImageModality
from medadapt.modalities.images.samples import ImageSamples
from tests.cli.helpers import run_cli, succeeded
from tests.cli.workspace import TINY_IMAGE
from tests.train.image_data import make_dataset, write_png_csv
from tests.workflows.evaluated import evaluate_json, recorded_splits

CLASSES = ["normal", "mass"]
SITES = {"A": {"normal": 10, "mass": 10}, "B": {"normal": 8, "mass": 8}}
N_IMAGES = 36


def write_dicom8(path: Path, pixels: np.ndarray, patient: str | None = None) -> Path:
    """An 8-bit secondary-capture DICOM file holding ``pixels`` (uint8, (H, W)) as stored,
    with no window: read min-max scaled, unlike the PNG it copies."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, generate_uid()
    ds.Modality = "OT"
    if patient is not None:
        ds.PatientID = patient
    ds.set_pixel_data(pixels.astype(np.uint8), "MONOCHROME2", bits_stored=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _copies(csv: Path, out: Path, kind: str) -> Path:
    """The images of ``csv`` copied as ``kind`` ("dcm": 8-bit DICOM, "jpg": JPEG at quality
    95) into a class folder ``out/<label>/``."""
    for name, label in pd.read_csv(csv)[["path", "label"]].itertuples(index=False):
        with Image.open(csv.parent / name) as image:
            pixels = np.asarray(image)
        target = out / label / Path(name).with_suffix(f".{kind}").name
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "dcm":
            write_dicom8(target, pixels, patient=Path(name).stem)
        else:
            Image.fromarray(pixels).save(target, quality=95)
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A base on site A's PNGs, an adapter on site B's, and every PNG copied as 8-bit DICOM
    and as JPEG."""
    root = tmp_path_factory.mktemp("stored_keys")
    csv = write_png_csv(root / "orig", SITES, CLASSES, seed=3)
    succeeded(run_cli("train-base", "--data", csv, "--group-column", "site", "--groups", "A",
                      *TINY_IMAGE, "--epochs", "1", "--out", root / "base"))  # fmt: skip
    succeeded(run_cli("adapt", "--base", root / "base", "--data", csv, "--group-column", "site",
                      "--group", "B", "--method", "head", "--epochs", "1",
                      "--out", root / "adapter"))  # fmt: skip
    _copies(csv, root / "dcm", "dcm")
    _copies(csv, root / "jpg", "jpg")
    return root


def test_an_8_bit_dicom_copy_of_the_training_pngs_is_left_out_as_they_are(trained):
    root = trained
    pngs = load_images(root / "orig" / "cases.csv", image_size=32)
    dicoms = load_images(root / "dcm", image_size=32)
    assert set(pngs.pixel_keys()).isdisjoint(dicoms.pixel_keys())  # the trial's cause
    base, adapter = recorded_splits(root)
    n_base, n_adapter = len(base["train_keys"]), len(adapter["train_keys"])
    assert (len(base[STORED_KEYS]), len(adapter[STORED_KEYS])) == (n_base, n_adapter)
    scored = evaluate_json(root, root / "dcm", "dicom")
    assert scored["n_excluded_trained"] == {"base": n_base, "adapter": n_adapter}
    assert scored["n"] == N_IMAGES - n_base - n_adapter > 0
    assert scored["images_used"] == (
        f"all images, minus {n_base + n_adapter} images that match training images (by content; "
        f"{n_base} by the base model, {n_adapter} by the adapter)"
    )
    alone = evaluate_json(root, root / "dcm", "dicom_base", adapter=False)
    assert alone["n_excluded_trained"] == {"base": n_base}


def test_a_jpeg_copy_is_scored_and_said_to_look_like_near_identical_copies(trained):
    """No exact key matches a JPEG re-save; its near key says it looks like a training image:
    scored all the same (a perceptual key cannot tell a copy from an alike image), warned."""
    root = trained
    base, adapter = recorded_splits(root)
    n_trained = len(base["train_keys"]) + len(adapter["train_keys"])
    scored = evaluate_json(root, root / "jpg", "jpeg")
    assert not scored.get("n_excluded_trained") and scored["n"] == N_IMAGES
    assert [w for w in scored["data_warnings"] if "near-identical" in w] == [
        f"{n_trained} of the images scored look like near-identical copies (lossy re-saves) of "
        "images the model trained on: if they are copies, these figures are optimistic; leave "
        "them out of --data (a copy is no new patient)"
    ]


def test_near_copies_are_counted_after_the_exact_matches(trained, tmp_path):
    """Site A as PNGs (matched exactly), site B as JPEGs (near-identical only)."""
    root = trained
    table = pd.read_csv(root / "orig" / "cases.csv")
    mixed = tmp_path / "mixed"
    for name, label, site in table[["path", "label", "site"]].itertuples(index=False):
        source = root / "orig" / name
        target = mixed / label / Path(name).name
        target.parent.mkdir(parents=True, exist_ok=True)
        if site == "A":
            target.write_bytes(source.read_bytes())
        else:
            with Image.open(source) as image:
                image.save(target.with_suffix(".jpg"), quality=95)
    base, adapter = recorded_splits(root)
    n_base, n_adapter = len(base["train_keys"]), len(adapter["train_keys"])
    scored = evaluate_json(root, mixed, "mixed")
    assert scored["n_excluded_trained"] == {"base": n_base}  # the exact matches left out
    assert scored["images_used"].startswith(
        f"all images, minus {n_base} images that match images the base model trained on (by "
    )
    said = [w for w in scored["data_warnings"] if "near-identical" in w]
    assert said and said[0].startswith(f"{n_adapter} of the images scored look like")


def test_splits_recorded_before_these_keys_are_matched_as_before(trained):
    root = trained
    base, _ = recorded_splits(root)
    older = {k: v for k, v in base.items() if k not in (STORED_KEYS, NEAR_KEYS)}
    modality = ImageModality()
    dicoms = ImageSamples(load_images(root / "dcm", image_size=32))
    pngs = ImageSamples(load_images(root / "orig" / "cases.csv", image_size=32))
    everything = np.arange(len(dicoms))
    assert not modality.in_split(root / "dcm", dicoms, older, "train").any()  # as before
    assert not modality.near_copies(root / "dcm", dicoms, [older], everything).any()
    assert modality.in_split(root, pngs, older, "train").sum() == len(base["train_keys"])
    assert modality.in_split(root / "dcm", dicoms, base, "train").sum() == len(base["train_keys"])


def test_only_hashes_are_recorded_and_the_adapter_s_checksum_holds(trained):
    root = trained
    base, adapter = recorded_splits(root)
    for split in (base, adapter):
        assert all(len(k) == 24 and int(k, 16) >= 0 for k in split[STORED_KEYS])
        assert all(len(k) == 128 and int(k, 16) >= 0 for k in split[NEAR_KEYS])  # hex only
        near = unpack_near(split[NEAR_KEYS])
        assert near.shape == (len(split["train_keys"]), NEAR_WORDS)  # 64 bytes an image
    manifest = json.loads((root / "adapter" / "adapter.json").read_text())
    assert STORED_KEYS not in json.dumps(manifest) and NEAR_KEYS not in json.dumps(manifest)
    raw = (root / "adapter" / "split.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == manifest["metadata"]["split"]["keys_sha256"]


def test_stored_values_match_across_formats_and_bit_depths(tmp_path):
    pixels = (make_dataset({"mass": 1}, ["mass"], size=40).images[0, 0].numpy() * 255).round()
    pixels = pixels.astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    Image.fromarray(np.stack([pixels] * 3, axis=-1)).save(tmp_path / "rgb.png")
    write_dicom8(tmp_path / "a.dcm", pixels)
    keys = {stored_key(stored_pixels(tmp_path / name)) for name in ("a.png", "rgb.png", "a.dcm")}
    assert len(keys) == 1 and None not in keys
    assert stored_key(pixels) == stored_key(pixels.astype(np.uint16))  # values, not bytes
    changed = pixels.copy()
    changed[5, 5] ^= 1
    assert stored_key(changed) not in keys
    assert stored_key(np.full((40, 40), 7)) is None  # a blank image copies no other
    assert stored_pixels(tmp_path / "missing.png") is None


def test_near_keys_tell_lossy_copies_from_other_images():
    """JPEG re-saves at quality 95 stay within NEAR_BITS; distinct images stay far apart."""
    images = make_dataset({"normal": 15, "nodule": 15, "mass": 15}, ["normal", "nodule", "mass"],
                          size=48, seed=5).images[:, 0].numpy()  # fmt: skip
    pixels = [(image * 255).round().astype(np.uint8) for image in images]
    keys = np.stack([near_key(p) for p in pixels])
    for p, key in zip(pixels, keys, strict=True):
        saved = io.BytesIO()
        Image.fromarray(p).save(saved, "JPEG", quality=95)
        copy = np.asarray(Image.open(io.BytesIO(saved.getvalue())))
        assert int(np.bitwise_count(near_key(copy) ^ key).sum()) <= NEAR_BITS
    apart = np.bitwise_count(keys[:, None] ^ keys[None]).sum(axis=2)
    assert apart[~np.eye(len(keys), dtype=bool)].min() > 2 * NEAR_BITS
    assert near_key(np.full((48, 48), 9)) is None and near_key(np.ones((8, 8))) is None


def test_adapt_says_its_test_images_look_like_copies_of_images_the_base_trained_on(trained):
    """A site whose files are JPEG re-saves of the base's training PNGs: no exact key
    matches, so adapt tested on them as new patients without a word (evaluate said it);
    now adapt says it too, in its --json's warnings as on the terminal."""
    root = trained
    table = pd.read_csv(root / "orig" / "cases.csv")
    rows = ["path,label,site"] + [
        f"{label}/{Path(name).stem}.jpg,{label},C"
        for name, label, site in table[["path", "label", "site"]].itertuples(index=False)
        if site == "A"
    ]
    copies = root / "jpg" / "site_c.csv"
    copies.write_text("\n".join(rows) + "\n")
    out = root / "adapter_c"
    result = succeeded(run_cli("adapt", "--base", root / "base", "--data", copies,
                               "--group-column", "site", "--group", "C", "--method", "head",
                               "--epochs", "1", "--out", out,
                               "--json", root / "c.json"))  # fmt: skip
    n_test = json.loads((out / "adapter.json").read_text())["metadata"]["data_summary"]["n_test"]
    [said] = [w for w in json.loads((root / "c.json").read_text())["warnings"] if "near-" in w]
    n = int(said.split()[0])  # the base trained on part of site A (the rest validated it)
    assert 0 < n <= n_test
    assert said == (
        f"{n} of the adapter's {n_test} test images look like near-identical copies (lossy "
        "re-saves) of images the base model trained on: if they are copies, its figures (and "
        "the base's alone on them) are optimistic; leave them out of --data (a copy is no new "
        "patient)"
    )
    assert f"warning: {said}" in result.stderr.replace("\n", " ") + result.stdout


def test_adapt_says_its_test_images_look_like_copies_of_its_own_training_images(trained):
    """Site B twice, as PNGs and as JPEG re-saves under other names: an image's copy on the
    other side of the adapter's split is said, the base's images not named."""
    root = trained
    table = pd.read_csv(root / "orig" / "cases.csv")
    both = root / "both"
    rows = ["path,label,site"]
    for name, label, site in table[["path", "label", "site"]].itertuples(index=False):
        if site != "B":
            continue
        (both / label).mkdir(parents=True, exist_ok=True)
        png = both / label / Path(name).name
        png.write_bytes((root / "orig" / name).read_bytes())
        with Image.open(png) as image:
            image.save(png.with_name(f"copy_{png.stem}.jpg"), quality=95)
        rows += [f"{label}/{png.name},{label},B", f"{label}/copy_{png.stem}.jpg,{label},B"]
    (both / "cases.csv").write_text("\n".join(rows) + "\n")
    result = succeeded(run_cli("adapt", "--base", root / "base", "--data", both / "cases.csv",
                               "--group-column", "site", "--group", "B", "--method", "head",
                               "--epochs", "1", "--out", root / "adapter_both"))  # fmt: skip
    said = " ".join(result.stdout.split())
    assert "of the adapter's" in said and "look like near-identical copies" in said
    assert "of images the adapter trained on:" in said, said
