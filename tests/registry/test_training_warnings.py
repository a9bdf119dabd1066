"""The warnings ``adapt`` said about an adapter's data (a unit slip, a class too small to
test) were printed once and lost: a trial's adapter with 2 images of a class was registered
and promoted with no word of it. They are now recorded with the adapter (image file names
scrubbed) and repeated by ``registry show`` and the card."""

from __future__ import annotations

import json

from medadapt.results import TRAINING_WARNINGS, recordable_warnings
from tests.registry.helpers import DATA_SUMMARY, metadata

SLIP = (
    "column 'chol' is 0 in 34 of 140 rows here, over 3 SDs below the values the base model "
    "trained on: if 0 means 'not measured' here, the model reads it as a measurement"
)
SMALL = "class 'nodule' has 2 images here: no test here can show how it does on class 'nodule'"


def test_warnings_are_kept_once_without_image_file_names():
    said = recordable_warnings([
        SLIP, SLIP,
        "normal/Smith_John_001.png is a copy of mass/scan 7.DCM (and ct.nii.gz): left out",
    ])  # fmt: skip
    assert said == [SLIP, "<a file> is a copy of mass/scan <a file> (and <a file>): left out"]


def test_show_and_the_card_repeat_them(cli, adapter_dir, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    summary = {**DATA_SUMMARY, TRAINING_WARNINGS: [SLIP, SMALL]}
    cli("add", str(adapter_dir(1, meta=metadata(data_summary=summary))), "--name", "va")
    shown, _ = cli("show", "va@1")
    lines = shown.splitlines()
    assert f"at training: {SLIP}" in lines and f"at training: {SMALL}" in lines
    assert "data: training_warnings" not in shown  # lines of their own, not a table cell
    card, _ = cli("show", "va@1", "--card")
    assert f"- When it was trained: {SMALL}" in card.splitlines()
    as_json, _ = cli("show", "va@1", "--json")
    assert json.loads(as_json)["data_summary"][TRAINING_WARNINGS] == [SLIP, SMALL]
