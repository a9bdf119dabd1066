"""``medadapt registry ...``: the command line over the registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from medadapt.cli.main import main
from medadapt.fileio import record_sha256
from medadapt.registry import Registry
from medadapt.results import ADAPTED_READING

COMMANDS = ["add", "list", "show", "card", "diff", "promote", "export", "import", "rm", "verify",
            "gc"]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(cli, command):
    out, _ = cli("--bare", "registry", command, "--help")
    assert "Example: medadapt registry --root hospital-registry" in " ".join(out.split())
    # the arguments are explained in the text (Typer on Click 8.5 drops an Argument's help)
    arguments = {"add": "ADAPTER_DIR (an 'adapt' output directory)", "import": "Verify ARCHIVE",
                 "show": "REF: NAME, NAME@N", "card": "REF: NAME, NAME@N",
                 "diff": "(A and B, e.g."}  # fmt: skip
    assert arguments.get(command, "") in " ".join(out.split())


def test_add_list_show_promote_round_trip(cli, adapter_dir):
    out, _ = cli("add", str(adapter_dir(1)), "--name", "heart")
    assert out.splitlines()[0] == "added heart@1 (lora, no parent, 520 B of weights)"
    out, _ = cli("add", str(adapter_dir(2)), "--name", "heart")
    assert out.startswith("added heart@2 (lora, parent heart@1, ")
    out, _ = cli("add", str(adapter_dir(2)), "--name", "heart")
    weights = Registry(cli.root).get("heart@2").base_fingerprint["weights"][:12]
    no_base = (
        f"the registry at {cli.root} has no base model with weights {weights}; add it with "
        f"'medadapt registry --root {cli.root} add-base BASE_DIR'"
        " (or import the adapter's archive exported with --with-base)"
    )
    assert out == (
        "heart@2 already holds this exact adapter; nothing added\n"
        f"note: heart@2 cannot be served yet: {no_base}\n"
    )
    out, _ = cli("promote", "heart@1")
    assert out == (  # promoted to be served, which no server can: a warning (a trial's note)
        "promoted heart@1: it is now the version of heart to serve\n"
        f"warning: heart@1 cannot be served yet: {no_base}\n"
    )
    listed = json.loads(cli("list", "--json")[0])
    assert [(v["ref"], v["promoted"]) for v in listed] == [("heart@1", True), ("heart@2", False)]
    assert "card" not in listed[0]
    shown = json.loads(cli("show", "heart", "--json")[0])
    assert shown["ref"] == "heart@1" and shown["metrics"]["auroc_ci"] == [0.72, 0.89]
    out, _ = cli("list")
    assert "heart@1" in out and "heart@2" in out and "VA Long" in out
    out, _ = cli("show", "heart@2")
    assert "metric: AUROC" in out and "0.810 (0.720–0.890)" in out
    shown = {
        line.split("│")[1].strip(): line.split("│")[2].strip() for line in out.splitlines()[3:-1]
    }
    assert (shown["method"], shown["config: r"], shown["config: targets"]) == (
        "lora",
        "2",
        '[{"suffix": "0"}, {"suffix": "2"}]',
    )
    out, _ = cli("show", "heart@2", "--card")
    assert out.startswith("# heart@2\n")
    assert cli("card", "heart@2")[0] == out  # the README's "card", as a command of its own
    out, _ = cli("promote", "heart", "--clear")
    assert out == "heart is no longer served (was heart@1)\n"


def test_diff_as_table_and_json(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    cli("add", str(adapter_dir(2, r=3)), "--name", "heart")
    data = json.loads(cli("diff", "heart@1", "heart@2", "--json")[0])
    assert data["config"] == [{"key": "r", "a": 2, "b": 3}]
    out, _ = cli("diff", "heart@1", "heart@2")
    assert "config: r" in out and "CIs overlap" in out
    assert (
        "overlapping CIs for AUROC: these intervals cannot tell heart@1 and heart@2 apart; "
        "overlap is not evidence that they perform the same" in out.splitlines()
    )


def test_a_name_whose_versions_were_all_removed_is_said_removed_not_unknown(cli, adapter_dir):
    """After ``rm NAME --all``, ``show NAME@1`` said "no adapter named" as of a name never
    registered; the log records the removals, so they are said, with when and where to look."""
    import datetime as dt

    cli("add", str(adapter_dir(1)), "--name", "ch")
    cli("add", str(adapter_dir(2)), "--name", "ch")
    cli("rm", "ch", "--all")
    removals = [e for e in Registry(cli.root).history("ch") if e.action == "remove"]
    assert sorted(e.version for e in removals) == [1, 2]
    at = max(e.at for e in removals)
    when = dt.datetime.fromisoformat(at).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    history = f"see its history with 'medadapt registry --root {cli.root} log ch'"
    for command, said in (
        (("show", "ch@1"), f"ch has no version 1 (it was removed on {when}; no version is "
                           f"registered); {history}"),
        (("show", "ch"), f"every version of ch was removed (the last on {when}); {history}"),
        (("list", "ch"), f"every version of ch was removed (the last on {when}); {history}"),
        (("promote", "ch", "--clear"), f"every version of ch was removed (the last on {when}); "
                                       f"{history}"),
        (("show", "nope"), f"no adapter named 'nope' in registry {cli.root}; see the names "
                           f"with 'medadapt registry --root {cli.root} list'"),
    ):  # fmt: skip
        _, err = cli(*command, ok=False)
        assert err == f"error: {said}\n", command
    out, _ = cli("log", "ch")
    assert out.count("remove") == 2
    cli("add", str(adapter_dir(3)), "--name", "ch")  # the name is free again: version 3
    out, _ = cli("show", "ch")
    assert "ch@3" in out


def test_show_of_a_removed_version_says_when_and_lists_the_registered_ones(cli, adapter_dir):
    import datetime as dt

    cli("add", str(adapter_dir(1)), "--name", "ch")
    cli("add", str(adapter_dir(2)), "--name", "ch")
    cli("rm", "ch@1")
    (at,) = [e.at for e in Registry(cli.root).history("ch") if e.action == "remove"]
    when = dt.datetime.fromisoformat(at).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    _, err = cli("show", "ch@1", ok=False)
    assert err == (
        f"error: ch has no version 1 (it was removed on {when}; registered versions: 2); use "
        "one of those, e.g. ch@2\n"
    )


def test_diff_shows_a_change_in_counts_as_an_integer(cli, adapter_dir, monkeypatch):
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")  # no wrapped cells
    first = {"auroc": 0.81, "auroc_ci": [0.72, 0.89], "n": 200, "n_positive": 60}
    second = {"auroc": 0.95, "auroc_ci": [0.91, 0.98], "n": 200, "n_positive": 63}
    cli("add", str(adapter_dir(1, meta=metadata(metrics=first))), "--name", "heart")
    cli("add", str(adapter_dir(2, meta=metadata(metrics=second))), "--name", "heart")
    out, _ = cli("diff", "heart@1", "heart@2")
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()]
    assert [r for r in rows if r and r[0] in ("AUROC", "test rows", "positive test rows")] == [
        ["AUROC", "0.810 (0.720–0.890)", "0.950 (0.910–0.980)", "+0.140", "no"],
        ["test rows", "200", "200", "+0", "-"],
        ["positive test rows", "60", "63", "+3", "-"],
    ]
    assert "overlapping CIs" not in out  # no interval overlaps: no such line
    metrics = json.loads(cli("diff", "heart@1", "heart@2", "--json")[0])["metrics"]
    assert [(m["name"], m["delta"]) for m in metrics][1:] == [("n", 0), ("n_positive", 3)]


def test_diff_names_fields_as_show_does_never_by_recorded_keys(cli, adapter_dir, monkeypatch):
    """The diff's data rows read "data.sample_size.r2_cs", "data.train_class_counts.0" and
    an ungrouped "30642"; they read as ``show`` prints them."""
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")  # no wrapped cells
    summaries = [{"n_train": 1400, "train_class_counts": {"0": 360, "1": 1040},
                  "sample_size": SAMPLE_SIZE},
                 {"n_train": 700, "train_class_counts": {"0": 180, "1": 520},
                  "sample_size": {**SAMPLE_SIZE, "n_needed": 30642}}]  # fmt: skip
    for version, summary in enumerate(summaries, 1):
        meta = metadata(data_summary=summary)
        cli("add", str(adapter_dir(version, r=version + 1, meta=meta)), "--name", "heart")
    out, _ = cli("diff", "heart@1", "heart@2")
    rows = {r[0]: r[1:] for r in ([c.strip() for c in line.split("│")[1:-1]]
                                  for line in out.splitlines()) if r}  # fmt: skip
    assert rows["parent"] == ["none", "heart@1"] and rows["config: r"] == ["2", "3"]
    assert rows["data: training rows"] == ["1,400", "700"]
    assert rows["data: training rows per class"] == ["0: 360, 1: 1,040", "0: 180, 1: 520"]
    assert "30,642 rows" in rows["data: sample size"][1]
    assert "config: method" not in rows and not any(k.startswith("data.") for k in rows)


SAMPLE_SIZE = {
    "parameters": 8577,
    "task": "binary",
    "outcome": "prevalence 0.935",
    "r2": 0.0531,
    "r2_label": "Cox-Snell R-squared",
    "r2_source": "from the base model's AUROC at this site, on 123 samples it never saw (0.752)",
    "prevalence": 0.935,
    "r2_cs": 0.0531,
    "criterion": "i",
    "n_needed": 1409849,
    "n_train": 86,
    "met": False,
    "test_supports": {"O/E": True, "slope": False, "C": False},
    "test_needs": {"O/E": 27, "slope": 1881, "C": 1480},
    "source": "Riley et al. Stat Med 2019;38:1276-96 (development)",
}


def test_show_prints_nested_summaries_in_words(cli, adapter_dir, monkeypatch):
    from tests.registry.helpers import DATA_SUMMARY, metadata

    monkeypatch.setenv("COLUMNS", "500")  # no wrapped cells (the sample-size reading is long)
    summary = {
        **DATA_SUMMARY,
        "train_class_counts": {"0": 6, "1": 80},
        "sample_size": SAMPLE_SIZE,
    }
    cli("add", str(adapter_dir(1, meta=metadata(data_summary=summary))), "--name", "heart")
    out, _ = cli("show", "heart@1")
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()]
    assert [r for r in rows if r and r[0].startswith("data: ")] == [
        ["data: training rows", "120"],
        ["data: positive training rows", "80"],
        ["data: training prevalence", "0.67"],
        ["data: training rows per class", "0: 6, 1: 80"],
        ["data: group", "VA Long Beach"],
        ["data: group column", "dataset"],
        [
            "data: sample size",
            "its 8,577 parameters would need a million or more rows (criterion i); 86 rows "
            f"trained it: not met; {ADAPTED_READING}",
        ],
        [
            "data: sample size basis",
            "Cox-Snell R-squared 0.053, from the base model's AUROC at this site, on 123 "
            "samples it never saw (0.752); in the adapter's training and test rows together, "
            "outcome prevalence 0.935",
        ],
        [
            "data: sample size test",
            "test rows for a precise observed/expected ratio: 27 (enough here); calibration "
            "slope: 1,881 (too few here); C-statistic: 1,480 (too few here)",
        ],
        ["data: sample size source", "Riley et al. Stat Med 2019;38:1276-96 (development)"],
    ]
    card, _ = cli("show", "heart@1", "--card")  # the card words it too (in rows, as adapt did)
    assert (
        "| sample size | its 8,577 parameters would need a million or more rows (criterion i); "
        f"86 rows trained it: not met; {ADAPTED_READING} |"
    ) in card.splitlines()
    assert '"n_needed"' not in card


def test_export_to_a_tar_as_the_readme_shows(cli, adapter_dir, tmp_path):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    out, _ = cli("export", "heart@1", "-o", str(tmp_path / "site.tar"))
    assert out.splitlines()[0] == f"exported heart@1 to {tmp_path / 'site.tar'}"
    head = (tmp_path / "site.tar").read_bytes()[:512]
    assert head[257:262] == b"ustar" and not head.startswith(b"\x1f\x8b")  # not gzip
    other = ["--bare", "registry", "--root", str(tmp_path / "other")]
    out, _ = cli(*other, "import", str(tmp_path / "site.tar"))
    assert out.startswith("imported heart@1 (exported as heart@1); every checksum verified\n")
    _, err = cli("export", "heart@1", "-o", str(tmp_path / "site.zip"), ok=False)
    assert err == (
        f"error: -o {tmp_path / 'site.zip'}: end the archive's name in .tar.gz or .tgz "
        "(gzip-compressed) or .tar (uncompressed), or give a directory ending in '/'\n"
    )


def test_export_then_import_elsewhere(cli, adapter_dir, tmp_path):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    out, _ = cli("export", "heart@1", "-o", str(tmp_path))
    lines = out.splitlines()
    archive = tmp_path / "heart-v1.medadapt.tar.gz"
    assert lines[0] == f"exported heart@1 to {archive}"
    sha = lines[1].removeprefix("sha256 ")
    other = ["--bare", "registry", "--root", str(tmp_path / "other")]
    out, _ = cli(*other, "import", str(archive), "--sha256", sha)
    weights = Registry(cli.root).get("heart@1").base_fingerprint["weights"][:12]
    assert out == (
        "imported heart@1 (exported as heart@1); every checksum verified\n"
        f"note: heart@1 cannot be served yet: the registry at {tmp_path / 'other'} has no base "
        f"model with weights {weights}; add it with 'medadapt registry --root "
        f"{tmp_path / 'other'} add-base BASE_DIR' (or import the adapter's archive exported "
        "with --with-base)\n"
    )
    out, _ = cli(*other, "import", str(archive))
    assert out.startswith("already imported as heart@1; nothing added\nnote: heart@1 cannot ")
    out, err = cli(*other, "import", str(archive), "--sha256", "0" * 64, ok=False)
    assert err.startswith(f"error: {archive} has sha256 ") and err.count("\n") == 1


def test_errors_are_one_line_and_exit_non_zero(cli, adapter_dir, tmp_path):
    _, err = cli("list", ok=False)
    assert err == (
        f"error: no registry at {cli.root}; check --root, or create one with 'medadapt "
        f"registry --root {cli.root} add ADAPTER_DIR'\n"
    )
    _, err = cli("--bare", "registry", "--registry", str(cli.root), "list", ok=False)
    assert err == (  # said with the flag given (a trial's --registry was told "check --root")
        f"error: no registry at {cli.root}; check --registry, or create one with 'medadapt "
        f"registry --registry {cli.root} add ADAPTER_DIR'\n"
    )
    _, err = cli("--bare", "registry", "list", ok=False)
    assert err == (
        "error: --root is missing: give the registry directory before the command, e.g. "
        "'medadapt registry --root hospital-registry list'\n"
    )
    _, err = cli("add", str(tmp_path / "nothing"), ok=False)
    assert err == f"error: {tmp_path / 'nothing'} does not exist; give an adapter directory\n"
    assert not (tmp_path / "reg").exists()  # a failed first add leaves no registry behind
    cli("add", str(adapter_dir(1)), "--name", "heart")
    cli("promote", "heart@1")
    _, err = cli("rm", "heart@1", ok=False)
    assert err.startswith("error: heart@1 is the promoted (served) version;")
    _, err = cli("add", str(adapter_dir(2)), "--parent", "1", "--no-parent", ok=False)
    assert err == "error: give either --parent N or --no-parent, not both\n"
    out, _ = cli("rm", "heart@1", "--force")
    assert out == "removed heart@1\nheart now has no served version (heart@1 was) and no versions\n"


def test_verify_reports_damage_and_gc_cleans(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    out, _ = cli("verify")
    assert out == (  # a trial's imported version, its base not registered: "ok" alone
        "ok: 1 version verified\n"
        "note: heart@1 cannot be served: the base model it was trained on is not registered "
        f"here; add it with 'medadapt registry --root {cli.root} add-base BASE_DIR' (or "
        "import the adapter's export made with --with-base)\n"
    )
    reg = Registry(cli.root)
    weights = reg.objects.path(reg.get("heart@1").weights_blob)
    os.chmod(weights, 0o644)
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    _, err = cli("verify", ok=False)
    lines = err.splitlines()
    assert lines[0].startswith("adapter heart@1: registry file ")
    out, _ = cli("show", "heart@1")  # it looked normal there, then said it 87 lines down
    assert out.startswith("warning: adapter heart@1: registry file ")
    assert out.splitlines()[0].endswith("(it cannot be promoted or served as it is)")
    listed, _ = cli("list")  # it read "served: yes", unmarked
    assert (
        "(damaged)" in listed
        and (
            "warning: heart@1: stored files missing or not matching their checksums, so it cannot "
            f"be promoted or served as it is; 'medadapt registry --root {cli.root} verify' says "
            "which files and how to repair them"
        )
        in listed
    )
    assert lines[1] == (
        "error: 1 of 1 version failed verification (listed above); repair it by adding it "
        "again, or remove it, as listed above"
    )
    (reg.objects.tmp / "1-x.part").write_bytes(b"x")
    out, _ = cli("gc", "--min-age", "0")
    assert out == "removed 0 unreferenced files (0 B), 1 leftover and 0 stale checkouts\n"


def test_log_lists_events(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    cli("promote", "heart@1")
    events = json.loads(cli("log", "--json")[0])
    assert [(e["action"], e["version"]) for e in events] == [("promote", 1), ("add", 1)]


def test_the_console_script_lists_without_importing_torch(tmp_path, adapter_dir):
    Registry(tmp_path / "reg", create=True).add(adapter_dir(1), name="heart")
    code = (
        "import sys; from medadapt.cli.main import main\n"
        "try: main(['registry', '--root', sys.argv[1], 'list', '--json'])\n"
        "finally: print('torch' in sys.modules, file=sys.stderr)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "reg")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["ref"] == "heart@1"
    assert done.stderr.strip() == "False"


def test_export_to_a_directory_given_with_a_trailing_slash(cli, adapter_dir, tmp_path):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    out, _ = cli("export", "heart@1", "-o", f"{tmp_path}/outbox/")  # as the help's example
    archive = tmp_path / "outbox" / "heart-v1.medadapt.tar.gz"
    assert out.splitlines()[0] == f"exported heart@1 to {archive}" and archive.is_file()
    _, err = cli("export", "heart@1", "-o", str(tmp_path / "outbox"), ok=False)
    assert err == (
        f"error: -o {archive} already exists; choose another name, or pass --force to replace it\n"
    )
    out, _ = cli("export", "heart@1", "-o", str(tmp_path / "outbox"), "--force")  # no slash
    assert out.splitlines()[0] == f"exported heart@1 to {archive}"
    # a missing folder is made, in a note, as every other output's is (a trial was refused)
    from tests.cli.helpers import run_cli, succeeded

    said = succeeded(run_cli("registry", "--root", str(cli.root), "export", "heart@1", "-o",
                             str(tmp_path / "nowhere" / "x.tar.gz")))  # fmt: skip
    assert (tmp_path / "nowhere" / "x.tar.gz").is_file()
    assert f"note: made the folder {tmp_path / 'nowhere'} to write " in said.stderr


def test_add_also_registers_the_base_and_a_retry_restores_it(cli, tmp_path):
    import shutil

    from medadapt.registry.bases import find_base
    from tests.registry.helpers import make_adapter_on_base, make_base

    base = make_base(tmp_path / "base")
    adapter = make_adapter_on_base(tmp_path / "run" / "adapter", base)
    out, _ = cli("add", str(tmp_path / "run"), "--name", "heart")
    assert out.splitlines()[1:] == [
        f"also registered its base model from {base.resolve()}",
        f"serve it with: medadapt registry --root {cli.root} promote heart@1",
    ]
    v = Registry(cli.root).get("heart@1")
    shutil.rmtree(find_base(cli.root, v.base_fingerprint["weights"]))
    out, _ = cli("add", str(adapter), "--name", "heart")  # what a kill after the commit left
    assert out == (
        "heart@1 already holds this exact adapter; nothing added\n"
        f"also repaired its base model's stored copy from {base.resolve()} (the base model "
        "files were missing)\n"
    )
    out, _ = cli("verify")
    assert out == "ok: 1 version and 1 base model verified\n"
    out, _ = cli("export", "heart@1", "-o", str(tmp_path / "x.tar.gz"), "--with-base")
    assert out.splitlines()[0] == f"exported heart@1 with its base model to {tmp_path / 'x.tar.gz'}"
    weights = tmp_path / "reg" / "bases" / v.base_fingerprint["weights"][:16] / "model.safetensors"
    os.chmod(weights, 0o644)
    weights.write_bytes(weights.read_bytes()[:-1] + b"\1")
    _, err = cli("verify", ok=False)
    assert err.splitlines()[-1] == (
        f"error: 1 of 1 base model failed verification (listed above); add it again with "
        f"'medadapt registry --root {cli.root} add-base BASE_DIR'"
    )


def test_add_refuses_a_parent_on_another_base_and_notes_another_method(cli, adapter_dir):
    from medadapt.adapters import IA3Config

    cli("add", str(adapter_dir(1)), "--name", "heart")
    other_base = adapter_dir(2, base_seed=5)
    _, err = cli("add", str(other_base), "--name", "heart", "--parent", "1", ok=False)
    reg = Registry(cli.root)
    mine = reg.get("heart@1").base_fingerprint["weights"][:12]
    theirs = json.loads((other_base / "adapter.json").read_text())["base_fingerprint"]["weights"]
    assert err == (
        f"error: parent heart@1 was trained on base weights {mine}, this adapter on "
        f"{theirs[:12]}: a version on another base model cannot descend from it; add it with "
        "--no-parent, or give a parent on the same base\n"
    )
    out, _ = cli("add", str(other_base), "--name", "heart")  # the default parent: none
    assert out.splitlines()[:2] == [
        "added heart@2 (lora, no parent, 520 B of weights)",
        f"note: heart@2 records no parent: the previous version heart@1 is on another base "
        f"model (weights {mine}, this one {theirs[:12]})",
    ]
    out, _ = cli(
        "add",
        str(adapter_dir(3, config=IA3Config(targets=["0", "2"]))),
        "--name",
        "heart",
        "--parent",
        "1",
    )
    assert out.splitlines()[:2] == [
        "added heart@3 (ia3, parent heart@1, 216 B of weights)",
        "note: heart@3 uses ia3, its parent heart@1 used lora",
    ]
    assert [v.parent for v in reg.list("heart")] == [None, None, 1]


def test_a_newest_version_of_another_method_is_no_parent_unless_asked(cli, adapter_dir):
    """A trial: a LoRA adapter trained from the base, added under the name of a bottleneck
    one, read "parent riverside@1" as if trained from it; recorded "for being the newest
    version", it still reached diff and the exported card as its parent."""
    from medadapt.adapters import IA3Config

    cli("add", str(adapter_dir(1)), "--name", "heart")
    out, _ = cli("add", str(adapter_dir(2, config=IA3Config(targets=["0", "2"]))), "--name",
                 "heart")  # fmt: skip
    assert out.splitlines()[:2] == [
        "added heart@2 (ia3, no parent, 216 B of weights)",
        "note: heart@2 records no parent: the previous version heart@1 used lora, this one "
        "ia3, so it was not trained from it (pass --parent 1 to record heart@1 as its parent "
        "all the same)",
    ]
    assert Registry(cli.root).get("heart@2").parent is None


