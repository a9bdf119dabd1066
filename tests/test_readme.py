"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_shows_the_two_setup_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_readme_python_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 4
    assert len(blocks[0].strip().splitlines()) <= 16  # short enough to read at a glance
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "AUROC with the adapter" in out
    assert re.search(r"\(95% CI \d\.\d\d-\d\.\d\d\) on \d+ test patients", out)
    assert "the adapter vs the base model: AUROC " in out  # the paired difference, in words
    assert (tmp_path / "adapters" / "va" / "adapter.safetensors").is_file()


def test_readme_adapter_engine_example_runs_and_peft_reproduces_it(tmp_path, monkeypatch,
                                                                    capsys):  # fmt: skip
    """The adapter engine's block: mixed adapters in one pass, exported to PEFT and read back
    by PEFT with medadapt's outputs (a trial found no example of this in the README)."""
    [block] = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
               if "export_peft" in b]  # fmt: skip
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    assert float(capsys.readouterr().out.strip()) <= 1e-5
    assert (tmp_path / "peft_site_a" / "adapter_config.json").is_file()


def test_readme_image_example_runs_and_its_files_serve_the_command_line(tmp_path, monkeypatch,
                                                                       capsys):  # fmt: skip
    """The image API's block (a trial found no runnable image example in Python): trained,
    adapted, scored with an interval, saved; the saved pair then predicts from the command
    line."""
    [block] = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
               if "from medadapt import images" in b]  # fmt: skip
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert re.search(r"^macro AUROC \d\.\d\d \(95% CI \d\.\d\d-\d\.\d\d\) on \d+ test images", out)
    from tests.cli.helpers import run_cli, succeeded

    said = succeeded(run_cli("predict", "--base", tmp_path / "image_base", "--adapter",
                             tmp_path / "adapters" / "site_b", "--data", tmp_path / "cases.csv",
                             "--out", tmp_path / "p.csv"))  # fmt: skip
    assert "wrote 150 predictions" in " ".join(said.stdout.split())


def test_readme_sample_size_example_prints_what_its_comment_says(capsys):
    """The "How much data is enough?" Python block: the numbers in its comment are printed."""
    [block] = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
               if "sample_size" in b]  # fmt: skip
    exec(compile(block, "README.md", "exec"), {})
    said = capsys.readouterr().out
    comment = re.search(r"print\(need\)  # (.*?) \.\.\.", block).group(1)
    assert said.startswith(comment)


def test_readme_says_how_to_write_heart_csv_before_its_first_use(tmp_path):
    """A new user's ``--data heart.csv`` was refused: the README never said how to get it."""
    import shlex
    import subprocess
    import sys

    from medadapt.data.heart import bundled_path
    from medadapt.data.tables import read_table

    text = README.read_text()
    command = 'python -c "import shutil, medadapt.data.heart as h; shutil.copy(h.bundled_path(), '
    command += "'heart.csv')\""
    assert text.index(command) < text.index("--data heart.csv")
    subprocess.run([sys.executable, *shlex.split(command)[1:]], cwd=tmp_path, check=True)
    written = tmp_path / "heart.csv"
    assert written.read_bytes() == Path(bundled_path()).read_bytes()
    assert read_table(written).equals(read_table(bundled_path()))  # missing values too


def test_readme_gives_the_c_statistic_that_check_data_and_study_assume():
    """A trial's study report said "C (assumed 0.75)" where the README said 0.7 only; the
    study now assumes check-data's 0.7 and the README says so."""
    from medadapt.evaluate.samplesize_outcomes import CAUTIOUS_C

    text = " ".join(README.read_text().split())
    assert (
        f"the validation criteria assume a C-statistic of {CAUTIOUS_C:g} (or the source's" in text
    )
    assert (
        f"the same cautious C-statistic of {CAUTIOUS_C:g} `check-data` assumes where a trained "
        f'base gives no AUROC at the site (its report\'s "C (assumed {CAUTIOUS_C:g})")' in text
    )


def test_a_missing_heart_csv_says_how_to_write_it_as_the_readme_does(tmp_path, monkeypatch):
    """A trial: `--data heart.csv` from the README's examples said only "does not exist"."""
    from medadapt.cli.inputs import EXAMPLE_COMMAND
    from tests.cli.helpers import run_cli

    monkeypatch.chdir(tmp_path)
    said = run_cli("train-base", "--data", "heart.csv", "--label", "num", "--out", "b")
    assert said.code == 2 and said.stderr.strip() == (
        "error: --data heart.csv does not exist; check the path (the README's example data: "
        f"write it here with {EXAMPLE_COMMAND})"
    )
    assert EXAMPLE_COMMAND in (Path(__file__).parent.parent / "README.md").read_text()


def test_every_images_function_the_readme_names_exists():
    """The README named ``images.evaluate_job``, which ``medadapt.images`` does not have."""
    from medadapt import images

    named = set(re.findall(r"`images\.(\w+)`", README.read_text()))
    assert named and not [name for name in sorted(named) if not hasattr(images, name)]


def test_readme_says_how_to_write_the_image_example_s_files(tmp_path):
    """A new user's first image command was refused: "--data old.npz does not exist", and
    the README never said how to get old.npz, new.npz or cases.csv."""
    import shlex
    import subprocess
    import sys

    import numpy as np
    import pandas as pd

    text = README.read_text()
    command = "python -c \"import medadapt.data.demo_images as d; d.write_demo('.')\""
    assert text.index(command) < text.index("--data old.npz")
    subprocess.run([sys.executable, *shlex.split(command)[1:]], cwd=tmp_path, check=True)
    old = np.load(tmp_path / "old.npz")
    assert sorted(set(old["train_labels"].ravel())) == [0, 1, 2]  # normal, nodule, mass
    assert len(old["train_labels"]) == 120  # a few dozen train the base (the rest test it)
    assert 3 in set(np.load(tmp_path / "new.npz")["train_labels"].ravel())  # cavity
    cases = pd.read_csv(tmp_path / "cases.csv")
    assert set(cases["site"]) == {"A", "B"} and set(cases["label"]) == {"normal", "nodule", "mass"}
    assert all((tmp_path / path).is_file() for path in cases["path"])
