"""``medadapt check-data`` on the bundled heart data: Riley et al.'s criteria for adapting a
Cleveland base at VA Long Beach, printed and as JSON, and its bad inputs."""

from __future__ import annotations

import json

import pytest

from medadapt.data.heart import bundled_path
from medadapt.evaluate.samplesize import development
from medadapt.modalities.tabular import TabularOptions
from medadapt.workflows.train_base import train_base_job
from tests.cli.helpers import run_cli

VA = "VA Long Beach"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("check") / "base"
    train_base_job(data=bundled_path(), out=out, label="num", group_column="dataset",
                   groups=["Cleveland"], id_column="id", n_boot=20,
                   options=TabularOptions(positive_above=0))  # fmt: skip
    return out


def test_check_data_prints_the_criteria_and_writes_them(base, tmp_path):
    out = tmp_path / "n.json"
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", VA, "--json", out)  # fmt: skip
    assert result.code == 0, result.stderr
    assert "200 patients of dataset = VA Long Beach (prevalence 0.745)" in result.stdout
    assert "LoRA adapter" in result.stdout and "calibration slope" in result.stdout
    assert "necessary, not sufficient" in result.stdout
    figures = json.loads(out.read_text())
    assert figures["n_train"] == 140 and figures["n_test"] == 60
    lora = figures["development"]["lora"]
    expected = development(parameters=lora["parameters"], prevalence=figures["prevalence"],
                           r2_cs=figures["r2_cs"])  # fmt: skip
    assert [c["n"] for c in lora["criteria"]] == [c.n for c in expected]
    head = figures["development"]["head_only"]
    assert (
        head["parameters"]
        < lora["parameters"]
        < figures["development"]["full_finetune"]["parameters"]
    )
    assert head["n"] < lora["n"] and not lora["met"]
    by_name = {c["name"]: c for c in figures["validation"]["criteria"]}
    assert set(by_name) == {"O/E", "slope", "C"}
    assert all(c["supported"] == (c["n"] <= 60) for c in by_name.values())


def test_check_data_refuses_an_unknown_group_in_one_line(base):
    result = run_cli("check-data", "--data", bundled_path(), "--base", base, "--group-column",
                     "dataset", "--group", "Mars")  # fmt: skip
    assert result.code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --group: group(s) 'Mars' not found")