def test_diff_warns_when_the_test_rows_differ(cli, adapter_dir):
    from tests.registry.helpers import metadata

    split = {"data_sha256": "d" * 64, "test_digest": "t" * 64, "seed": 0}
    cli("add", str(adapter_dir(1, meta=metadata(split=split))), "--name", "heart")
    cli("add", str(adapter_dir(2, meta=metadata(split=split))), "--name", "heart")
    other_rows = {**split, "test_digest": "u" * 64}
    cli("add", str(adapter_dir(3, meta=metadata(split=other_rows))), "--name", "heart")
    warning = (
        "warning: heart@1 and heart@3 were measured on different test rows (other patients, or "
        "the same patients' rows with other values, such as a column in other units): the "
        "difference mixes model and data"
    )
    out, _ = cli("diff", "heart@1", "heart@3")
    assert warning in out.splitlines()
    assert json.loads(cli("diff", "heart@1", "heart@3", "--json")[0])["same_test_rows"] is False
    out, _ = cli("diff", "heart@1", "heart@2")
    assert "different test rows" not in out and "not recorded" not in out
    cli("add", str(adapter_dir(4)), "--name", "heart")
    out, _ = cli("diff", "heart@1", "heart@4")
    assert (
        "note: the test rows of one or both versions are not recorded: the metrics may not be "
        "comparable" in out.splitlines()
    )
    # the same positions of another file (a trial's second adapter trained on a re-saved
    # copy of the first's file was said to be tested on "different test rows")
    resaved = {**split, "data_sha256": "e" * 64}
    cli("add", str(adapter_dir(5, meta=metadata(split=resaved))), "--name", "heart")
    out, _ = cli("diff", "heart@1", "heart@5")
    assert (
        "warning: heart@1 and heart@5 were measured on the rows at the same positions of two "
        "different data files: the same patients only if one file is a re-saved copy of the "
        "other (the registry keeps no test row's content to tell); else other patients, or "
        "other values, and the difference mixes model and data" in out.splitlines()
    )
    said = json.loads(cli("diff", "heart@1", "heart@5", "--json")[0])
    assert (said["same_test_rows"], said["other_file"]) == (False, True)
    assert json.loads(cli("diff", "heart@1", "heart@3", "--json")[0])["other_file"] is False


