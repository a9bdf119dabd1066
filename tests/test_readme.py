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
    assert len(blocks) == 2
    assert len(blocks[0].strip().splitlines()) <= 16  # short enough to read at a glance
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "AUROC with the adapter" in out
    assert re.search(r"\(95% CI \d\.\d\d-\d\.\d\d\) on \d+ test patients", out)
    assert "the adapter vs the base model: AUROC " in out  # the paired difference, in words
    assert (tmp_path / "adapters" / "va" / "adapter.safetensors").is_file()


def test_readme_sample_size_example_prints_what_its_comment_says(capsys):
    """The "How much data is enough?" Python block: the numbers in its comment are printed."""
    [block] = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
               if "sample_size" in b]  # fmt: skip
    exec(compile(block, "README.md", "exec"), {})
    said = capsys.readouterr().out
    comment = re.search(r"print\(need\)  # (.*?) \.\.\.", block).group(1)
    assert said.startswith(comment)
