"""Image loading: folders and CSVs of pictures, intensity scaling, resizing, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from medadapt.data.images import ImageDataset, SkippedFilesWarning, load_images, sort_labels
from medadapt.data.read_errors import BLANK_REASON
from medadapt.errors import ConfigError, DataError
from tests.data.makers import disc, disc_folder, write_picture


def test_png_folder_gives_classes_in_folder_order_and_exact_pixels(tmp_path):
    root = disc_folder(tmp_path / "cases", n=3, size=16)
    ds = load_images(root, image_size=16)
    assert isinstance(ds, ImageDataset)
    assert ds.images.shape == (6, 1, 16, 16) and ds.images.dtype == torch.float32
    assert ds.classes == ["bright", "dark"]
    assert ds.y.tolist() == [0, 0, 0, 1, 1, 1]
    assert ds.y.dtype == torch.int64 and ds.groups is None
    # fixed 8-bit scaling: exactly pixel / 255, no per-image stretching
    expected = torch.from_numpy(disc(16, 200, seed=0).astype(np.float32) / 255)
    assert torch.equal(ds.images[0, 0], expected)
    assert ds.paths[0] == str(root / "bright" / "b0.png")
    # the known class difference survives: bright discs are brighter
    assert ds.images[ds.y == 0].mean() > ds.images[ds.y == 1].mean() + 0.1
    assert ds.source == {
        "kind": "folder",
        "path": str(root),
        "n_files": 6,
        "n_samples": 6,
        "formats": {"png": 6},
        "class_counts": {"bright": 3, "dark": 3},
        "skipped": 0,
        "intensity": {"fixed_scale": 6},
        "channels": 1,
        "aspect": [1.0, 1.0],  # the shapes read (longer side to shorter), before fitting
        "brightness": [0.2706, 0.8196],  # brightest levels (69 and 209 of 255), before fitting
        "mean_level": [0.1494, 0.3394],  # each image's mean intensity, as the model reads it
        "contrast": [0.0747, 0.3367],  # and spread (5th and 95th percentiles of both)
        "grain": [0.0244, 0.0715],  # and neighbouring pixels' mean difference (the same)
        "image_size": 16,
        "spatial_dims": 2,
        "window": None,
        "fit": "pad",
        "slices": "middle",
        "slice_axis": 2,
        "spacing": "auto",
        "bits_stored": None,
    }
    assert ds.skipped == []


def test_gray_images_repeat_to_three_channels_and_resize(tmp_path):
    root = disc_folder(tmp_path / "cases", n=2, size=20, suffix=".jpg")
    ds = load_images(root, image_size=10, channels=3)
    assert ds.images.shape == (4, 3, 10, 10)
    assert torch.equal(ds.images[:, 0], ds.images[:, 1])
    assert ds.source["formats"] == {"jpeg": 4}
    assert ds.images.min() >= 0.0 and ds.images.max() <= 1.0


def test_colour_images_keep_three_channels_or_become_luma(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 255, 100, 0
    for cls in ("a", "b"):
        write_picture(tmp_path / "c" / cls / "x.png", rgb)
    ds = load_images(tmp_path / "c", image_size=8)
    assert ds.channels == 3
    assert ds.images[0, :, 0, 0].tolist() == pytest.approx([1.0, 100 / 255, 0.0])
    gray = load_images(tmp_path / "c", image_size=8, channels=1)
    assert gray.images[0, 0, 0, 0].item() == pytest.approx(0.299 + 0.587 * 100 / 255)


def test_mixed_gray_and_colour_images_need_a_channel_choice(tmp_path):
    root = disc_folder(tmp_path / "c", n=1, size=8)
    colour = np.zeros((8, 8, 3), np.uint8)
    colour[..., 0] = 200
    write_picture(root / "dark" / "zcolour.png", colour)
    with pytest.raises(DataError) as err:
        load_images(root, image_size=8)
    assert str(err.value) == (
        f"{root} mixes grayscale (2) and colour (1) images (e.g. {root}/bright/b0.png and "
        f"{root}/dark/zcolour.png): pass --channels 1 or --channels 3 to convert them all"
    )
    assert load_images(root, image_size=8, channels=3).images.shape == (3, 3, 8, 8)


@pytest.mark.parametrize(
    ("channels", "how"),
    [(3, "a greyscale image converted to colour stays grey"),
     (1, "a colour image converted to greyscale keeps its own brightness and contrast")],
)  # fmt: skip
def test_greyscale_and_colour_that_follow_the_classes_are_named_as_a_shortcut(
    tmp_path, channels, how
):
    """A trial: 'normal' exported in colour and 'pneumonia' in greyscale trained a model
    that could tell them apart by colour alone, said only as a generic mix (and, with
    --channels, not at all)."""
    root = tmp_path / "c"
    colour = np.zeros((8, 8, 3), np.uint8)
    colour[..., 0] = 200
    for i in range(2):
        write_picture(root / "normal" / f"n{i}.png", colour)
        write_picture(root / "pneumonia" / f"p{i}.png", np.full((8, 8), 90, np.uint8))
    shortcut = "every image of 'pneumonia' is greyscale and every one of 'normal' in colour"
    with pytest.raises(DataError) as err:
        load_images(root, image_size=8)
    assert str(err.value) == (
        f"{root} mixes grayscale (2) and colour (2) images, and the mix follows the classes: "
        f"{shortcut}, so a model could learn the colour, not the findings; export every class "
        "the same way (best), or pass --channels 1 or --channels 3 to convert them all (the "
        "shortcut may remain)"
    )
    converted = load_images(root, image_size=8, channels=channels)
    assert converted.warnings[-1] == (
        f"c: {shortcut}; converted to --channels {channels} as asked, but the images still "
        f"differ by class in how they were exported ({how}): a model can tell the classes "
        "apart by that alone, a shortcut that fails at a site that exports them alike; export "
        "every class the same way before trusting its figures"
    )
    write_picture(root / "normal" / "n9.png", np.full((8, 8), 90, np.uint8))  # both kinds
    mixed = load_images(root, image_size=8, channels=channels)  # in a class: no shortcut
    assert not any("shortcut" in w for w in mixed.warnings)


def test_pad_keeps_the_aspect_ratio_and_stretch_does_not(tmp_path):
    wide = np.full((4, 8), 255, np.uint8)  # H=4, W=8
    for cls in ("a", "b"):
        write_picture(tmp_path / "c" / cls / "x.png", wide)
    padded = load_images(tmp_path / "c", image_size=8).images[0, 0]
    assert padded[2:6].min() == 1.0 and padded[:2].max() == 0.0 and padded[6:].max() == 0.0
    stretched = load_images(tmp_path / "c", image_size=8, fit="stretch").images[0, 0]
    assert torch.equal(stretched, torch.ones(8, 8))


def test_exif_orientation_is_applied(tmp_path):
    from PIL import Image

    wide = Image.fromarray(np.full((4, 8), 255, np.uint8))  # H=4, W=8
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    for cls in ("a", "b"):
        (tmp_path / "c" / cls).mkdir(parents=True)
        wide.save(tmp_path / "c" / cls / "x.jpg", exif=exif)
    image = load_images(tmp_path / "c", image_size=8).images[0, 0]  # now 8 x 4, padded
    assert image[:, :2].max() == 0.0 and image[:, 2:6].min() > 0.9


def test_sixteen_bit_png_is_divided_by_65535(tmp_path):
    values = np.array([[0, 1000], [30000, 65535]], dtype=np.uint16)
    for cls in ("a", "b"):
        write_picture(tmp_path / "c" / cls / "x.png", values)
    ds = load_images(tmp_path / "c", image_size=2)
    assert ds.images[0, 0].flatten().tolist() == pytest.approx(
        [0.0, 1000 / 65535, 30000 / 65535, 1.0]
    )


def test_csv_with_groups_relative_paths_and_a_missing_file(tmp_path):
    root = disc_folder(tmp_path / "imgs", n=2, size=8)
    csv = tmp_path / "table.csv"
    csv.write_text(
        "path,label,group\n"
        "imgs/bright/b0.png,1,urban\n"
        "imgs/dark/d0.png,0,rural\n"
        "imgs/bright/b1.png,1,rural\n"
        "imgs/dark/gone.png,0,urban\n"
        f"{root / 'dark' / 'd1.png'},10,urban\n"
    )
    with pytest.warns(SkippedFilesWarning, match="skipped 1 of 5 image files"):
        ds = load_images(csv, image_size=8)
    assert ds.classes == ["0", "1", "10"]  # integer labels sort numerically
    assert ds.y.tolist() == [1, 0, 1, 2]
    assert ds.groups == ["urban", "rural", "rural", "urban"]
    assert ds.skipped == [(str(tmp_path / "imgs/dark/gone.png"), "file not found")]
    assert ds.source["kind"] == "csv" and ds.source["skipped"] == 1
    with pytest.raises(DataError) as err:
        load_images(csv, image_size=8, on_error="raise")
    assert str(err.value) == (
        f"1 of 5 image files listed in {csv} does not exist ({tmp_path}/imgs/dark/gone.png; "
        f"relative paths are read from the CSV's folder, {tmp_path}): correct its path or "
        "restore it, or pass --on-error skip to leave it out"
    )


def test_csv_column_problems_are_one_line_errors(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("file,diagnosis\na.png,x\n")
    with pytest.raises(DataError) as err:
        load_images(csv)
    assert str(err.value) == (
        f"{csv} has no column 'path' (it has file, diagnosis): name the columns "
        "path,label[,group], or pass --path-column naming the column of the image paths"
    )
    csv.write_text("path,label\na.png,x\n,y\n")
    with pytest.raises(DataError) as err:
        load_images(csv)
    assert str(err.value) == f"empty 'path' (line 3 of {csv}): fill it or drop the row"
    csv.write_text("path,label\nnotes.txt,x\nb.png,y\n")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError) as err:
        load_images(csv, on_error="raise")
    assert str(err.value) == (
        f"{tmp_path}/notes.txt (line 2 of {csv}) has an unknown file type '.txt': medadapt "
        "reads .png, .jpg, .jpeg, .dcm, .dicom, .nii, .nii.gz and DICOM under any name "
        "(recognised by its first bytes); remove or convert the file, or pass --on-error skip "
        "to leave it out"
    )
    write_picture(tmp_path / "a.png", disc(8, 100, 0))
    write_picture(tmp_path / "b.png", disc(8, 200, 1))
    csv.write_text("path,label\nnotes.txt,x\na.png,x\nb.png,y\n")
    with pytest.warns(SkippedFilesWarning) as caught:
        listed = load_images(csv, image_size=8)  # on_error="skip": left out, as no image
    assert listed.paths == [f"{tmp_path}/a.png", f"{tmp_path}/b.png"]
    assert listed.skipped == [(f"{tmp_path}/notes.txt", UNKNOWN_TXT)]
    assert [str(w.message) for w in caught] == [  # was "1 of 3 image files: 1 unreadable"
        f"skipped 1 of 3 files: 1 file of no image type, first: {tmp_path}/notes.txt: "
        f"{UNKNOWN_TXT}; the full list is in dataset.skipped"
    ]


UNKNOWN_TXT = (
    "unknown file type '.txt' (medadapt reads .png, .jpg, .jpeg, .dcm, .dicom, .nii, .nii.gz "
    "and DICOM under any name)"
)


def test_corrupt_files_are_skipped_with_a_report_or_refused(tmp_path):
    root = disc_folder(tmp_path / "c", n=2, size=8)
    (root / "dark" / "broken.png").write_bytes(b"\x89PNG not really")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_images(root, image_size=8)
    assert len(ds) == 4 and ds.source["n_files"] == 5
    assert [str(w.message) for w in caught] == [
        f"skipped 1 of 5 image files: 1 unreadable file, first: {root}/dark/broken.png: "
        f"{ds.skipped[0][1]}; the full list is in dataset.skipped"
    ]
    assert ds.skipped[0][1] == (  # not the decoder's "UnidentifiedImageError: cannot identify"
        "unreadable (a damaged PNG file: it starts as one, no decoder reads it)"
    )
    with pytest.raises(DataError, match=r"^cannot read .*broken.png: unreadable \("):
        load_images(root, image_size=8, on_error="raise")


def test_a_class_whose_every_file_is_corrupt_is_refused(tmp_path):
    root = disc_folder(tmp_path / "c", n=1, size=8)
    (root / "empty_class").mkdir()
    (root / "empty_class" / "x.png").write_bytes(b"junk")
    with pytest.raises(DataError) as err:
        load_images(root, image_size=8)
    assert str(err.value) == (
        f"no readable image left for class 'empty_class' in {root} (1 unreadable file, "
        f"first: {root}/empty_class/x.png: unreadable (not the image its name says: it looks "
        "like text)): fix those files or remove the class"
    )


def test_folder_layout_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError) as err:
        load_images(empty)
    assert str(err.value) == (
        f"{empty} is empty: add one sub-folder per class with that class's images in it"
    )
    flat = tmp_path / "flat"
    write_picture(flat / "a.png", disc(8, 100, 0))
    with pytest.raises(DataError) as err:
        load_images(flat)
    assert str(err.value) == (
        f"{flat} holds images but no class sub-folders: put each class's images in its own "
        f"sub-folder ({flat}/<class>/...) or list them in a CSV of path,label"
    )
    site = tmp_path / "site"  # one class's folder named by mistake (a trial's folder_B/normal)
    for name in ("normal", "nodule"):
        write_picture(site / name / "a.png", disc(8, 100, 0))
    with pytest.raises(DataError) as err:
        load_images(site / "normal")
    assert str(err.value) == (
        f"{site / 'normal'} holds images but no class sub-folders, and looks like the folder of "
        f"one class ('normal') beside others: name its parent folder, {site}, which has one "
        "sub-folder per class"
    )
    one = tmp_path / "one"
    write_picture(one / "only" / "a.png", disc(8, 100, 0))
    with pytest.raises(DataError) as err:
        load_images(one)
    assert str(err.value) == (  # not "or name them with --class-names": they have no images
        f"{one} has only one class folder ('only'): a classifier needs at least two classes; "
        "add a sub-folder of images for each other class"
    )
    csv = tmp_path / "one.csv"
    csv.write_text("path,finding\none/only/a.png,only\n")
    with pytest.raises(DataError) as err:
        load_images(csv, label_column="finding")
    assert str(err.value) == (
        f"{csv} has only one value in column 'finding' ('only'): a classifier needs at least "
        "two classes; add rows for the other classes' images"
    )
    # an explicit class list allows a one-class subset (e.g. an evaluation slice)
    ds = load_images(one, image_size=8, classes=["other", "only"])
    assert ds.y.tolist() == [1] and ds.class_counts() == {"other": 0, "only": 1}
    (one / "only" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"notes.txt has an unknown file type '.txt'"):
        load_images(one, classes=["other", "only"], on_error="raise")


def test_a_stray_file_in_a_class_folder_is_skipped_and_counted_or_refused(tmp_path):
    """notes.txt or a README among the images stopped every run, --on-error skip or not;
    hidden files, Thumbs.db and desktop.ini are passed over without a word."""
    root = disc_folder(tmp_path / "c", n=2, size=8)
    (root / "dark" / "notes.txt").write_text("scanned on the old machine\n")
    (root / "bright" / "README").write_text("cases\n")
    for name in (".DS_Store", "Thumbs.db", "desktop.ini"):
        (root / "dark" / name).write_bytes(b"\0")
    with pytest.raises(DataError) as err:
        load_images(root, image_size=8, on_error="raise")
    assert str(err.value) == (
        f"{root}/bright/README has an unknown file type '(no suffix)': medadapt reads .png, "
        ".jpg, .jpeg, .dcm, .dicom, .nii, .nii.gz and DICOM under any name (recognised by its "
        "first bytes); remove or convert the file, or pass --on-error skip to leave it out"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load_images(root, image_size=8, on_error="skip")
    assert len(ds) == 4 and ds.source["n_files"] == 6 and ds.source["skipped"] == 2
    no_suffix = UNKNOWN_TXT.replace("'.txt'", "'(no suffix)'")
    assert ds.skipped == [(f"{root}/bright/README", no_suffix),
                          (f"{root}/dark/notes.txt", UNKNOWN_TXT)]  # fmt: skip
    assert [str(w.message) for w in caught] == [
        f"skipped 2 of 6 files: 2 files of no image type, first: {root}/bright/README: "
        f"{no_suffix}; the full list is in dataset.skipped"
    ]


def test_hidden_files_are_ignored_and_empty_class_folders_refused(tmp_path):
    root = disc_folder(tmp_path / "c", n=1, size=8)
    (root / "dark" / ".DS_Store").write_bytes(b"\0")
    assert len(load_images(root, image_size=8)) == 2
    (root / "third").mkdir()
    with pytest.raises(DataError) as err:
        load_images(root, image_size=8)
    assert str(err.value) == (
        f"class folder {root}/third has no files: add its images or remove the folder"
    )


def test_bad_sources_and_options(tmp_path):
    with pytest.raises(DataError, match=r"does not exist: pass a folder with one sub-folder"):
        load_images(tmp_path / "nope")
    other = tmp_path / "x.json"
    other.write_text("{}")
    with pytest.raises(DataError, match=r"x.json is neither a folder, a .csv nor a .npz file"):
        load_images(other)
    with pytest.raises(ConfigError) as err:
        load_images(tmp_path, channels=2)
    assert str(err.value) == "channels must be 1, 3 or None (as the images are), got channels=2"
    with pytest.raises(ConfigError, match="on_error must be 'skip' or 'raise'"):
        load_images(tmp_path, on_error="ignore")
    with pytest.raises(ConfigError) as err:
        load_images(tmp_path, window="lungs")
    assert str(err.value) == (
        "unknown CT window 'lungs'; use one of brain, subdural, stroke, lung, mediastinum, "
        "abdomen, soft_tissue, liver, bone or (level, width) in HU"
    )


def test_pictures_cannot_be_volumes(tmp_path):
    root = disc_folder(tmp_path / "c", n=1, size=8)
    with pytest.raises(DataError) as err:
        load_images(root, spatial_dims=3)
    assert str(err.value) == (
        f"{root}/bright/b0.png is a 2D picture but spatial_dims=3 needs volumes (NIfTI or "
        "multi-frame DICOM): pass --spatial-dims 2 or remove the pictures"
    )


def test_dataset_indexing_subset_and_dataloader(tmp_path):
    ds = load_images(disc_folder(tmp_path / "c", n=3, size=8), image_size=8)
    image, label = ds[4]
    assert image.shape == (1, 8, 8) and label.item() == 1
    part = ds.subset([0, 5])
    assert part.y.tolist() == [0, 1] and part.paths == [ds.paths[0], ds.paths[5]]
    assert part.classes == ds.classes and part.spatial_dims == 2 and part.image_size == 8
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch[0].shape == (4, 1, 8, 8) and batch[1].shape == (4,)


def test_progress_is_reported_per_file(tmp_path):
    seen = []
    load_images(
        disc_folder(tmp_path / "c", n=1, size=8), image_size=8, progress=lambda *a: seen.append(a)
    )
    assert seen == [(1, 2), (2, 2)]


def test_label_sorting():
    assert sort_labels(["10", "2", "-1", "2"]) == ["-1", "2", "10"]
    assert sort_labels(["b", "a", "10"]) == ["10", "a", "b"]


def test_a_ct_window_on_pictures_is_refused(tmp_path):
    root = disc_folder(tmp_path / "c", n=1, size=8)
    with pytest.raises(ConfigError) as err:
        load_images(root, image_size=8, window="brain")
    assert str(err.value) == (
        f"a CT window (--window) applies to DICOM and NIfTI values, but {root} holds only "
        "PNG/JPEG pictures: drop the window"
    )


def test_a_missing_group_column_names_group_column(tmp_path):
    disc_folder(tmp_path / "imgs", n=1, size=8)
    csv = tmp_path / "t.csv"
    csv.write_text("path,label,site\nimgs/bright/b0.png,1,A\nimgs/dark/d0.png,0,B\n")
    with pytest.raises(DataError) as err:
        load_images(csv, image_size=8, group_column="hospital")
    assert str(err.value) == (
        f"{csv} has no group column 'hospital' (it has path, label, site): pass --group-column "
        "naming the column that holds the site or group"
    )


HAS = "(it has path, label, site, patient_id)"


@pytest.mark.parametrize(
    ("given", "option", "says"),
    [
        ("Label", "label_column", f"has no column 'Label'; did you mean 'label'? {HAS}: name "),
        ("Site", "group_column", f"has no group column 'Site'; did you mean 'site'? {HAS}: pass "),
        ("patient", "id_column", f"has no patient id column 'patient'; did you mean "
         f"'patient_id'? {HAS}: pass the column"),
    ],
)  # fmt: skip
def test_a_column_spelt_nearly_right_is_suggested(tmp_path, given, option, says):
    disc_folder(tmp_path / "imgs", n=1, size=8)
    csv = tmp_path / "t.csv"
    csv.write_text("path,label,site,patient_id\nimgs/bright/b0.png,1,A,P1\n"
                   "imgs/dark/d0.png,0,B,P2\n")  # fmt: skip
    with pytest.raises(DataError) as err:
        load_images(csv, image_size=8, **{option: given})
    assert str(err.value).startswith(f"{csv} {says}")


@pytest.mark.parametrize(
    ("source", "option", "column", "listing"),
    [
        ("folder", "group_column", "site", "a CSV of path,label,site"),
        ("npz", "group_column", "site", "a CSV of path,label,site"),
        ("npz", "id_column", "patient", "a CSV with a patient id column"),
    ],
)
def test_a_group_or_id_column_needs_a_path_csv(tmp_path, source, option, column, listing):
    from tests.data.makers import write_npz

    if source == "folder":
        root, what = disc_folder(tmp_path / "c", n=1, size=8), "a folder"
    else:
        root = write_npz(
            tmp_path / "x.npz",
            train_images=np.zeros((4, 8, 8), np.uint8),
            train_labels=np.array([[0], [1], [0], [1]]),
        )
        what = "an .npz archive"
    with pytest.raises(ConfigError) as err:
        load_images(root, image_size=8, **{option: column})
    flag = "--" + option.replace("_", "-")
    assert str(err.value) == (
        f"{option} ({flag}) {column} names a column of a path CSV, but {root} is {what}: list "
        f"the images in {listing}, or drop the option"
    )


def test_one_file_listed_with_two_labels_is_refused(tmp_path):
    disc_folder(tmp_path / "imgs", n=1, size=8)
    csv = tmp_path / "t.csv"
    csv.write_text("path,label\nimgs/bright/b0.png,1\nimgs/dark/d0.png,0\n./imgs/bright/b0.png,0\n")
    with pytest.raises(DataError) as err:
        load_images(csv, image_size=8)
    assert str(err.value) == (
        f"{tmp_path}/imgs/bright/b0.png is labelled '1' (line 2 of {csv}) and '0' (line 4): "
        "give each image one label"
    )


def test_one_file_listed_under_two_groups_or_patients_is_refused(tmp_path):
    """A trial's image listed under sites B and C was read once, as B's, and ``--group C``
    was then told the column has no 'C'."""
    disc_folder(tmp_path / "imgs", n=1, size=8)
    csv = tmp_path / "t.csv"
    head = "path,label,site,patient\nimgs/bright/b0.png,1,B,p1\nimgs/dark/d0.png,0,B,p2\n"
    csv.write_text(head + "imgs/bright/b0.png,1,C,p1\n")
    with pytest.raises(DataError) as err:
        load_images(csv, image_size=8, group_column="site")
    assert str(err.value) == (
        f"{tmp_path}/imgs/bright/b0.png is listed with 'B' (line 2 of {csv}) and 'C' (line 4) "
        "in its group column 'site': an image belongs to one; correct the CSV"
    )
    csv.write_text(head + "imgs/bright/b0.png,1,B,p3\n")
    with pytest.raises(DataError) as err:
        load_images(csv, image_size=8, group_column="site", id_column="patient")
    assert str(err.value).endswith(
        f"is listed with 'p1' (line 2 of {csv}) and 'p3' (line 4) in its patient id column "
        "'patient': an image belongs to one; correct the CSV"
    )
    csv.write_text(head + "imgs/bright/b0.png,1,B,p1\n")  # the same again: read once, as before
    assert len(load_images(csv, image_size=8, group_column="site", id_column="patient")) == 2


def test_labels_that_differ_only_in_case_are_refused(tmp_path):
    disc_folder(tmp_path / "imgs", n=2, size=8)
    csv = tmp_path / "t.csv"
    csv.write_text(
        "path,label\nimgs/bright/b0.png,mass\nimgs/bright/b1.png,MASS\n"
        "imgs/dark/d0.png,normal\nimgs/dark/d1.png,normal\n"
    )
    with pytest.raises(DataError) as err:
        load_images(csv, image_size=8)
    assert str(err.value) == (
        f"{csv} has labels 'MASS' and 'mass', which differ only in upper/lower case: spell "
        "each class one way (column 'label'), or they become two classes"
    )
    folder = disc_folder(tmp_path / "f", n=1, size=8)
    write_picture(folder / "Bright" / "x.png", disc(8, 200, seed=9))
    with pytest.raises(DataError, match=r"labels 'Bright' and 'bright', which differ only"):
        load_images(folder, image_size=8)
    assert load_images(folder, image_size=8, classes=["Bright", "bright", "dark"]).classes == [
        "Bright", "bright", "dark",
    ]  # fmt: skip


def test_paths_written_relative_to_the_current_folder_are_named_as_such(tmp_path, monkeypatch):
    """Every file was "not found" (paths are read from the CSV's folder), with no hint why."""
    from medadapt.data.image_sources import csv_entries

    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"")  # its existence is all that is checked
    (tmp_path / "lists").mkdir()
    listing = tmp_path / "lists" / "cases.csv"
    listing.write_text("path,label\nimg/a.png,normal\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as refused:
        csv_entries(listing, "path", "label", None)
    assert str(refused.value) == (
        f"img/a.png (line 2 of {listing}) does not exist relative to the CSV's folder "
        f"{listing.parent}, where relative paths are read from (it does exist relative to the "
        "current folder): write the paths relative to cases.csv's folder, or as absolute paths"
    )


def test_blank_files_are_refused_or_left_out_when_asked(tmp_path):
    root = disc_folder(tmp_path / "c", n=3)
    write_picture(root / "dark" / "z.png", np.zeros((16, 16), np.uint8))
    assert len(load_images(root, image_size=8)) == 7  # kept by default (the library's)
    with pytest.raises(DataError, match=r"^1 of 7 image files is blank, every pixel the same"):
        load_images(root, image_size=8, keep_blank=False, on_error="refuse")
    with pytest.warns(SkippedFilesWarning):
        ds = load_images(root, image_size=8, keep_blank=False)
    assert len(ds) == 6 and ds.skipped == [(str(root / "dark" / "z.png"), BLANK_REASON)]
    assert ds.warnings[0].startswith("left out 1 of 7 image files as blank")


def test_a_group_asked_of_class_folders_points_to_a_path_csv(tmp_path):
    """A trial: ``adapt --data siteB --group B`` on class folders was told to pass
    --group-column, which a folder has no column for."""
    from medadapt.modalities.images.samples import ImageSamples, SourceInfo
    from medadapt.workflows.splitting import select

    root = disc_folder(tmp_path / "siteB", n=2, size=8)
    samples = ImageSamples(load_images(root, image_size=8), SourceInfo(path=root))
    with pytest.raises(DataError) as err:
        select(samples, None, ["B"], what="--group")
    assert str(err.value) == (
        "--group needs a group column: images read from folders or an .npz have no columns: "
        "list them in a CSV of path, label and a column for the site or group, and pass it as "
        "--data with --group-column COL"
    )
    listed = ImageSamples(load_images(root, image_size=8), SourceInfo(path=tmp_path / "x.csv"))
    with pytest.raises(DataError, match="pass --group-column COL naming the column that holds"):
        select(listed, None, ["B"], what="--group")


def test_an_unreadable_file_is_said_without_the_readers_exception_class(tmp_path):
    """A trial's corrupt .nii.gz was "unreadable (ImageFileError: Cannot work out file type
    ...)": the reader's words are kept, its class name (an internal) is not."""
    from medadapt.data.image_io import describe_error

    assert describe_error(ValueError("Cannot work out file type of 'x.nii.gz'")) == (
        "unreadable (its reader says: Cannot work out file type of 'x.nii.gz')"
    )


def test_a_gray_image_saved_as_rgb_reads_as_the_same_gray_wherever_it_is_read():
    """A review: training took an equal-channel RGB image's first channel, ``predict`` and
    ``serve`` its luma, 1 ulp off on a quarter of the 8-bit levels: after a resize the model
    inputs (and the pixel key that recognises a training image) could differ."""
    from medadapt.data.image_dataset import pixel_keys
    from medadapt.data.image_io import to_channels

    levels = (np.arange(256, dtype=np.float32) / 255).reshape(1, 16, 16)
    as_rgb = np.repeat(levels, 3, axis=0)
    assert np.array_equal(to_channels(as_rgb, 1), levels)  # exactly, not luma's 0.9999999
    luma = np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), as_rgb, axes=1)[None]
    assert not np.array_equal(luma, levels)  # what it was (the test can fail)
    tensor = torch.from_numpy(to_channels(as_rgb, 1))[None]
    assert pixel_keys(tensor) == pixel_keys(torch.from_numpy(levels)[None])
    colour = as_rgb.copy()
    colour[0] *= 0.5  # a real colour image is still converted by luma
    assert np.allclose(to_channels(colour, 1), np.tensordot([0.299, 0.587, 0.114], colour, 1))