def test_list_headlines_a_metric_not_a_count(cli, adapter_dir, monkeypatch):
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")  # no wrapped cells
    evaluated = {"n": 60, "prevalence": 0.33, "accuracy": 0.8, "auroc": 0.93, "specificity": 0.7}
    cli("add", str(adapter_dir(1, meta=metadata(metrics=evaluated))), "--name", "heart")
    cli("add", str(adapter_dir(2, meta=metadata(metrics={"n": 60, "sensitivity": 0.8}))))
    out, _ = cli("list")
    cells = {
        line.split("│")[1].strip(): line.split("│")[7].strip() for line in out.splitlines()[4:-1]
    }
    assert cells == {
        "heart@1": "AUROC 0.930 on 60 rows",
        "site_a@1": "sensitivity 0.800 on 60 rows",
    }


def test_list_marks_a_headline_metric_that_carries_a_warning(cli, adapter_dir, monkeypatch):
    """accuracy 0.946 from calling every patient positive read as a good model in the list;
    the card said why, the list did not."""
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    one_class = {"n": 37, "accuracy": 0.946, "accuracy_ci": [0.865, 1.0],
                 "notes": {"one_class": "every patient is called class 1 (97%) ..."}}  # fmt: skip
    no_group = {"n_train": 37, "group": None}  # every row of the file: no group recorded
    cli("add", str(adapter_dir(1, meta=metadata(metrics=one_class, data_summary=no_group))),
        "--name", "ch")  # fmt: skip
    cli("add", str(adapter_dir(2, meta=metadata(metrics={"n": 60, "auroc": 0.81}))))
    out, _ = cli("list")
    rows = {line.split("│")[1].strip(): line.split("│")[7].strip()
            for line in out.splitlines() if line.count("│") > 7}  # fmt: skip
    assert rows["ch@1"] == "accuracy 0.946 (0.865–1.000) on 37 rows (!)"
    assert rows["site_a@1"] == "AUROC 0.810 on 60 rows"
    groups = {line.split("│")[1].strip(): line.split("│")[5].strip()
              for line in out.splitlines() if line.count("│") > 7}  # fmt: skip
    assert groups == {"ch@1": "-", "site_a@1": "VA Long Beach"}
    assert out.splitlines()[-1] == (
        "(!): a warning is recorded with the result or with that figure (too good to be true, "
        "one class for every or nearly every patient, ranking backwards, a column kept with "
        "--allow-leak, old classes not kept, worse than the base model alone, or why a metric "
        "or its interval is missing or only "
        f"a rough range); 'medadapt registry --root {cli.root} show NAME@N' says which"
    )


