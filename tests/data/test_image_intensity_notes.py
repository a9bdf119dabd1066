"""Data the model cannot read as intended, said once per data set: 12-bit values in 16-bit
pictures, DICOM CT that is not in Hounsfield units, images far smaller than the model's size."""

from __future__ import annotations

import numpy as np
import pytest

from medadapt.data.image_files import read_unlabelled
from medadapt.data.image_schema import ImageSchema
from medadapt.data.images import load_images
from medadapt.errors import ConfigError, DataError
from tests.data.makers import disc, write_dicom, write_picture

TWELVE_BIT = (
    "all 4 16-bit pictures in {where} hold values of at most 4095, as 12-bit detector data "
    "does: divided by 65535 they reach the model at most 0.0625 bright (nearly black), unlike "
    "8-bit or full 16-bit pictures of the same scene; if they are 12-bit data, train the base "
    "with --bits-stored 12 (train-base or study) so that every command divides by 4095"
)


def _sixteen_bit_folder(root, top: int, size: int = 16):
    """``root/bright`` and ``root/dark``, two 16-bit PNGs each, no value above ``top``."""
    for i in range(2):
        for label, value in (("bright", 200), ("dark", 60)):
            pixels = (disc(size, value, seed=i).astype(np.int64) * top // 255).astype(np.uint16)
            write_picture(root / label / f"{label}{i}.png", pixels)
    return root


def test_twelve_bit_values_in_16_bit_pictures_are_said_once(tmp_path):
    root = _sixteen_bit_folder(tmp_path / "exports", top=4095)
    dataset = load_images(root, image_size=16)
    assert float(dataset.images.max()) <= 4095 / 65535  # nearly black, as the note says
    assert dataset.warnings == [TWELVE_BIT.format(where="exports")]


def test_bits_stored_divides_by_its_own_maximum_and_silences_the_note(tmp_path):
    root = _sixteen_bit_folder(tmp_path / "exports", top=4095)
    dataset = load_images(root, image_size=16, bits_stored=12)
    dark = float(load_images(root, image_size=16).images.max())
    assert float(dataset.images.max()) == pytest.approx(dark * 65535 / 4095)  # 16x brighter
    assert dataset.warnings == []
    assert dataset.source["bits_stored"] == 12
    schema = ImageSchema.from_dataset(dataset)
    assert schema.bits_stored == 12
    assert ImageSchema.from_dict(schema.to_dict()) == schema
    assert schema.load_options()["bits_stored"] == 12 and schema.read_options().bits_stored == 12


def test_bits_stored_refuses_a_picture_holding_more_bits(tmp_path):
    root = _sixteen_bit_folder(tmp_path / "exports", top=4095)
    wide = write_picture(root / "dark" / "wide.png", np.full((16, 16), 60000, dtype=np.uint16))
    with pytest.raises(DataError) as refused:
        load_images(root, image_size=16, bits_stored=12, on_error="raise")
    assert str(refused.value) == (
        f"{wide}: 16-bit pixels up to 60000 exceed 4095, the highest value 12 bits stored "
        "hold (--bits-stored 12): export it with 12 bits, or train the base with a higher "
        "--bits-stored; fix or remove the file, or pass --on-error skip to leave it out"
    )


def test_full_16_bit_pictures_and_bad_bits_stored_are_not_said_or_refused(tmp_path):
    root = _sixteen_bit_folder(tmp_path / "full", top=65535)
    assert load_images(root, image_size=16).warnings == []
    with pytest.raises(ConfigError) as refused:
        load_images(root, image_size=16, bits_stored=20)
    assert str(refused.value) == (
        "bits_stored (--bits-stored) must be a whole number of bits from 8 to 16 (12: values "
        "0..4095 in 16-bit pictures); got 20"
    )


def _ct_folder(root, intercept: float, modality: str = "CT"):
    """Two classes of two CT slices, stored 0..1100 (with intercept -1024: air is -1024 HU)."""
    for i in range(2):
        for label, level in (("bright", 1100), ("dark", 1060)):
            pixels = np.zeros((16, 16), dtype=np.uint16)
            pixels[5:11, 5:11] = level
            write_dicom(root / label / f"{label}{i}.dcm", pixels, intercept=intercept,
                        modality=modality)  # fmt: skip
    return root


def test_ct_without_a_rescale_intercept_is_said_once_with_what_to_check(tmp_path):
    root = _ct_folder(tmp_path / "head", intercept=0.0)
    dataset = load_images(root, image_size=16, window="brain")
    assert dataset.warnings == [
        "4 of 4 DICOM CT files in head have no value below 0 and no negative "
        "RescaleIntercept, where air is about -1000 HU: they look like raw stored values, not "
        "Hounsfield units, so a CT window (or a model trained on HU) reads them wrongly; check "
        "the files' RescaleIntercept (usually -1024)"
    ]


def test_ct_in_hounsfield_units_a_crop_without_air_and_mr_are_not_said(tmp_path):
    assert load_images(_ct_folder(tmp_path / "hu", -1024.0), image_size=16).warnings == []
    mr = _ct_folder(tmp_path / "mr", 0.0, modality="MR")
    said = load_images(mr, image_size=16, window="brain").warnings  # an MR is not CT: no
    assert [w.split(" (first: ")[0] for w in said] == [  # raw-CT note, but a CT window on it is
        "mr: 4 DICOM files are MR, not CT"  # said (its values are no Hounsfield units)
    ]
    # a crop of soft tissue in HU: nothing below 0, but its intercept is negative
    crop = tmp_path / "crop"
    for i, label in enumerate(("lesion", "normal") * 2):
        write_dicom(crop / label / f"{i}.dcm", np.full((8, 8), 1100 + 10 * i), intercept=-1024.0)
    assert load_images(crop, image_size=16, window="abdomen").warnings == []


def test_images_far_smaller_than_the_model_are_said_with_their_sizes(tmp_path):
    root = tmp_path / "thumbs"
    for i in range(3):
        write_picture(root / "bright" / f"small{i}.png", disc(12, 200, seed=i))
        write_picture(root / "dark" / f"full{i}.png", disc(64, 60, seed=i))
    write_picture(root / "dark" / "edge.png", disc(16, 60, seed=9))  # 4x exactly: not said
    dataset = load_images(root, image_size=64)
    assert dataset.warnings == [
        "3 of 7 images in thumbs are smaller than 16 px (the smallest 12x12 px): upscaled over "
        "4x to the model's 64 px, the detail the model expects is not in them; use the "
        "full-size images, or a base with a smaller --image-size"
    ]


def test_predictions_say_the_same_notes_for_their_files(tmp_path):
    folder = tmp_path / "incoming"
    write_picture(folder / "a.png", disc(12, 200, seed=1))
    write_picture(folder / "b.png", (disc(16, 200, seed=2).astype(np.uint16) * 16))
    schema = ImageSchema(classes=("dark", "bright"), channels=1, image_size=64)
    read = read_unlabelled(folder, schema)
    assert read.warnings == [
        "the one 16-bit picture in incoming holds values of at most 4095, as 12-bit detector "
        "data does: divided by 65535 it reaches the model at most 0.0625 bright (nearly "
        "black), unlike 8-bit or full 16-bit pictures of the same scene; if it is 12-bit data, "
        "train the base with --bits-stored 12 (train-base or study) so that every command "
        "divides by 4095",
        "1 of 2 images in incoming is smaller than 16 px (the smallest 12x12 px): upscaled "
        "over 4x to the model's 64 px, the detail the model expects is not in it; use the "
        "full-size images, or a base with a smaller --image-size",
    ]


def test_ct_windowed_by_its_files_own_tags_is_said_to_record_no_window(tmp_path):
    """A trial's CT base trained on the files' window tags recorded no window: said where a
    base is trained, with the fix; not with --window, nor for a model reading its images."""
    from medadapt.data.image_files import file_warnings

    root = tmp_path / "ct"
    for i, label in enumerate(("lesion", "normal") * 2):
        write_dicom(root / label / f"{i}.dcm", np.full((8, 8), 1000 + 40 * i),
                    intercept=-1024.0, window=(40.0, 400.0))  # fmt: skip
    dataset = load_images(root, image_size=16)
    assert dataset.warnings == [
        "all 4 images in ct were windowed by their own DICOM window (WindowCenter/WindowWidth), "
        "which the base model does not record: a file it scores later is windowed by its own "
        "tags too, however they differ from these; pass --window (LEVEL,WIDTH or a preset such "
        "as 'abdomen') to window every file alike and record it"
    ]
    schema = ImageSchema(classes=("lesion", "normal"), channels=1, image_size=16)
    assert file_warnings(schema, dataset) == []  # a model reading them: not its to say
    assert load_images(root, image_size=16, window="abdomen").warnings == []


def test_one_image_s_notes_say_the_image_without_a_command_line_flag(tmp_path):
    """What a served answer and a stored SR say of one image: "the image ...", not "1 of 1
    images in <uid>.dcm ...", and no flag of the command line (a trial's SR carried
    "--image-size" into a clinical report)."""
    from medadapt.data.image_io import read_file
    from medadapt.data.image_notes import image_notes

    schema = ImageSchema(classes=("dark", "bright"), channels=1, image_size=64)
    write_picture(tmp_path / "small12.png", (disc(12, 200, seed=2).astype(np.uint16) * 16))
    read = read_file(tmp_path / "small12.png", "png", schema.read_options())
    notes = image_notes(schema, "1.2.3.4", read)
    assert notes == (
        "the image holds values of at most 4095, as 12-bit detector data does: divided by "
        "65535 it reaches the model at most 0.0625 bright (nearly black); if it is 12-bit "
        "data, only a base model trained to read 12 bits stored scores it as it should",
        "the image is smaller than 16 px (12x12 px): upscaled over 4x to the model's 64 px, "
        "the detail the model expects is not in it; score the full-size image",
    )


def test_a_training_image_shaped_unlike_the_others_is_named():
    """A trial's 2:1 image among square ones trained the base without a word (the recorded
    range leaves one odd image out, so that it does not widen it)."""
    from medadapt.data.image_files import odd_training_shapes_note

    paths = [f"img{i}.png" for i in range(30)]
    square = [1.0] * 30
    assert odd_training_shapes_note(paths, square, "cases.csv") is None
    one = [*square[:29], 2.0]
    assert odd_training_shapes_note(paths, one, "cases.csv") == (
        "of 30 training images in cases.csv, img29.png is shaped 2:1 (longer side to shorter) "
        "where the others are 1:1: padded to a square, it looks unlike them; check it is the "
        "right image, or crop it as the others are"
    )
    two = [*square[:28], 4.0, 2.0]
    assert odd_training_shapes_note(paths, two, "cases.csv").startswith(
        "of 30 training images in cases.csv, 2 of them (first: img28.png, 4:1) are shaped"
    )
    assert odd_training_shapes_note(paths[:9], one[-9:], "x") is None  # too few to tell
    films = [1.0, 1.2] * 15  # two usual shapes, 1.2:1 within the margin of the others
    assert odd_training_shapes_note(paths, films, "cases.csv") is None
