"""The README's heart ``evaluate`` and ``predict`` commands run as written, on the bad-input
workspace's base and VA adapter (a trial found no heart example of either)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd

from tests.cli.helpers import run_cli, succeeded

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_commands() -> list[list[str]]:
    """The bash block that checks the VA adapter, each command split as a shell would."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    [block] = [b for b in blocks if "medadapt evaluate --base base --adapter va" in b]
    return [shlex.split(line) for line in block.replace("\\\n", " ").splitlines()]


def test_the_readme_s_heart_evaluate_and_predict_run_as_written(workspace, tmp_path,
                                                                monkeypatch):  # fmt: skip
    """Its three lines as written (a trial found no step that made ``new_patients.csv``)."""
    import shutil
    import subprocess
    import sys

    _, paths = workspace
    shutil.copy(paths["heart"], tmp_path / "heart.csv")
    monkeypatch.chdir(tmp_path)
    named = {"base": paths["base"], "va": paths["adapter"]}
    evaluate, make_new, predict = _readme_commands()
    assert evaluate[0] == predict[0] == "medadapt" and make_new[:2] == ["python", "-c"]
    said = succeeded(run_cli(*[named.get(word, word) for word in evaluate[1:]])).stdout
    assert "60 rows (dataset = VA Long Beach, minus 140 rows that match rows the" in said
    assert (tmp_path / "va.html").stat().st_size > 0
    subprocess.run([sys.executable, *make_new[1:]], check=True)
    succeeded(run_cli(*[named.get(word, word) for word in predict[1:]]))
    written = pd.read_csv(tmp_path / "predictions.csv")
    assert list(written.columns) == ["id", "p_1", "predicted", "outside_training",
                                     "missing_features", "trained_on", "model"]  # fmt: skip
    from medadapt.workflows.model_identity import model_identity

    said = model_identity(named["base"], named["va"]).described()  # which model, every row
    assert said.startswith("adapter ") and set(written["model"]) == {said}
    heart = pd.read_csv(tmp_path / "heart.csv")
    assert written["id"].tolist() == heart[heart["dataset"] == "Switzerland"]["id"].head(5).tolist()


def test_a_method_named_as_the_readme_writes_it_is_that_method(workspace, tmp_path):
    """A trial's ``--method loRA`` was refused ("did you mean 'lora'?"), where the Python
    API takes any case; ``LoRA`` is how the README names the method."""
    import json

    _, paths = workspace
    succeeded(run_cli("adapt", "--base", paths["base"], "--data", paths["heart"], "--label",
                      "num", "--group-column", "dataset", "--group", "Switzerland", "--method",
                      "LoRA", "--out", tmp_path / "ch"))  # fmt: skip
    assert json.loads((tmp_path / "ch" / "adapter.json").read_text())["method"] == "lora"