def test_add_base_says_it_repaired_a_deleted_copy_as_add_does_and_only_then(cli, tmp_path):
    """A trial: 'add-base' of a registered base whose copy was deleted said only "added:",
    while 'add' in the same situation says it repaired the stored copy."""
    import shutil

    from tests.registry.helpers import make_base

    base = make_base(tmp_path / "base")
    weights = json.loads((base / "model.json").read_text())["fingerprint"]["weights"]
    stored = cli.root / "bases" / weights[:16]
    assert cli("add-base", str(base))[0] == f"added: {stored}\n"
    assert cli("add-base", str(base))[0] == f"already present: {stored}\n"
    shutil.rmtree(stored)
    assert cli("add-base", str(base))[0] == (
        f"already registered: {stored}; repaired its stored copy (the base model files were "
        "missing)\n"
    )
    assert cli("add-base", str(base))[0] == f"already present: {stored}\n"  # nothing to mend
    assert cli("verify")[0] == "ok: 0 versions and 1 base model verified\n"


def test_bases_lists_registered_and_damaged_bases(cli, tmp_path):
    from medadapt.registry import Registry
    from tests.registry.helpers import make_base

    Registry(cli.root, create=True)  # none yet: a trial's empty registry printed nothing
    assert cli("bases")[0] == (
        f"no base models in this registry: add one with 'medadapt registry --root {cli.root} "
        "add-base BASE_DIR' (or import an adapter exported with --with-base)\n"
    )
    base = make_base(tmp_path / "base")
    weights = json.loads((base / "model.json").read_text())["fingerprint"]["weights"]
    out, _ = cli("add-base", str(base))
    assert out == f"added: {cli.root / 'bases' / weights[:16]}\n"
    out, _ = cli("bases")
    assert out == f"{weights[:12]}  FTTransformer  label=y  groups=all\n"
    from medadapt.cli.registry_bases import _groups

    assert _groups({"Alpha": 1227, "Beta": 170}) == "Alpha (1,227 rows), Beta (170 rows)"
    assert _groups(["A", "B"]) == "A, B"  # was the Python repr: {'Alpha': 227}
    registered = cli.root / "bases" / weights[:16] / "model.json"
    os.chmod(registered, 0o644)
    registered.write_text("{")
    out, _ = cli("bases")
    assert out == (
        f"{weights[:16]}  damaged: {registered} is not valid JSON (truncated or edited) (see "
        f"'medadapt registry --root {cli.root} verify')\n"
    )
    out, _ = cli("add-base", str(base))  # replaces the damaged copy
    assert out == (
        f"already registered: {cli.root / 'bases' / weights[:16]}; repaired its stored copy "
        "(the base model files were damaged)\n"
    )
    _, err = cli("add-base", str(tmp_path), ok=False)
    assert err == (
        f"error: no model.json in {tmp_path}: give a directory written by 'medadapt train-base'\n"
    )


def test_a_root_given_after_the_command_or_a_file_as_root_names_the_fix(cli, tmp_path):
    _, err = cli("--bare", "registry", "list", "--root", str(cli.root), ok=False)
    assert err.startswith(
        "error: --root goes before the command: 'medadapt registry --root DIR list ...' (see '"
    )
    assert err.endswith(" registry --help')\n")
    _, err = cli("--bare", "registry", "list", "--registry", str(cli.root), ok=False)
    assert err.startswith(  # serve's name for it is understood before the command
        "error: --registry goes before the command: 'medadapt registry --registry DIR list ...'"
    )
    said = [cli("--bare", "registry", flag, str(cli.root), "list", ok=False)[1]
            for flag in ("--root", "--registry")]  # fmt: skip
    assert said[0].startswith(f"error: no registry at {cli.root}")
    assert said[1] == said[0].replace("--root", "--registry")  # the flag given, repeated
    table = tmp_path / "heart.csv"
    table.write_text("age\n63\n")
    _, err = cli("--bare", "registry", "--root", str(table), "list", ok=False)
    assert err == f"error: {table} is a file, not a registry directory; check --root\n"
    _, err = cli("--bare", "serve", "--registry", str(table), ok=False)
    assert (
        err == f"error: --registry: {table} is a file, not a registry directory; check --registry\n"
    )


def test_an_adapter_for_another_outcome_is_not_a_next_version_without_force(cli, adapter_dir):
    """A heart adapter added as the next "bc" version would, once promoted, answer breast
    cancer requests with a heart model: refused unless asked for."""
    from tests.registry.helpers import metadata

    cli("add", str(adapter_dir(1, meta=metadata(label="malignant"))), "--name", "bc")
    heart = adapter_dir(2, meta=metadata(label="num"))
    _, err = cli("add", str(heart), "--name", "bc", ok=False)
    assert err.strip() == (
        "error: bc@1 predicts 'malignant' (heart disease (binary)), this adapter 'num' (heart "
        "disease (binary)): register it under its own --name, or pass --force to make it bc's "
        "next version"
    )
    assert [v["version"] for v in json.loads(cli("list", "--json")[0])] == [1]
    out, _ = cli("add", str(heart), "--name", "bc", "--force")
    assert out.startswith("added bc@2")
    cli("add", str(adapter_dir(3, meta=metadata(label="num"))), "--name", "bc")  # same: fine
    _, err = cli("import", str(heart), "--sha256", "deadbeef", ok=False)
    assert err.strip() == (
        "error: --sha256 deadbeef is not a SHA-256 (64 hexadecimal characters): copy it exactly "
        "as the sender gave it"
    )


def test_add_says_when_the_recorded_base_directory_now_holds_another_model(
    cli, adapter_dir, tmp_path
):
    """The base was retrained with --force over the directory the adapter recorded: add said
    only "no base model with weights ...", not why."""
    from tests.registry.helpers import metadata

    retrained = tmp_path / "base"
    retrained.mkdir()
    (retrained / "model.json").write_text(json.dumps({"fingerprint": {"weights": "f" * 64}}))
    adapter = adapter_dir(1, meta=metadata(base_model={"path": str(retrained)}))
    out, _ = cli("add", str(adapter), "--name", "heart")
    trained_on = json.loads((adapter / "adapter.json").read_text())["base_fingerprint"]["weights"]
    assert (
        f"note: {retrained}, the base directory it recorded, now holds another model (weights "
        f"ffffffffffff, not {trained_on[:12]}): register the base it was trained on with "
        f"'medadapt registry --root {cli.root} add-base BASE_DIR'"  # runnable as printed
    ) in out.splitlines()


def test_a_root_that_cannot_be_created_names_the_flag(capsys, adapter_dir, tmp_path):
    """A --root under a file (or anywhere mkdir fails) is one line naming --root, exit 2 (it
    was the bare OS message, exit 1)."""
    table = tmp_path / "heart.csv"
    table.write_text("age\n63\n")
    root = table / "reg"
    with pytest.raises(SystemExit) as exit_:
        main(["registry", "--root", str(root), "add", str(adapter_dir(1))])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (  # checked before anything is made, as --out is
        f"error: --root {root}: {table} is a file, not a directory; choose another path\n"
    )


def test_sizes_are_named_in_the_units_they_are_counted_in():
    """35,908 bytes were "35.1 KB" (divided by 1024): binary units are named KiB, MiB."""
    from medadapt.cli.registry_format import human_size

    assert [human_size(n) for n in (512, 35_908, 3 * 2**20)] == ["512 B", "35.1 KiB", "3.0 MiB"]


