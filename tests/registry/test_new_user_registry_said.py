"""From a new user's trial of the registry's commands: an image base's groups counted in
images, an unknown name given a did-you-mean wherever it is refused, an adapter given to
``add-base`` told the ``add`` that registers it, and the audit log's time never cut."""

from __future__ import annotations

import json
import re

import pytest

from tests.registry.helpers import make_base

LIST = "(see the names with 'medadapt registry --root {root} list')"


def test_bases_counts_an_image_base_s_groups_in_images(cli, tmp_path):
    """'groups=A (96 rows)' for an image base: its samples are images, as 'show' counts them."""
    cli("add-base", str(make_base(tmp_path / "base")))
    (copy,) = (cli.root / "bases").iterdir()
    manifest = json.loads((copy / "model.json").read_text())
    assert cli("bases")[0].rstrip().endswith("label=y  groups=all")  # a table's: no groups
    manifest["training"] = {**(manifest.get("training") or {}), "groups": {"A": 96, "B": 1}}
    (copy / "model.json").write_text(json.dumps(manifest))  # a table's count: in rows
    assert cli("bases")[0].rstrip().endswith("groups=A (96 rows), B (1 row)")
    manifest["kind"] = "image"  # as an image base's model.json records it
    (copy / "model.json").write_text(json.dumps(manifest))
    assert cli("bases")[0].rstrip().endswith("groups=A (96 images), B (1 image)")


@pytest.mark.parametrize(
    "args",
    [("promote", "site_c@1"), ("show", "site_c"), ("rm", "site_c@1"),
     ("export", "site_c", "--out", "{tmp}/x.tar.gz"), ("diff", "site_c@1", "site_b@1")],
    ids=["promote", "show", "rm", "export", "diff"],
)  # fmt: skip
def test_an_unknown_name_is_offered_the_name_spelt_like_it(cli, adapter_dir, tmp_path, args):
    """'no adapter named 'site_c' in registry reg; see the names with ...' where serve says
    "did you mean 'site_b'?"."""
    cli("add", str(adapter_dir(1)), "--name", "site_b")
    _, err = cli(*(a.format(tmp=tmp_path) for a in args), ok=False)
    assert err == (
        f"error: no adapter named 'site_c' in registry {cli.root}; did you mean 'site_b'? "
        f"{LIST.format(root=cli.root)}\n"
    )
    _, err = cli("show", "pneumonia", ok=False)  # like no name: as before
    assert err == (
        f"error: no adapter named 'pneumonia' in registry {cli.root}; see the names with "
        f"'medadapt registry --root {cli.root} list'\n"
    )


@pytest.mark.parametrize("command", ["list", "log", "promote --clear"])
def test_a_name_command_s_unknown_name_is_offered_the_name_spelt_like_it(cli, adapter_dir, command):
    cli("add", str(adapter_dir(1)), "--name", "site_b")
    _, err = cli(*command.split(), "Site_B", ok=False)
    assert err == (
        f"error: no adapter named 'Site_B' in {cli.root}; did you mean 'site_b'? (its names: "
        "site_b)\n"
    )


def test_add_base_of_an_adapter_gives_the_add_that_registers_it(cli, adapter_dir, tmp_path):
    """'no model.json in site_b: give a directory written by 'medadapt train-base'' for an
    'adapt' output: said as 'add' says a base given to it."""
    adapter = adapter_dir(1)
    for given in (adapter, adapter.parent):  # the adapter's folder, or the 'adapt' output
        _, err = cli("add-base", str(given), ok=False)
        assert err == (
            f"error: {given} is an adapter (written by 'medadapt adapt'), not a base model; "
            f"register it with 'medadapt registry --root {cli.root} add {given}'\n"
        )
    empty = tmp_path / "empty"
    empty.mkdir()
    _, err = cli("add-base", str(empty), ok=False)  # neither: as before
    assert err == (
        f"error: no model.json in {empty}: give a directory written by 'medadapt train-base'\n"
    )


