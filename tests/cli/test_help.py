"""Every command's ``--help`` reads well on an 80-column terminal: the description's
paragraphs are reflowed to the width (rich keeps a docstring's line breaks, so text wrapped at
the source's width came out with a break every few words)."""

from __future__ import annotations

import itertools

import click
import pytest
import typer

from medadapt.cli.main import _TERM, _register_commands, app, reflowed
from tests.cli.helpers import run_cli, succeeded


def _command_paths() -> list[tuple[str, ...]]:
    _register_commands()
    paths: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


def test_reflowed_joins_the_lines_of_each_paragraph_and_keeps_the_paragraphs():
    text = """First line
        goes on.

        Example: medadapt x --data a.csv
            --out b
        """
    assert reflowed(text) == "First line goes on.\n\nExample: medadapt x --data a.csv --out b"
    terms = """Protocols.

        default: the main job
            on heart data.
        flamby: the benchmark.
        """
    assert (
        reflowed(terms)
        == "Protocols.\n\ndefault: the main job on heart data.\nflamby: the benchmark."
    )


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "medadapt")
def test_the_help_has_no_line_broken_mid_paragraph_at_80_columns(path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = succeeded(run_cli(*path, "--help")).stdout
    description = out.split("╭")[0].splitlines()
    lines = [line.strip() for line in description]
    for line, after in itertools.pairwise(lines):
        if line and after and not _TERM.match(after):  # the paragraph goes on: its next word
            # did not fit (a list of terms, "flamby: ...", keeps one per line)
            fits = len(line) + 1 + len(after.split()[0]) <= 76
            assert not fits, f"{line!r} is broken before {after!r}"


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "medadapt")
def test_no_flag_or_example_is_cut_short_at_80_columns(path, monkeypatch):
    """``serve --help`` showed ``--dicomweb-token-…`` and a PACS URL cut with an ellipsis at 80
    columns: the flag could not be read. Long words fold onto the next line instead."""
    monkeypatch.setenv("COLUMNS", "80")
    out = succeeded(run_cli(*path, "--help")).stdout
    assert "…" not in out
    if path == ("serve",):
        assert "--no-decode-process" in out and "--dicomweb-token-f" in out


def test_the_federated_simulation_s_help_example_is_the_readme_s():
    """The ``--help`` example lacked ``--missing-code chol=0,trestbps=0`` that the README's
    same command passes (the heart data's zeros that mean "not measured")."""
    from pathlib import Path

    _register_commands()
    command = typer.main.get_command(app).commands["federate"].commands["simulate"]
    example = " ".join(command.help.split("Example: ")[1].split())
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("medadapt federate simulate --data heart.csv")
    said = " ".join(readme[start : readme.index("\n\n", start)].replace("\\\n", " ").split())
    assert example == said


def test_the_train_base_help_example_is_the_readme_s_heart_command():
    """A trial followed the ``--help`` example, which lacked the README's ``--missing-code
    chol=0,trestbps=0``: every later example then warned "retrain the base with
    --missing-code chol=0"."""
    from pathlib import Path

    _register_commands()
    command = typer.main.get_command(app).commands["train-base"]
    example = " ".join(command.help.split("Example: ")[1].split("\n\n")[0].split())
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    start = readme.index("`medadapt train-base --data heart.csv") + 1
    assert example == readme[start : readme.index("`", start)]


def test_the_simulation_s_epochs_say_whose_they_are_beside_local_epochs():
    """``federate simulate --epochs`` trains the base made here (--base-groups) and
    ``--local-epochs`` each site per round: its help had train-base's words, saying neither."""
    _register_commands()
    command = typer.main.get_command(app).commands["federate"].commands["simulate"]
    helps = {param.name: param.help for param in command.params}
    assert helps["epochs"].startswith("Most epochs to train the base trained here (--base-groups")
    assert helps["epochs"].endswith("Each site's epochs per round: --local-epochs.")
    assert helps["local_epochs"] == "Epochs each site trains per round."
    train_base = typer.main.get_command(app).commands["train-base"]
    assert "--local-epochs" not in {p.name: p.help for p in train_base.params}["epochs"]


def test_the_learning_rate_s_help_gives_the_defaults_that_train():
    """``--lr``'s help gave no default (a trial had to read the source): it names the image
    training settings' own rates, for a base, an adapter and a full fine-tune."""
    from medadapt.modalities import modality_of

    _register_commands()
    adapt = typer.main.get_command(app).commands["adapt"]
    defaults = modality_of("image").defaults
    assert {p.name: p.help for p in adapt.params}["lr"] == (
        f"Images: learning rate (default: {defaults.base['lr']:g} for train-base, "
        f"{defaults.adapter['lr']:g} for an adapter, {defaults.full['lr']:g} for --method full; "
        "a table's is fixed)."
    )
    assert (defaults.base["lr"], defaults.adapter["lr"], defaults.full["lr"]) == (1e-3, 3e-3, 3e-4)