#: what 'adapt' records about a binary outcome with too few positives among the test patients
NOTED_METRICS = {
    "n": 40,
    "n_positive": 3,
    "auroc": 0.68,
    "auroc_ci": [0.539, 0.822],
    "balanced_accuracy": None,
    "balanced_accuracy_ci": None,
    "accuracy": 0.925,
    "accuracy_ci": [0.796, 0.984],
    "notes": {
        "accuracy": "the estimate lies above its 95% bootstrap interval: it is only a rough range",
        "balanced_accuracy": "not reported: 3 positives among 40 patients; at least 5 are "
        "needed for a meaningful estimate",
        "one_class": "every patient is called class 0 (100%) at threshold 0.5; judge the model "
        "by AUROC",
    },
}


def _table_rows(out: str) -> dict[str, str]:
    return {
        cells[0].strip(): cells[1].strip()
        for line in out.splitlines()
        if len(cells := line.split("│")[1:-1]) == 2
    }


def test_show_says_which_warning_the_list_marks(cli, adapter_dir, monkeypatch):
    """'list' marks a version with (!) and sends the reader to 'show', which must say why."""
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    cli("add", str(adapter_dir(1, meta=metadata(metrics=NOTED_METRICS))), "--name", "heart")
    out, _ = cli("list")
    assert "AUROC 0.680 (0.539–0.822) on 40 rows (!)" in out
    assert f"'medadapt registry --root {cli.root} show NAME@N' says which" in out
    out, _ = cli("show", "heart@1")
    rows = _table_rows(out)
    assert [(k, v) for k, v in rows.items() if k.startswith("metric: ")] == [
        ("metric: AUROC", "0.680 (0.539–0.822)"),
        ("metric: accuracy", "0.925 (0.796–0.984) (!)"),
        ("metric: test rows", "40"),
        ("metric: positive test rows", "3"),
    ]
    assert out.splitlines()[-3:] == [
        "(!) every patient is called class 0 (100%) at threshold 0.5; judge the model by AUROC",
        "(!) accuracy: the estimate lies above its 95% bootstrap interval: it is only a rough "
        "range",
        "(!) balanced accuracy: not reported: 3 positives among 40 patients; at least 5 are "
        "needed for a meaningful estimate",
    ]


