"""``medadapt export-peft``: a LoRA or DoRA adapter trained on the command line, taken to
PEFT without writing Python (a trial had to), with medadapt's outputs."""

from __future__ import annotations

import pandas as pd
import pytest

import medadapt as ma
from medadapt.data.heart import bundled_path
from tests.cli.helpers import error_line, run_cli, succeeded
from tests.cli.workspace import QUICK_TABLE, VA


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("export_peft")
    common = ["--data", bundled_path(), "--label", "num", "--positive-above", "0",
              "--id-column", "id", "--group-column", "dataset"]  # fmt: skip
    succeeded(run_cli("train-base", *common, "--groups", "Cleveland,Hungary", *QUICK_TABLE,
                      "--out", root / "base"))  # fmt: skip
    for method in ("lora", "dora", "bottleneck"):
        succeeded(run_cli("adapt", "--base", root / "base", *common[:2], "--group-column",
                          "dataset", "--group", VA, "--method", method, "--out",
                          root / method))  # fmt: skip
    return root


@pytest.mark.parametrize("method", ["lora", "dora"])
def test_an_exported_adapter_gives_medadapt_s_outputs_in_peft(trained, method, tmp_path):
    from peft import PeftModel

    said = succeeded(run_cli("export-peft", "--base", trained / "base", "--adapter",
                             trained / method, "--out", tmp_path / "peft"))  # fmt: skip
    kind = "DoRA" if method == "dora" else "LoRA"
    wrote = [line for line in said.stdout.splitlines() if not line.startswith("warning: ")]
    assert wrote[0].startswith(  # after the adapter's recorded cautions, if any
        f"wrote {tmp_path / 'peft'}: adapter 'va_long_beach_{method}' as a PEFT {kind} adapter"
    )
    base = ma.BaseModel.load(trained / "base")
    rows = pd.read_csv(bundled_path()).query("dataset == @VA")
    model = ma.AdapterModel(base.model)
    name = model.load_adapter(trained / method)
    ours = ma.predict(model, base.schema, rows, adapter=name)
    wrapped = PeftModel.from_pretrained(ma.BaseModel.load(trained / "base").model,
                                        str(tmp_path / "peft"))  # fmt: skip
    theirs = ma.predict(wrapped.get_base_model(), base.schema, rows)
    assert abs(ours - theirs).max() <= 1e-5
    assert abs(ours - ma.predict(base.model, base.schema, rows)).max() > 1e-4  # it adapts


def test_an_export_is_refused_in_one_line_before_anything_is_written(trained, tmp_path):
    export = ["export-peft", "--base", trained / "base"]
    assert error_line(
        run_cli(*export, "--adapter", trained / "bottleneck", "--out", tmp_path / "b")
    ) == (
        f"error: --adapter {trained / 'bottleneck'} is a bottleneck adapter "
        "('va_long_beach_bottleneck'); only LoRA and DoRA adapters can be exported to PEFT "
        "(PEFT has no bottleneck adapters; ia3 and head exports are not implemented): train "
        "one with 'medadapt adapt ... --method lora' (or dora) and export that"
    )
    assert not (tmp_path / "b").exists()
    succeeded(run_cli(*export, "--adapter", trained / "lora", "--out", tmp_path / "p"))
    assert error_line(run_cli(*export, "--adapter", trained / "lora", "--out", tmp_path / "p")) == (
        f"error: --out {tmp_path / 'p'} already holds a PEFT adapter; choose a new directory, "
        "or pass --force to replace it"
    )
    succeeded(run_cli(*export, "--adapter", trained / "lora", "--out", tmp_path / "p", "--force"))
    assert error_line(
        run_cli(*export, "--adapter", trained / "lora", "--out", trained / "dora", "--force")
    ).endswith(
        "holds an adapter (adapter.json), which writing this output into it would break, even "
        "with --force; choose a new directory"
    )
    assert error_line(
        run_cli(*export, "--adapter", tmp_path / "none", "--out", tmp_path / "q")
    ) == (f"error: --adapter {tmp_path / 'none'} does not exist; check the path (an adapter "
          "is the folder 'medadapt adapt --out' wrote, not the name it printed)")  # fmt: skip


def test_an_export_repeats_the_adapter_s_recorded_cautions(trained, tmp_path):
    """A trial exported an adapter worse than its base, which `registry promote` refused,
    without a word; the export now repeats the recorded cautions, as predict does."""
    import json
    import shutil

    from medadapt.adapters.state import _manifest_digest

    shutil.copytree(trained / "lora", tmp_path / "worse")
    path = tmp_path / "worse" / "adapter.json"
    manifest = json.loads(path.read_text())
    worse = "Paired on the same patients, the adapter ranks patients by risk worse."
    manifest["metadata"]["metrics"].setdefault("notes", {})["worse_than_base"] = worse
    manifest["manifest_sha256"] = _manifest_digest(manifest)  # as one recorded so
    path.write_text(json.dumps(manifest))
    said = succeeded(run_cli("export-peft", "--base", trained / "base", "--adapter",
                             tmp_path / "worse", "--out", tmp_path / "peft"))  # fmt: skip
    assert (
        f"warning: the recorded test result of adapter 'va_long_beach_lora': {worse}"
        in said.stdout.splitlines()
    )
    assert (tmp_path / "peft" / "adapter_config.json").is_file()  # exported all the same


def test_the_readme_s_export_runs_as_written(trained, tmp_path, monkeypatch):
    """A trial ran the README's export on the README's own adapter, a bottleneck one, and
    was refused: its example now adapts with --method lora first, and both lines run."""
    import re
    import shlex
    import shutil
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    [block] = [b for b in blocks if "medadapt export-peft" in b]
    adapt, export = [shlex.split(line) for line in block.replace("\\\n", " ").splitlines()]
    shutil.copy(bundled_path(), tmp_path / "heart.csv")
    monkeypatch.chdir(tmp_path)
    named = {"base": str(trained / "base")}
    assert adapt[:2] == ["medadapt", "adapt"] and export[:2] == ["medadapt", "export-peft"]
    succeeded(run_cli(*[named.get(word, word) for word in adapt[1:]]))
    said = succeeded(run_cli(*[named.get(word, word) for word in export[1:]]))
    assert "as a PEFT LoRA adapter" in said.stdout
    assert (tmp_path / "va-peft" / "adapter_config.json").is_file()
