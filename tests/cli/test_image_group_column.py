"""An adapter trained for one site of an image CSV, evaluated on a CSV whose site column was
renamed (``site`` -> ``hospital``): refused in one line as a table's is, instead of scoring
every site's images as that site's without a word; ``--group-column`` names the column here,
``--all-groups`` scores every image deliberately. Where the column is there but the base
model reads no group by it, the images of other sites are counted in a warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import error_line, run_cli, succeeded
from tests.train.image_data import write_png_csv

TINY = ["--image-size", "16", "--backbone-options", "depth=1,embed_dim=16,num_heads=2",
        "--epochs", "1"]  # fmt: skip
CLASSES = ["normal", "mass"]
ADAPTER = "adapter 'b_bottleneck' is for site = 'B'"


@pytest.fixture(scope="module")
def paths(tmp_path_factory) -> dict[str, Path]:
    """A base trained on site A's images (no group column), an adapter for site B, and new
    images of both sites, listed with their ``site`` column and with it renamed."""
    tmp = tmp_path_factory.mktemp("image_groups")
    out = {"base": tmp / "base", "adapter": tmp / "adapter"}
    site_a = write_png_csv(tmp / "a", {"A": {c: 8 for c in CLASSES}}, CLASSES)
    succeeded(run_cli("train-base", "--data", site_a, *TINY, "--out", out["base"]))
    both_sites = {"A": {c: 6 for c in CLASSES}, "B": {c: 6 for c in CLASSES}}
    both = write_png_csv(tmp / "ab", both_sites, CLASSES, seed=3)
    succeeded(run_cli("adapt", "--base", out["base"], "--data", both, "--group-column", "site",
                      "--group", "B", "--epochs", "1", "--out", out["adapter"]))  # fmt: skip
    out["new"] = write_png_csv(tmp / "new", both_sites, CLASSES, seed=9)
    out["renamed"] = tmp / "new" / "renamed.csv"
    text = out["new"].read_text()
    out["renamed"].write_text(text.replace("path,label,site", "path,label,hospital", 1))
    return out


def _evaluate(paths: dict[str, Path], data: Path, *more: str):
    return run_cli("evaluate", "--base", paths["base"], "--adapter", paths["adapter"], "--data",
                   data, *more)  # fmt: skip


def _warnings(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("warning:")]


def test_evaluate_refuses_an_image_csv_without_the_adapters_group_column(paths):
    assert error_line(_evaluate(paths, paths["renamed"])) == (
        f"error: {ADAPTER}, but --data {paths['renamed']} has no column 'site' to pick that "
        "group's images by: every image would be scored, whatever its group; pass "
        "--group-column COL --group 'B' naming the column that holds the group in this file, "
        "or --all-groups to score every image deliberately"
    )


def test_all_groups_scores_every_image_and_says_so(paths, tmp_path):
    out = tmp_path / "e.json"
    result = succeeded(_evaluate(paths, paths["renamed"], "--all-groups", "--json", out))
    said = (
        f"{ADAPTER}, but --data has no column 'site': every image was scored (--all-groups), so "
        "these figures describe it on whichever groups --data holds; to score that group only, "
        "pass --group-column COL --group 'B' naming the column that holds the group"
    )
    assert _warnings(result).count(f"warning: {said}") == 1
    assert said in json.loads(out.read_text())["data_warnings"]


def test_the_column_named_here_picks_the_group(paths, tmp_path):
    out = tmp_path / "e.json"
    result = succeeded(_evaluate(paths, paths["renamed"], "--group-column", "hospital",
                                 "--group", "B", "--json", out))  # fmt: skip
    assert json.loads(out.read_text())["images_used"].startswith("hospital = B")
    assert not [w for w in _warnings(result) if ADAPTER in w]


def test_other_sites_of_a_column_the_base_reads_no_group_by_are_counted(paths):
    result = succeeded(_evaluate(paths, paths["new"]))
    assert [w for w in _warnings(result) if ADAPTER in w] == [
        f"warning: {ADAPTER}, but 12 of the 24 images scored have another value of 'site': "
        "these figures describe it there, not where it was trained; to score that group only, "
        "pass --group-column site --group 'B'"
    ]