def test_show_without_notes_prints_no_warning_lines(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    out, _ = cli("show", "heart@1")
    assert "(!)" not in out and out.splitlines()[-1].startswith("└")


def test_show_notes_about_all_metrics_and_unknown_keys(cli, adapter_dir, monkeypatch):
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    notes = {"all": "not reported: only 12 patients (at least 20 needed)", "f1": "  ",
             "c_index": "odd"}  # fmt: skip
    few = {"n": 12, "auroc": None, "notes": notes}
    cli("add", str(adapter_dir(1, meta=metadata(metrics=few))), "--name", "heart")
    out, _ = cli("show", "heart@1")
    assert out.splitlines()[-2:] == [
        "(!) all metrics: not reported: only 12 patients (at least 20 needed)",
        "(!) C-index: odd",
    ]
    assert _table_rows(out)["metric: test rows"] == "12"


def test_show_names_metrics_and_data_in_words(cli, adapter_dir, monkeypatch):
    """The keys 'adapt' records are said in words, metrics by the reports' names, intervals
    as every other output prints them: 0.680 (0.539–0.822), an error in the label's unit
    with three significant figures."""
    from tests.registry.helpers import metadata

    monkeypatch.setenv("COLUMNS", "200")
    summary = {  # what workflows/adapt.py records (sorted, as stored), and a key of no meaning here
        "group": "VA Long Beach",
        "group_column": "dataset",
        "n_kept_out": 12,
        "n_positive": 80,
        "n_seen_by_base": 5,
        "n_seen_training": 4,
        "n_skipped_files": 2,
        "n_test": 40,
        "n_train": 120,
        "prevalence": 0.67,
        "test_class_counts": {"0": 37, "1": 3},
        "train_class_counts": {"0": 40, "1": 80},
        "train_fraction": 1.0,
    }
    metrics = {"mae": 51.305, "mae_ci": [40.21, 63.88], "r2": 0.12, "r2_ci": [-0.07, 0.3],
               "rmse": 70.0, "n_test": 40}  # fmt: skip
    meta = metadata(metrics=metrics, data_summary=summary)
    cli("add", str(adapter_dir(1, meta=meta)), "--name", "glucose")
    out, _ = cli("show", "glucose@1")
    rows = [(k, v) for k, v in _table_rows(out).items() if k.startswith(("data: ", "metric: "))]
    assert rows == [
        ("data: training rows", "120"),
        ("data: test rows", "40"),
        ("data: positive training rows", "80"),
        ("data: training prevalence", "0.67"),
        ("data: training rows per class", "0: 40, 1: 80"),
        ("data: test rows per class", "0: 37, 1: 3"),
        ("data: rows given to adapt that the base model trained on", "5"),
        ("data: adapter training rows the base model also trained on", "4"),
        ("data: rows kept out (the base model's test rows)", "12"),
        ("data: share of the training rows used", "1.0"),
        ("data: group", "VA Long Beach"),
        ("data: group column", "dataset"),
        ("data: number of skipped files", "2"),
        ("metric: MAE", "51.3 (40.2–63.9)"),
        ("metric: RMSE", "70.0"),
        ("metric: R²", "0.120 (-0.070 to 0.300)"),
        ("metric: test rows", "40"),
    ]
    out, _ = cli("list")
    assert "MAE 51.3 (40.2–63.9)" in out and "120 rows" in out and "n_train" not in out


def _tree(root) -> list[str]:
    """Every path under ``root`` (what a refused command must leave as it was)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_registry_that_lost_its_index_is_never_made_anew(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    (cli.root / "registry.sqlite").unlink()
    before = _tree(cli.root)
    said = (
        f"error: registry {cli.root} has lost its index: {cli.root / 'registry.sqlite'} is "
        "missing, but objects/ holds its files; restore registry.sqlite from a backup (a new "
        "index would drop every version and its history)\n"
    )
    for command in (["list"], ["verify"], ["add", str(adapter_dir(2)), "--name", "heart"]):
        out, err = cli(*command, ok=False)
        assert (out, err) == ("", said) and "Traceback" not in out + err
        assert _tree(cli.root) == before


def test_a_registry_that_lost_its_objects_folder_is_refused(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    cli("add", str(adapter_dir(2)), "--name", "heart")
    shutil.rmtree(cli.root / "objects")
    before = _tree(cli.root)
    said = (
        f"error: registry {cli.root} has lost its adapter files: {cli.root / 'objects'} is "
        "missing, but its index lists 2 versions; restore objects/ from a backup\n"
    )
    for command in (["list"], ["verify"], ["add", str(adapter_dir(3)), "--name", "heart"]):
        out, err = cli(*command, ok=False)
        assert (out, err) == ("", said) and "Traceback" not in out + err
        assert _tree(cli.root) == before


def test_add_next_to_a_version_whose_file_was_deleted_names_it(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    blob = Registry(cli.root).objects.path(Registry(cli.root).get("heart@1").manifest_blob)
    blob.unlink()
    before = _tree(cli.root)
    out, err = cli("add", str(adapter_dir(2)), "--name", "heart", ok=False)
    assert err == (
        f"error: adapter heart@1: registry file {blob} is missing; see what else is damaged "
        f"with 'medadapt registry --root {cli.root} verify'\n"
    )
    assert "Traceback" not in out + err and _tree(cli.root) == before


def test_a_new_or_empty_directory_still_becomes_a_registry(cli, adapter_dir):
    cli.root.mkdir()
    for folder in ("objects", "tmp", "checkouts", "bases"):  # a creation killed half-way
        (cli.root / folder).mkdir()
    out, _ = cli("add", str(adapter_dir(1)), "--name", "heart")
    assert out.startswith("added heart@1 ")


def test_verify_reports_each_registered_base_whose_copy_was_deleted(cli, tmp_path):
    from tests.registry.helpers import make_adapter_on_base, make_base

    base = make_base(tmp_path / "base")
    cli("add", str(make_adapter_on_base(tmp_path / "a1", base)), "--name", "heart")
    cli("add", str(make_adapter_on_base(tmp_path / "a2", base, seed=2)), "--name", "heart")
    key = Registry(cli.root).get("heart@1").base_fingerprint["weights"][:16]
    shutil.rmtree(cli.root / "bases")
    before = _tree(cli.root)
    out, err = cli("verify", ok=False)
    assert out == "" and "Traceback" not in err
    assert err.splitlines() == [
        f"base model {key}: {cli.root / 'bases' / key} is missing, but heart@1, heart@2 were "
        f"registered with it; add it again with 'medadapt registry --root {cli.root} add-base "
        "BASE_DIR', or restore bases/ from a backup",
        f"error: 1 of 1 base model failed verification (listed above); add it again with "
        f"'medadapt registry --root {cli.root} add-base BASE_DIR'",
    ]
    assert _tree(cli.root) == before
    _, err = cli("verify", "heart@2", ok=False)
    assert err.splitlines()[0].startswith(f"base model {key}: ")
    cli("add-base", str(base))
    assert cli("verify")[0] == "ok: 2 versions and 1 base model verified\n"


def test_export_refuses_an_over_long_file_name_up_front(cli, adapter_dir, tmp_path):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    name = "a" * 293 + ".tar.gz"
    out, err = cli("export", "heart@1", "-o", str(tmp_path / name), ok=False)
    assert err == (
        f"error: -o: the name '{'a' * 20}...aaaaa.tar.gz' is 300 bytes long; at most 241 fit "
        "here (this file system takes 255 per name, less 14 for the temporary name written "
        "first); give -o a shorter name\n"
    )
    assert "Traceback" not in out + err and list(tmp_path.glob("*.tar*")) == []
    assert [e["action"] for e in json.loads(cli("log", "--json")[0])] == ["add"]


def test_an_adapter_for_another_group_is_not_a_next_version_without_force(
    cli, adapter_dir, tmp_path, capsys
):
    """A Switzerland adapter added as the next "va" version would, once promoted, score the
    VA Long Beach requests: refused unless asked for, by add and by import alike."""
    from tests.registry.helpers import DATA_SUMMARY, metadata

    swiss = metadata(data_summary={**DATA_SUMMARY, "group": "Switzerland"})
    cli("add", str(adapter_dir(1)), "--name", "va")  # VA Long Beach
    refused = (
        "error: va@1 is adapted to group 'VA Long Beach', this adapter to 'Switzerland': "
        "register it under its own --name, or pass --force to make it va's next version\n"
    )
    argv = ["registry", "--root", str(cli.root), "add", str(adapter_dir(2, meta=swiss)),
            "--name", "va"]  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    assert (exit_.value.code, out, err) == (2, "", refused)  # as for another outcome
    assert "Traceback" not in err
    assert [v["version"] for v in json.loads(cli("list", "--json")[0])] == [1]
    out, _ = cli("add", str(adapter_dir(3)), "--name", "va")  # the same group: as before
    assert out.startswith("added va@2 (lora, parent va@1, ")
    out, _ = cli("add", str(adapter_dir(2, meta=swiss)), "--name", "va", "--force")
    assert out.startswith("added va@3 (lora, parent va@2, ")
    # an archive of the Swiss adapter, imported under the name of the VA one
    cli("add", str(adapter_dir(2, meta=swiss)), "--name", "ch")
    cli("export", "ch@1", "-o", str(tmp_path / "ch.tar.gz"))
    cli("add", str(adapter_dir(4)), "--name", "va2")
    _, err = cli("import", str(tmp_path / "ch.tar.gz"), "--name", "va2", ok=False)
    assert err == (
        "error: va2@1 is adapted to group 'VA Long Beach', this adapter to 'Switzerland': "
        "register it under its own --name, or pass --force to make it va2's next version\n"
    )
    out, _ = cli("import", str(tmp_path / "ch.tar.gz"), "--name", "va2", "--force")
    assert out.startswith("imported va2@2 (exported as ch@1)")
    unrecorded = metadata(data_summary={"n_train": 120})  # no group recorded: nothing to compare
    out, _ = cli("add", str(adapter_dir(5, meta=unrecorded)), "--name", "va")
    assert out.startswith("added va@4 ")


def test_an_image_adapter_whose_classes_are_in_another_order_is_not_a_next_version(
    cli, adapter_dir
):
    """A base retrained with the other positive class scores ('abnormal', 'normal') where
    the name's versions scored ('normal', 'abnormal'): promoted, its probabilities would
    answer for the other class. Refused unless forced; new classes appended are a next
    version."""
    from tests.registry.helpers import metadata

    def classes(*names):
        return metadata(classes=list(names), data_summary={"n_train": 120})

    cli("add", str(adapter_dir(1, meta=classes("normal", "abnormal"))), "--name", "cxr")
    _, err = cli("add", str(adapter_dir(2, meta=classes("abnormal", "normal"))), "--name", "cxr",
                 ok=False)  # fmt: skip
    assert err == (
        "error: cxr@1 scores the classes 'normal', 'abnormal' in that order, this adapter "
        "'abnormal', 'normal': its probabilities would answer for other classes (a base "
        "retrained with another positive class?); register it under its own --name, or pass "
        "--force to make it cxr's next version\n"
    )
    out, _ = cli("add", str(adapter_dir(3, meta=classes("normal", "abnormal", "effusion"))),
                 "--name", "cxr")  # fmt: skip
    assert out.startswith("added cxr@2 ")


def test_promote_says_a_version_ranking_backwards_or_worse_than_the_one_it_replaces(
    cli, adapter_dir
):
    """'promote site_b@2' served an AUROC of 0.062 in place of 0.778 without a word."""
    from tests.registry.helpers import metadata

    backwards = "AUROC 0.062 (95% CI up to 0.312) is below 0.5: the model ranks ... backwards"
    worse = {"auroc": 0.062, "auroc_ci": [0.0, 0.312], "n_test": 18,
             "notes": {"backwards": backwards}}  # fmt: skip
    cli("add", str(adapter_dir(1)), "--name", "site_b")
    cli("add", str(adapter_dir(2, meta=metadata(metrics=worse))), "--name", "site_b")
    cli("promote", "site_b@1")
    _, refused = cli("promote", "site_b@2", ok=False)  # ranked backwards: not without asking
    assert refused.startswith("error: site_b@2 is not promoted, as its recorded test result")
    out, _ = cli("promote", "site_b@2", "--despite-warnings")
    warned = _warned(out)
    assert warned == [
        f"warning: site_b@2: {backwards}",
        "warning: site_b@2's AUROC 0.062 (0.000–0.312) is lower than site_b@1's 0.810 "
        "(0.720–0.890), served until now (their test rows are not recorded: they may not have "
        "been tested on the same patients); their intervals do not overlap ('medadapt registry "
        f"--root {cli.root} diff site_b@1 site_b@2' lists their figures and intervals side by "
        "side)",
    ]
    out, _ = cli("promote", "site_b@1")
    assert _warned(out) == []


def test_list_on_a_narrow_terminal_puts_the_figures_in_a_second_table(cli, adapter_dir):
    """A trial's 'list' at 80 columns broke words ("traine|d on", "bottle|neck") and wrapped
    a metric over 6 lines: too wide a table becomes two, the figures in the second."""
    from tests.registry.helpers import metadata

    metrics = {"n": 33, "auroc": 1.0, "auroc_ci": [0.868, 1.0]}
    cli("add", str(adapter_dir(1, meta=metadata(metrics=metrics))), "--name", "east_ia3")
    out, _ = cli("list")  # the tests' terminal: 80 columns
    lines = out.splitlines()
    assert lines[0].startswith("Adapters in ") and "Their figures" in lines
    assert "│ east_ia3@1 │ AUROC 1.000 (0.868–1.000) on 33 rows │" in out
    assert "trained on" in out and "traine" not in out.replace("trained on", "")


def test_a_version_with_no_measured_performance_is_marked_and_its_promotion_warned(
    cli, adapter_dir
):
    """An adapter tested on 2 patients records no metric: 'list' showed '-' unmarked and
    'promote' served it over a measured version without a word."""
    from tests.registry.helpers import metadata

    why = "only 2 patients: metrics need at least 10"
    unmeasured = {"n_test": 2, "notes": {"all": why}}
    cli("add", str(adapter_dir(1)), "--name", "site_b")
    cli("add", str(adapter_dir(2, meta=metadata(metrics=unmeasured))), "--name", "site_b")
    listed, _ = cli("list")
    rows = [line for line in listed.splitlines() if "site_b@2" in line]  # never cut
    assert any("- (!)" in row for row in rows)  # (80 columns: in its figures' table)
    cli("promote", "site_b@1")
    out, _ = cli("promote", "site_b@2")
    warned = _warned(out)
    assert warned == [
        f"warning: site_b@2 has no measured performance ({why}), where site_b@1, served until "
        "now, has AUROC 0.810 (0.720–0.890): serve it only if it has been checked on other "
        "patients"
    ]
    bare = metadata(metrics={"n_test": 40})  # no figure and no note saying why (another tool)
    cli("add", str(adapter_dir(3, meta=bare)), "--name", "site_b")
    cli("promote", "site_b@3")  # over site_b@2, unmeasured too: nothing to say it had
    out, _ = cli("promote", "site_b@2")
    assert _warned(out) == [
        f"warning: site_b@2 has no measured performance ({why}): serve it only if it has been "
        "checked on other patients"
    ]
    listed, _ = cli("list")
    assert any("- (!)" in line for line in listed.splitlines() if "site_b@3" in line)
    shown, _ = cli("show", "site_b@3")
    assert shown.splitlines()[-1] == (
        "(!) no performance figure was recorded for this version: nothing says how well it predicts"
    )
    from medadapt.cli.registry_format import note_lines

    kept = {"n": 8, "notes": {"allowed_leak": "column 'worst_area' was kept deliberately"}}
    assert note_lines(kept) == [  # a trial's federated site adapter: only its leak was said
        "(!) no performance figure was recorded for this version: nothing says how well it "
        "predicts",
        "(!) column 'worst_area' was kept deliberately",
    ]


def _versions_tested(cli, adapter_dir, first: dict, second: dict, *, splits=(None, None),
                     name: str = "heart"):  # fmt: skip
    """NAME@1 and NAME@2 with these metrics (and recorded splits); NAME@1 served."""
    from tests.registry.helpers import metadata

    for seed, (metrics, split) in enumerate(zip((first, second), splits, strict=True), 1):
        meta = metadata(metrics=metrics, **({"split": split} if split else {}))
        cli("add", str(adapter_dir(seed + (10 if name != "heart" else 0), meta=meta)), "--name",
            name)  # fmt: skip
    cli("promote", f"{name}@1")


SPLIT = {"data_sha256": "d" * 64, "test_digest": "t" * 16, "seed": 0}


def test_promote_calls_a_lower_figure_within_chance_a_note(cli, adapter_dir):
    """'promote va@1' warned that AUROC 0.616 (0.447–0.778) "is worse than" va@2's 0.631
    (0.462–0.786) "on their own test sets": both were tested on the same 60 patients, and
    the intervals overlap almost entirely."""
    served = {"auroc": 0.631, "auroc_ci": [0.462, 0.786], "n": 60}
    lower = {"auroc": 0.616, "auroc_ci": [0.447, 0.778], "n": 60}
    _versions_tested(cli, adapter_dir, served, lower, splits=(SPLIT, SPLIT))
    out, _ = cli("promote", "heart@2")
    warned = _warned(out)
    assert warned == [  # no evidence it is worse; only that it is not shown better than chance
        "warning: heart@2's AUROC 0.616 (0.447–0.778) is not shown to be better than chance (its "
        "interval reaches 0.50): nothing here shows that it tells patients apart"
    ]
    assert [line for line in out.splitlines() if "served until now" in line] == [
        "note: heart@2's AUROC 0.616 (0.447–0.778) is lower than heart@1's 0.631 (0.462–0.786), "
        "served until now, on the same test set; the difference is within what chance explains: "
        "these figures cannot tell the two apart, nor show that they perform the same (they "
        "were scored on the same patients, but only comparing their answers patient by patient "
        "could, and the registry keeps no patient's answer; "
        f"'medadapt registry --root {cli.root} diff heart@1 heart@2' lists their figures and "
        "intervals side by side)",
    ]
    assert "z = " not in out and "paired comparison" not in out  # no jargon, no false claim


def test_promote_says_only_scoring_both_on_the_same_patients_could_tell_where_they_were_not(
    cli, adapter_dir
):
    """A review: the note said "only scoring both on the same patients ... could" also where
    they had been scored on the same patients (only the patient-by-patient comparison was
    missing); where they were not, or it is not recorded, that is what it must say."""
    served = {"auroc": 0.631, "auroc_ci": [0.462, 0.786], "n": 60}
    lower = {"auroc": 0.616, "auroc_ci": [0.447, 0.778], "n": 60}
    other_rows = {**SPLIT, "test_digest": "u" * 16}
    _versions_tested(cli, adapter_dir, served, lower, splits=(SPLIT, other_rows))
    out, _ = cli("promote", "heart@2")
    (note,) = [line for line in out.splitlines() if "served until now" in line]
    assert "on their own test sets" in note
    assert "(only scoring both on the same patients and comparing them patient by patient " in note


def test_promote_warns_of_a_lower_figure_beyond_chance_though_the_intervals_overlap(
    cli, adapter_dir
):
    """A review: AUROC 0.70 (0.65-0.75) replacing 0.78 (0.74-0.82) was a note saying the
    figures "detect no difference"; overlapping 95% intervals can still differ beyond chance
    (z = 2.45, p = 0.014 from the intervals, Altman & Bland 2011)."""
    served = {"auroc": 0.78, "auroc_ci": [0.74, 0.82], "n": 300}
    lower = {"auroc": 0.70, "auroc_ci": [0.65, 0.75], "n": 300}
    _versions_tested(cli, adapter_dir, served, lower, splits=(SPLIT, SPLIT))
    out, _ = cli("promote", "heart@2")
    assert [line for line in out.splitlines() if "served until now" in line] == [
        "warning: heart@2's AUROC 0.700 (0.650–0.750) is lower than heart@1's 0.780 "
        "(0.740–0.820), served until now, on the same test set; their intervals overlap, but "
        "the difference is larger than chance explains (p = 0.014, judged from the two "
        f"intervals; 'medadapt registry --root {cli.root} diff heart@1 heart@2' lists their "
        "figures and intervals side by side)",
    ]


@pytest.mark.parametrize(
    ("other", "where"),
    [
        ({"test_digest": "u" * 16},  # other rows: "on their own test sets"
         "on their own test sets (different test rows: the difference mixes model and data)"),
        # a trial's two adapters of one site, the second trained on a re-saved copy of the
        # first's file (same test positions, other file bytes), were said to be tested on
        # "different test rows": the registry cannot tell, and says so
        ({"data_sha256": "e" * 64},
         "on the rows at the same positions of two different data files (the same patients "
         "only if one file is a re-saved copy of the other, which the registry cannot tell: "
         "the difference may mix model and data)"),
    ],
)  # fmt: skip
def test_promote_says_when_the_two_versions_were_tested_on_other_rows(
    cli, adapter_dir, other, where
):
    """ "on their own test sets" only when the recorded test rows differ; an error (Brier)
    that grew is "higher (worse)", not "lower"."""
    served = {"brier": 0.10, "brier_ci": [0.08, 0.12], "n": 60}
    worse = {"brier": 0.20, "brier_ci": [0.17, 0.23], "n": 60}
    _versions_tested(cli, adapter_dir, served, worse, splits=(SPLIT, {**SPLIT, **other}))
    out, _ = cli("promote", "heart@2")
    assert [line for line in out.splitlines() if "served until now" in line] == [
        "warning: heart@2's Brier score 0.200 (0.170–0.230) is higher (worse) than heart@1's "
        f"0.100 (0.080–0.120), served until now, {where}; their intervals do not overlap "
        f"('medadapt registry --root {cli.root} diff heart@1 heart@2' lists their figures and "
        "intervals side by side)"
    ]


def test_promote_warns_of_risks_worse_beyond_chance_behind_a_headline_alike(cli, adapter_dir):
    """A trial promoted a version of AUROC 0.639 over one of 0.631, without a word of its
    Brier score, 0.444 against 0.201: a Brier score worse beyond chance is a warning too."""
    served = {"auroc": 0.631, "auroc_ci": [0.49, 0.77], "brier": 0.201,
              "brier_ci": [0.15, 0.25], "n": 60}  # fmt: skip
    worse = {"auroc": 0.639, "auroc_ci": [0.5, 0.78], "brier": 0.444,
             "brier_ci": [0.38, 0.51], "n": 60}  # fmt: skip
    _versions_tested(cli, adapter_dir, served, worse, splits=(SPLIT, SPLIT))
    out, _ = cli("promote", "heart@2")
    assert [line for line in out.splitlines() if "served until now" in line] == [
        "warning: heart@2's Brier score 0.444 (0.380–0.510) is higher (worse) than heart@1's "
        "0.201 (0.150–0.250), served until now, on the same test set; their intervals do not "
        f"overlap ('medadapt registry --root {cli.root} diff heart@1 heart@2' lists their "
        "figures and intervals side by side)"
    ]
    near = {**worse, "brier": 0.22, "brier_ci": [0.17, 0.27]}  # within chance: nothing said
    cli("promote", "heart", "--clear")  # one adapter per group served
    _versions_tested(cli, adapter_dir, served, near, splits=(SPLIT, SPLIT), name="other")
    out, _ = cli("promote", "other@2")
    assert "Brier" not in out


def test_promote_says_nothing_of_figures_alike_as_shown(cli, adapter_dir):
    """A trial read "east@2's Brier score <0.001 is higher (worse) than east@1's <0.001":
    two figures that print alike (no interval: every resample gave the same value) are not
    said to differ; with intervals, shown to their own digits, they are."""
    _versions_tested(cli, adapter_dir, {"brier": 0.00004, "n": 60}, {"brier": 0.000042, "n": 60},
                     splits=(SPLIT, SPLIT))  # fmt: skip
    out, _ = cli("promote", "heart@2")  # both "0.00004" (a small figure keeps its digits)
    assert "served until now" not in out and "Brier" not in out, out
    cli("promote", "heart", "--clear")
    _versions_tested(cli, adapter_dir, {"brier": 0.00004, "brier_ci": [0.00001, 0.00008]},
                     {"brier": 0.00009, "brier_ci": [0.00008, 0.0001]}, splits=(SPLIT, SPLIT),
                     name="other")  # fmt: skip
    out, _ = cli("promote", "other@2")
    assert (
        "other@2's Brier score 0.00009 (0.00008–0.00010) is higher (worse) than other@1's "
        "0.00004 (0.00001–0.00008)"
    ) in out, out


def test_promoting_the_served_version_again_says_it_already_was(cli, adapter_dir):
    """Only that, and whether a server can load it: a trial's second promote repeated every
    warning the first had said."""
    from tests.registry.helpers import metadata

    chance = metadata(metrics={"auroc": 0.6, "auroc_ci": [0.45, 0.75], "n": 60})
    cli("add", str(adapter_dir(1, meta=chance)), "--name", "heart")
    first = cli("promote", "heart@1")[0].splitlines()
    out, _ = cli("promote", "heart@latest")
    weights = Registry(cli.root).get("heart@1").base_fingerprint["weights"][:12]
    assert out.splitlines() == [
        "heart@1 was already the version of heart to serve; nothing changed",
        f"warning: heart@1 cannot be served yet: the registry at {cli.root} has no base model "
        f"with weights {weights}; add it with 'medadapt registry --root {cli.root} add-base "
        "BASE_DIR' (or import the adapter's archive exported with --with-base)",
    ]
    assert any("not shown" in line for line in first)  # said once, not again
    assert [e.action for e in Registry(cli.root).history("heart")].count("promote") == 1


def test_a_version_of_another_base_is_said_so_when_added_and_when_promoted(cli, adapter_dir):
    """A trial imported another base's adapter as the next version of its name and promoted
    it: nothing said the base changed, and a patient's served answer moved."""
    cli("add", str(adapter_dir(1)), "--name", "heart")
    cli("promote", "heart@1")
    reg = Registry(cli.root)
    out, _ = cli("add", str(adapter_dir(2, base_seed=7)), "--name", "heart")
    old, new = (reg.get(ref).base_fingerprint["weights"][:12] for ref in ("heart@1", "heart@2"))
    assert old != new
    assert (
        f"note: heart@2 adapts another base model ({new}) than heart@1, served now ({old}): "
        "the two can "
        "answer the same patient differently however alike their figures; compare them "
        f"('medadapt registry --root {cli.root} diff heart@1 heart@2') before promoting"
    ) in out.splitlines()
    out, _ = cli("promote", "heart@2")
    lines = out.splitlines()
    assert lines[0] == "promoted heart@2: it is now the version of heart to serve (in place of " \
        "heart@1)"  # fmt: skip
    assert (
        f"note: heart@2 adapts another base model ({new}) than heart@1, served until now "
        f"({old}): the same patient's answer can change however alike their figures"
    ) in lines
    out, _ = cli("add", str(adapter_dir(3, base_seed=7)), "--name", "heart")
    assert "another base model" not in out  # heart@2's base, served now
    cli("promote", "heart", "--clear")  # none served: against the version before it
    out, _ = cli("add", str(adapter_dir(4)), "--name", "heart")
    assert f"note: heart@4 adapts another base model ({old}) than heart@3 ({new}): " in out


def test_removing_the_served_version_says_none_is_served_and_how_to_serve_another(cli, adapter_dir):
    """'rm va@2 --force' of the served version printed only "removed va@2"; suggestions
    repeat the registry flag the user gave ('rm ch' suggested 'medadapt registry rm ch --all',
    without '--root reg')."""
    root = str(cli.root)
    for seed in (1, 2, 3):
        cli("add", str(adapter_dir(seed)), "--name", "heart")
    cli("promote", "heart@2")
    out, _ = cli("--bare", "registry", "--registry", root, "rm", "heart@2", "--force")
    assert out == (
        "removed heart@2\n"
        "heart now has no served version (heart@2 was); serve another with 'medadapt registry "
        f"--registry {root} promote heart@3'\n"
    )
    _, err = cli("--bare", "registry", "--registry", root, "rm", "heart", ok=False)
    assert err == (
        "error: rm needs an explicit version such as heart@3; to remove every version use "
        f"'medadapt registry --registry {root} rm heart --all'\n"
    )
    _, err = cli("rm", "heart", ok=False)
    assert err.endswith(f"use 'medadapt registry --root {root} rm heart --all'\n")
    out, _ = cli("rm", "heart@1")
    assert out == "removed heart@1\n"  # not the served one: nothing more to say


def test_add_given_a_base_model_points_to_add_base(cli, tmp_path):
    """'registry add base' said "no adapter.json in base"."""
    from tests.registry.helpers import make_base

    base = make_base(tmp_path / "base")
    _, err = cli("add", str(base), ok=False)
    assert err == (
        f"error: {base} is a base model (written by 'medadapt train-base'), not an adapter; "
        f"keep it with 'medadapt registry --root {cli.root} add-base {base}'\n"
    )
    assert not cli.root.exists()
    recorded = json.loads((base / "model.json").read_text())  # adapt --method full's folder
    recorded["training"]["adapted"] = {"method": "full"}
    recorded["record_sha256"] = record_sha256(recorded)  # as adapt would have saved it
    (base / "model.json").write_text(json.dumps(recorded))
    _, err = cli("add", str(base), ok=False)  # a trial was told train-base wrote it
    assert err.startswith(
        f"error: {base} is a fully fine-tuned model (written by 'medadapt adapt --method "
        "full'), not an adapter; "
    )


def test_show_and_the_card_say_what_the_positive_class_means(cli, tmp_path, monkeypatch):
    """A base trained with '--positive-above 0' on label num: the card and 'show' said
    "binary" and "classes: 0, 1", never that 1 means num > 0."""
    from tests.registry.helpers import make_adapter_on_base, make_base, metadata

    monkeypatch.setenv("COLUMNS", "200")
    base = make_base(tmp_path / "base", positive_above=0)
    meta = metadata(task="binary", label="y")
    cli("add", str(make_adapter_on_base(tmp_path / "a1", base, meta=meta)), "--name", "heart")
    assert _table_rows(cli("show", "heart@1")[0])["positive class"] == (
        "1 means y > 0 (the base model's --positive-above 0)"
    )
    card, _ = cli("show", "heart@1", "--card")
    assert "A **lora** adapter for **a binary outcome (y; 1 means y > 0)** on base model" in card
    two_valued = make_base(tmp_path / "base2", seed=1)  # the label's own values 0 and 1
    meta = metadata(task="binary", label="y")
    cli("add", str(make_adapter_on_base(tmp_path / "a2", two_valued, meta=meta)), "--name", "y")
    assert _table_rows(cli("show", "y@1")[0])["positive class"] == "y = '1'"


def test_an_imported_version_without_its_base_says_its_positive_class_is_not_known_here(
    cli, tmp_path, monkeypatch
):
    """A version imported without its base showed no positive-class row at all: a reader
    could not tell that what 1 means is recorded with the base, not here."""
    from tests.registry.helpers import make_adapter_on_base, make_base, metadata

    monkeypatch.setenv("COLUMNS", "200")
    base = make_base(tmp_path / "base", positive_above=0)
    meta = metadata(task="binary", label="y", classes=["0", "1"])
    cli("add", str(make_adapter_on_base(tmp_path / "a1", base, meta=meta)), "--name", "heart")
    cli("export", "heart@1", "-o", str(tmp_path / "site.tar"))
    other = ["--bare", "registry", "--root", str(tmp_path / "other")]
    cli(*other, "import", str(tmp_path / "site.tar"))
    assert _table_rows(cli(*other, "show", "heart@1")[0])["positive class"] == (
        "not known here: the registry holds no base model with its weights (its label and "
        "threshold are there; registry add-base BASE_DIR)"
    )
    said = "a binary outcome (y; 1 means y > 0)"
    assert "a binary outcome (y)" in cli(*other, "card", "heart@1")[0]
    # its base added after it: the card says then what 1 means, as show does (a trial's card
    # stayed as written at the import)
    cli(*other, "add-base", str(base))
    assert said in cli(*other, "card", "heart@1")[0]
    third = ["--bare", "registry", "--root", str(tmp_path / "third")]  # by an archive
    cli(*third, "import", str(tmp_path / "site.tar"))
    cli("export", "heart@1", "-o", str(tmp_path / "with-base.tar"), "--with-base")
    cli(*third, "import", str(tmp_path / "with-base.tar"))  # the same adapter, and its base
    assert said in cli(*third, "card", "heart@1")[0]


def test_every_command_reads_a_version_as_serve_does_and_refuses_a_v_prefix(cli, adapter_dir):
    """``heart@v1`` was read as ``heart@1`` by every command (and by ``serve``), a form no
    help or message gives; each now refuses it with the one line naming the form to write."""
    cli("add", str(adapter_dir(1)), "--name", "heart")
    said = (
        "error: version reference 'heart@v1' is invalid: versions are plain numbers, write "
        "heart@1 (the forms: NAME, NAME@N, NAME@latest or NAME@promoted)\n"
    )
    for args in (["show", "heart@v1"], ["promote", "heart@v1"], ["diff", "heart@1", "heart@v1"],
                 ["export", "heart@v1"], ["rm", "heart@v1"]):  # fmt: skip
        out, err = cli(*args, ok=False)
        assert (out, err) == ("", said), args
    assert cli("show", "heart@1")[0].startswith("heart@1")


def _warned(out: str) -> list[str]:
    """A promotion's warnings about its recorded result (not that the registry has no base to
    serve it with: these tests register none)."""
    return [line for line in out.splitlines()
            if line.startswith("warning:") and "cannot be served yet" not in line]  # fmt: skip