def test_the_log_never_cuts_its_time_at_80_columns(cli, adapter_dir, monkeypatch):
    """'2026-12-04T03:1…' at 80 columns: the time is shown whole, to the second, in UTC."""
    monkeypatch.setenv("COLUMNS", "80")
    cli("add", str(adapter_dir(1)), "--name", "a_rather_long_adapter_name_for_a_site")
    cli("promote", "a_rather_long_adapter_name_for_a_site@1")
    out, _ = cli("log")
    events = json.loads(cli("log", "--json")[0])
    lines = out.splitlines()
    assert max(map(len, lines)) <= 80
    assert "when (UTC)" in lines[2]
    shown = [line.split("│")[1].strip() for line in lines if line.startswith("│ 20")]
    assert shown == [e["at"].replace("T", " ").removesuffix("+00:00") for e in events]
    assert all(len(time) == len("2026-12-04 03:22:07") for time in shown)
    assert "…" not in out  # the other columns fold, whole


def test_the_log_says_each_event_s_detail_in_words(cli, adapter_dir, tmp_path, monkeypatch):
    """A trial read the log's detail column as JSON (``{"parent": null}``, ``{"archive_sha256":
    "9f2c...", "from": "va@2", "parent": 1}``); ``--json`` keeps the recorded keys."""
    monkeypatch.setenv("COLUMNS", "200")
    cli("add", str(adapter_dir(1)), "--name", "va")
    cli("add", str(adapter_dir(2)), "--name", "va")
    cli("promote", "va@1")
    cli("promote", "va@2")
    archive = tmp_path / "va.tar"
    cli("export", "va@2", "-o", str(archive))
    other = ["--bare", "registry", "--root", str(tmp_path / "other")]
    cli(*other, "import", str(archive))
    cli("rm", "va@1")

    def details(*prefix: str) -> dict[str, str]:
        out, _ = cli(*prefix, "log")
        rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()
                if line.startswith("│ 20")]  # fmt: skip
        return {f"{row[2]} {row[3]}": row[4] for row in rows}

    logged = {e["action"]: e["detail"] for e in json.loads(cli("log", "--json")[0])}
    sha, manifest = logged["export"]["sha256"], logged["remove"]["manifest_blob"]
    assert details() == {
        "remove va@1": f"manifest {manifest[:12]}",
        "export va@2": f"to {archive}; archive {sha[:12]}",
        "promote va@2": "was serving version 1",
        "promote va@1": "nothing was served before",
        "add va@2": "parent version 1",
        "add va@1": "",
    }
    assert details(*other) == {"import va@1": f"from va@2 in archive {sha[:12]}"}
    assert '"' not in cli("log")[0]  # no JSON left


def test_list_says_a_federated_figure_is_a_mean_over_the_sites_that_had_it(cli, adapter_dir,
                                                                          monkeypatch):  # fmt: skip
    """A trial's ``list`` read "AUROC 0.775 on 116 rows (!)" for the unweighted mean of two
    sites' AUROCs (79 patients); the third site's 37 had none."""
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    sites = {"Switzerland": {"n_train": 86, "n_test": 37}, "VA Long Beach": {"n_train": 140,
             "n_test": 60}, "Hungary": {"n_train": 274, "n_test": 19}}  # fmt: skip
    metrics = {"auroc": 0.775, "auroc_sites": 2, "accuracy": 0.8, "accuracy_sites": 3,
               "notes": {"auroc": "over 2 of 3 sites only (none at Switzerland)"}}  # fmt: skip
    summary = {"n_train": 500, "n_test": 116, "sites": sites, "federated": True}
    cli("add", str(adapter_dir(1, meta=metadata(metrics=metrics, data_summary=summary))),
        "--name", "fed")  # fmt: skip
    metrics = {**metrics, "auroc_sites": 3, "notes": {}}
    cli("add", str(adapter_dir(2, meta=metadata(metrics=metrics, data_summary=summary))),
        "--name", "every")  # fmt: skip
    listed, _ = cli("list")
    assert "mean AUROC 0.775 over 2 of 3 sites (!)" in listed
    assert re.search(r"mean AUROC 0\.775 over 3 sites +│", listed)
    assert "116" not in re.sub(r"pytest-\d+", "", listed)  # its root's path aside (pytest-116)
