"""DICOM (rescale, windows, MONOCHROME1, frames), NIfTI (slices, volumes) and MedMNIST npz."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medadapt.data.images import SkippedFilesWarning, load_images
from medadapt.data.intensity import CT_WINDOWS, apply_window, resolve_window
from medadapt.errors import ConfigError, DataError
from tests.data.makers import ramp_volume, write_dicom, write_nifti, write_npz

HU = np.array([[-1024.0, 40.0], [60.0, 1000.0]])


def _f32(values) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=torch.float32)


def _ct_pair(root, **kwargs):
    """Two classes, one CT slice each; stored = (HU + 1024) / 2, i.e. slope 2, intercept -1024."""
    stored = ((HU + 1024) / 2).astype(np.uint16)
    for cls in ("normal", "bleed"):
        write_dicom(root / cls / "slice.dcm", stored, slope=2.0, intercept=-1024.0, **kwargs)
    return root


def test_ct_rescale_then_brain_window_gives_exact_values(tmp_path):
    ds = load_images(_ct_pair(tmp_path / "ct"), image_size=2, window="brain")
    assert ds.classes == ["bleed", "normal"]
    assert torch.equal(ds.images[0, 0], _f32([[0.0, 0.5], [0.75, 1.0]]))
    assert ds.source["formats"] == {"dicom": 2} and ds.source["intensity"] == {"window": 2}
    assert ds.source["window"] == [40.0, 80.0]


def test_ct_explicit_level_width(tmp_path):
    ds = load_images(_ct_pair(tmp_path / "ct"), image_size=2, window=(0, 2000))
    expected = np.clip((HU + 1000) / 2000, 0, 1)
    assert torch.equal(ds.images[0, 0], _f32(expected))


def test_the_files_own_window_is_the_default(tmp_path):
    ds = load_images(_ct_pair(tmp_path / "ct", window=(40, 80)), image_size=2)
    assert torch.equal(ds.images[0, 0], _f32([[0.0, 0.5], [0.75, 1.0]]))
    assert ds.source["intensity"] == {"dicom_window": 2}
    centred = load_images(_ct_pair(tmp_path / "zero", window=(0, 2000)), image_size=2)
    assert centred.source["intensity"] == {"dicom_window": 2}  # WindowCenter 0 is a window
    assert torch.equal(centred.images[0, 0], _f32(np.clip((HU + 1000) / 2000, 0, 1)))


def test_monochrome1_is_inverted_and_monochrome2_is_not(tmp_path):
    stored = np.array([[0, 25], [50, 100]], dtype=np.uint16)
    write_dicom(tmp_path / "x" / "m2" / "a.dcm", stored, modality="CR")
    write_dicom(tmp_path / "x" / "m1" / "a.dcm", stored, photometric="MONOCHROME1")
    ds = load_images(tmp_path / "x", image_size=2)
    assert ds.classes == ["m1", "m2"]
    assert torch.equal(ds.images[1, 0], _f32([[0.0, 0.25], [0.5, 1.0]]))  # min-max
    assert torch.equal(ds.images[0, 0], _f32([[1.0, 0.75], [0.5, 0.0]]))  # inverted
    assert ds.source["intensity"] == {"min_max": 2}


def test_corrupt_truncated_and_suffixless_dicom(tmp_path):
    root = _ct_pair(tmp_path / "ct")
    (root / "bleed" / "junk.dcm").write_bytes(b"not a dicom file at all")
    good = write_dicom(root / "normal" / "IM0001", np.zeros((4, 4), np.uint16))  # no suffix
    cut = (root / "normal" / "slice.dcm").read_bytes()
    (root / "normal" / "cut.dcm").write_bytes(cut[: len(cut) - 6])
    with pytest.warns(SkippedFilesWarning, match="skipped 2 of 5 image files"):
        ds = load_images(root, image_size=2, window="brain")
    assert str(good) in ds.paths and ds.source["formats"] == {"dicom": 3}
    reasons = dict(ds.skipped)
    assert reasons[str(root / "bleed" / "junk.dcm")] == (
        "not a DICOM file: no 'DICM' marker at byte 128 and no DICOM data set at its start "
        "(it looks like text)"
    )
    cut_reason = reasons[str(root / "normal" / "cut.dcm")]
    assert cut_reason.startswith("pixel data cannot be decoded")
    assert cut_reason.endswith(
        "the file is truncated or damaged (transfer syntax Explicit VR Little Endian, uncompressed)"
    )  # no decoder advice for an uncompressed file
    with pytest.raises(DataError, match=r"^cannot read .*junk.dcm: not a DICOM file: no 'DICM'"):
        load_images(root, image_size=2, on_error="raise")
    header_only = cut[: cut.index(b"\xe0\x7f\x10\x00")]  # cut before the (7FE0,0010) tag
    (root / "normal" / "cut.dcm").write_bytes(header_only)
    (root / "bleed" / "junk.dcm").unlink()
    with pytest.raises(DataError) as err:
        load_images(root, image_size=2, on_error="raise")
    assert "cut.dcm: a DICOM image whose pixel data is missing (a truncated file?)" in str(
        err.value
    )
    early = cut[: cut.index(b"\x28\x00\x10\x00")]  # cut before Rows (0028,0010): a trial's
    (root / "normal" / "cut.dcm").write_bytes(early)  # "a report or DICOMDIR"
    with pytest.raises(DataError) as err:
        load_images(root, image_size=2, on_error="raise")
    assert "cut.dcm: a DICOM image whose pixel data is missing (a truncated file?)" in str(
        err.value
    )


def test_multiframe_dicom_gives_slices_or_a_volume(tmp_path):
    frames = np.stack([np.full((2, 2), v, np.uint16) for v in (0, 100, 200)])  # (3, 2, 2)
    for cls in ("a", "b"):
        write_dicom(tmp_path / "mf" / cls / "cine.dcm", frames, modality="XA")
    middle = load_images(tmp_path / "mf", image_size=2)
    assert middle.images.shape == (2, 1, 2, 2) and middle.images[0].unique().tolist() == [0.5]
    every = load_images(tmp_path / "mf", image_size=2, slices="all")
    assert [v.item() for v in every.images[:3, 0, 0, 0]] == [0.0, 0.5, 1.0]
    assert every.y.tolist() == [0, 0, 0, 1, 1, 1]
    assert every.paths[0] == every.paths[2]  # slices of one file share its path
    volume = load_images(tmp_path / "mf", image_size=4, spatial_dims=3)
    assert volume.images.shape == (2, 1, 4, 4, 4) and volume.spatial_dims == 3
    write_dicom(tmp_path / "mf" / "a" / "single.dcm", np.zeros((2, 2), np.uint16))
    with pytest.warns(SkippedFilesWarning):
        ds = load_images(tmp_path / "mf", image_size=4, spatial_dims=3)
    assert ds.skipped == [
        (
            str(tmp_path / "mf" / "a" / "single.dcm"),
            "a single-frame DICOM image is 2D; spatial_dims=3 needs volumes (multi-frame "
            "DICOM, or a series of slices sharing a SeriesInstanceUID with "
            "ImagePositionPatient)",
        )
    ]


def test_nifti_slices_along_an_axis_and_whole_volumes(tmp_path):
    for cls, name in (("a", "v.nii.gz"), ("b", "v.nii")):
        write_nifti(tmp_path / "mr" / cls / name, ramp_volume(depth=5, size=8))
    middle = load_images(tmp_path / "mr", image_size=8)
    assert middle.images.shape == (2, 1, 8, 8)
    assert middle.images[0].unique().tolist() == [0.5]  # slice 2 of 0..4, min-max per volume
    every = load_images(tmp_path / "mr", image_size=8, slices="all")
    assert [v.item() for v in every.images[:5, 0, 0, 0]] == [0.0, 0.25, 0.5, 0.75, 1.0]
    picked = load_images(tmp_path / "mr", image_size=8, slices=4)
    assert picked.images[0].unique().tolist() == [1.0]
    sagittal = load_images(tmp_path / "mr", image_size=8, slice_axis=0, fit="stretch")
    assert sagittal.images.shape == (2, 1, 8, 8)
    assert sagittal.images[0, 0, 0].tolist() == pytest.approx(  # (8, 5) -> (8, 8) along z
        sagittal.images[0, 0, 7].tolist()
    )
    volume = load_images(tmp_path / "mr", image_size=6, spatial_dims=3, fit="stretch")
    assert volume.images.shape == (2, 1, 6, 6, 6)
    assert volume.images[0, 0, :, 0, 0].tolist() == sorted(volume.images[0, 0, :, 0, 0].tolist())
    assert volume.source["formats"] == {"nifti": 2}


def test_nifti_window_2d_files_and_4d_refusal(tmp_path):
    ct = np.broadcast_to(np.array([-1000.0, 40.0, 60.0]), (4, 4, 3)).copy()  # z = HU level
    write_nifti(tmp_path / "n" / "a" / "ct.nii.gz", ct)
    write_nifti(tmp_path / "n" / "b" / "flat.nii.gz", np.full((4, 4), 7.0))
    write_nifti(tmp_path / "n" / "b" / "fmri.nii.gz", np.zeros((4, 4, 3, 2)))
    with pytest.warns(SkippedFilesWarning):
        ds = load_images(tmp_path / "n", image_size=4, window="brain", slices="all")
    assert [v.item() for v in ds.images[:3, 0, 0, 0]] == [0.0, 0.5, 0.75]
    assert ds.y.tolist() == [0, 0, 0, 1]
    assert ds.skipped == [
        (
            str(tmp_path / "n" / "b" / "fmri.nii.gz"),
            "a NIfTI image of shape (4, 4, 3, 2); medadapt reads 2D images and 3D volumes: "
            "save one volume per file",
        )
    ]


def test_slice_index_outside_a_volume_is_an_option_error_not_a_corrupt_file(tmp_path):
    for cls in ("a", "b"):
        write_nifti(tmp_path / "mr" / cls / "v.nii", ramp_volume(depth=3, size=4))
    for on_error in ("skip", "raise"):
        with pytest.raises(ConfigError) as err:
            load_images(tmp_path / "mr", image_size=4, slices=7, on_error=on_error)
        assert str(err.value) == (
            f"slices (--slices): slice 7 is outside this volume's 3 slices ({tmp_path}/mr/a/"
            "v.nii); pick an index every volume has, or 'middle' or 'all'"
        )


def _medmnist(path, shape, n=6, dtype=np.uint8, **extra):
    rng = np.random.default_rng(0)
    labels = (np.arange(n) % 3).reshape(n, 1)
    images = rng.integers(0, 255, (n, *shape)).astype(dtype)
    arrays = {"train_images": images, "train_labels": labels}
    arrays.update(val_images=images[:2], val_labels=np.array([[0], [1]]), **extra)
    return write_npz(path, **arrays), images


def test_medmnist_2d_gray_and_rgb(tmp_path):
    path, images = _medmnist(tmp_path / "pneumonia.npz", (8, 8))
    ds = load_images(path, image_size=8)
    assert ds.images.shape == (6, 1, 8, 8) and ds.classes == ["0", "1", "2"]
    assert torch.equal(ds.images[:, 0], torch.from_numpy(images.astype(np.float32) / 255))
    assert ds.y.tolist() == [0, 1, 2, 0, 1, 2] and ds.source["kind"] == "npz"
    val = load_images(path, image_size=16, split="val", classes=["normal", "mild", "severe"])
    assert val.classes == ["normal", "mild", "severe"] and val.images.shape == (2, 1, 16, 16)
    rgb_path, _ = _medmnist(tmp_path / "path.npz", (8, 8, 3))
    rgb = load_images(rgb_path, image_size=4)
    assert rgb.images.shape == (6, 3, 4, 4)
    assert load_images(rgb_path, image_size=4, channels=1).images.shape == (6, 1, 4, 4)


def test_medmnist_3d_volumes_and_slices(tmp_path):
    path, images = _medmnist(tmp_path / "organ3d.npz", (4, 8, 8))
    volumes = load_images(path, image_size=8, spatial_dims=3)
    assert volumes.images.shape == (6, 1, 8, 8, 8)
    middle = load_images(path, image_size=8)
    assert torch.equal(middle.images[:, 0], torch.from_numpy(images[:, 2] / np.float32(255)))
    assert len(load_images(path, image_size=8, slices="all")) == 24


def test_medmnist_errors(tmp_path):
    path, _ = _medmnist(tmp_path / "m.npz", (8, 8))
    with pytest.raises(DataError) as err:
        load_images(path, split="test")
    assert str(err.value) == (
        f"{path} has no 'test_images' array (it has train_images, train_labels, val_images, "
        "val_labels): MedMNIST files hold train_/val_/test_ images and labels; pick another "
        "--split (train, val)"
    )
    from medadapt.data.option_words import command_flags

    with command_flags(["--data", "--base", "--out"]), pytest.raises(DataError) as err:
        load_images(path, split="test")  # predict takes no --split (a trial was sent to it)
    assert str(err.value).endswith(
        "this command reads its test split only: save the images to score as 'test_images' "
        "(np.savez)"
    )
    plain = write_npz(tmp_path / "plain.npz", images=np.zeros((2, 4, 4), np.uint8),
                      labels=np.zeros(2, np.uint8))  # fmt: skip
    with pytest.raises(DataError) as err:
        load_images(plain)
    assert str(err.value).endswith(
        "name its arrays as MedMNIST does (np.savez(path, train_images=..., train_labels=...)): "
        "'images' and 'labels' alone are not read"
    )
    multi = write_npz(
        tmp_path / "chest.npz",
        train_images=np.zeros((2, 4, 4), np.uint8),
        train_labels=np.zeros((2, 14), np.uint8),
    )
    with pytest.raises(DataError, match=r"train_labels has shape \(2, 14\), a multi-label"):
        load_images(multi)
    floats = write_npz(
        tmp_path / "f.npz", train_images=np.full((2, 4, 4), 3.0), train_labels=np.array([0, 1])
    )
    with pytest.raises(DataError) as err:
        load_images(floats)
    assert str(err.value) == (
        f"{floats}: train_images are floats in [3, 3]; store uint8 or scale them to [0, 1]"
    )
    with pytest.raises(DataError, match=r"holds 2D images but --spatial-dims 3 needs volumes"):
        load_images(path, spatial_dims=3)
    with pytest.raises(ConfigError, match=r"window applies to DICOM and NIfTI"):
        load_images(path, window="lung")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match=r"broken.npz is not a valid .npz archive"):
        load_images(broken)


def test_window_presets():
    assert CT_WINDOWS["lung"] == (-600.0, 1500.0) and resolve_window("Soft tissue") == (40, 400)
    assert resolve_window((50, 350)) == resolve_window("mediastinum")
    assert apply_window(np.array([-1000.0, 1000.0]), resolve_window("bone")).tolist() == [
        0.0,
        pytest.approx((1000 - (400 - 900)) / 1800),
    ]
    with pytest.raises(ConfigError, match=r"window width must be positive, got width=0.0"):
        resolve_window((40, 0))


def _nifti(path, data, zooms=(1.0, 1.0, 1.0), flip=False):
    import nibabel as nib

    affine = np.diag([-zooms[0] if flip else zooms[0], zooms[1], zooms[2], 1.0])
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.asarray(data, np.float32), affine), path)


def test_nifti_volumes_keep_their_proportions_in_mm(tmp_path):
    ramp = np.broadcast_to(np.array([0.0, 100.0]), (8, 8, 2))  # 1 x 1 x 4 mm: 8 mm cube
    for cls in ("a", "b"):
        _nifti(tmp_path / "v" / cls / "v.nii.gz", ramp, zooms=(1.0, 1.0, 4.0))
    counted = load_images(tmp_path / "v", image_size=8, spatial_dims=3, spacing=None)
    assert counted.images[0, 0, :, 4, 4].tolist() == [0, 0, 0, 0, 1, 0, 0, 0]  # 2 of 8, padded
    measured = load_images(tmp_path / "v", image_size=8, spatial_dims=3)
    depth = measured.images[0, 0, :, 4, 4]
    assert len(set(depth.tolist())) >= 4 and depth.tolist() == sorted(depth.tolist())
    assert measured.source["spacing"] == "auto"
    given = load_images(tmp_path / "v", image_size=8, spatial_dims=3, spacing=(2, 2, 2))
    assert given.source["spacing"] == [2.0, 2.0, 2.0] and given.images.shape == (2, 1, 8, 8, 8)
    rng = np.random.default_rng(0)
    flat = 1 + rng.random((8, 4, 3))  # axial slices of 8 x 4 voxels of 1 x 2 mm: 8 x 8 mm
    for cls in ("a", "b"):
        _nifti(tmp_path / "w" / cls / "w.nii.gz", flat, zooms=(1.0, 2.0, 3.0))
    padded = load_images(tmp_path / "w", image_size=8, spacing=None).images[0, 0]
    assert padded[:, :2].abs().max() == 0  # W (4 voxels) padded to 8
    slice_ = load_images(tmp_path / "w", image_size=8).images[0, 0]
    assert (slice_.abs().amax(dim=0) > 0).all()  # 8 mm wide: no padding
    with pytest.raises(ConfigError, match=r"spacing .--spacing. must be 'auto' or three"):
        load_images(tmp_path / "w", image_size=8, spacing=(1, 2))


def test_2d_nifti_orientation_does_not_depend_on_a_trailing_axis(tmp_path):
    image = np.random.default_rng(1).random((4, 6))
    for cls in ("a", "b"):
        _nifti(tmp_path / "two" / cls / "x.nii.gz", image, flip=True)
        _nifti(tmp_path / "three" / cls / "x.nii.gz", image[..., None], flip=True)
    two = load_images(tmp_path / "two", image_size=6).images
    three = load_images(tmp_path / "three", image_size=6).images
    assert torch.equal(two, three)
    plain = load_images(tmp_path / "three", image_size=6, spacing=None).images
    assert torch.allclose(
        plain[0, 0, 1:5],
        torch.flip(torch.from_numpy(image), [0]).float().sub(image.min()).div(np.ptp(image)),
        atol=1e-6,
    )


def _series(root, label, patient, depth=4, order=(2, 0, 3, 1)):
    """One slice per file, written in a shuffled order with reversed InstanceNumbers; slice
    k lies at z = 2k mm and holds the value 10 k."""
    import pydicom

    uid = pydicom.uid.generate_uid()
    for k in order:
        path = write_dicom(root / label / patient / f"IM{k * 7 % 5}_{k}", np.full((4, 4), 10 * k))
        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID, ds.PatientID = uid, patient
        ds.InstanceNumber = depth - k
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
        ds.PixelSpacing = [1.0, 1.0]
        ds.save_as(path)


def test_a_dicom_series_of_single_slices_is_stacked_by_position(tmp_path):
    for label, patient in (("a", "P1"), ("a", "P2"), ("b", "P3")):
        _series(tmp_path / "s", label, patient)
    ds = load_images(tmp_path / "s", image_size=4, spatial_dims=3, spacing=None)
    assert ds.images.shape == (3, 1, 4, 4, 4) and ds.source["dicom_series"] == 3
    assert ds.images[0, 0, :, 0, 0].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert len(set(ds.keys)) == 3 and ds.patients() == ["patient:P1", "patient:P2", "patient:P3"]
    assert ds.source["formats"] == {"dicom": 12}
    measured = load_images(tmp_path / "s", image_size=4, spatial_dims=3)  # 4 x 4 x 8 mm
    assert measured.images[0, 0, :, 0, 0].tolist() == sorted(measured.images[0, 0, :, 0, 0])
    slices = load_images(tmp_path / "s", image_size=4)  # 2D: one sample per file
    assert len(slices) == 12 and len(set(slices.patients())) == 3
    from medadapt.data.image_files import load_unlabelled
    from medadapt.data.image_schema import ImageSchema

    schema = ImageSchema(classes=("a", "b"), channels=1, image_size=4, spatial_dims=3)
    images, ids, skipped, _ = load_unlabelled(tmp_path / "s", schema)  # predict reads series too
    assert images.shape == (3, 1, 4, 4, 4) and len(ids) == 3 and skipped == []


def test_a_dicom_series_split_between_classes_is_refused_naming_the_flag(tmp_path):
    """It said "read single slices with spatial_dims=2", a Python argument, on the command
    line too."""
    _series(tmp_path / "s", "a", "P1")
    _series(tmp_path / "s", "b", "P2")
    moved = sorted((tmp_path / "s" / "a" / "P1").iterdir())[-1]
    moved.rename(tmp_path / "s" / "b" / moved.name)
    first = sorted((tmp_path / "s" / "a" / "P1").iterdir())[0]
    with pytest.raises(DataError) as err:
        load_images(tmp_path / "s", image_size=4, spatial_dims=3, spacing=None)
    assert str(err.value) == (
        f"the DICOM series of {first} has files with different labels or groups (2 "
        "combinations): give every file of a series the same label, or pass --spatial-dims 2 "
        "to read each file as a single slice"
    )
