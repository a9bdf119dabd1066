"""``medadapt registry ...``: the command line over the registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from medadapt.cli.main import main
from medadapt.registry import Registry

COMMANDS = ["add", "list", "show", "diff", "promote", "export", "import", "rm", "verify", "gc"]


@pytest.fixture
def cli(capsys, tmp_path):
    root = tmp_path / "reg"

    def run(*args: str, ok: bool = True) -> tuple[str, str]:
        argv = ["registry", "--root", str(root), *args] if args[:1] != ("--bare",) else args[1:]
        try:
            main(list(argv))
            code = 0
        except SystemExit as exit_:
            code = exit_.code
        out, err = capsys.readouterr()
        assert (code == 0) == ok, (code, out, err)
        return out, err

    run.root = root
    return run


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(cli, command):
    out, _ = cli("--bare", "registry", command, "--help")
    assert "Example: medadapt registry --root hospital-registry" in " ".join(out.split())


def test_add_list_show_promote_round_trip(cli, adapter_dir):
    out, _ = cli("add", str(adapter_dir(1)), "--name", "heart")
    assert out.splitlines()[0] == "added heart@1 (lora, no parent, 520 B of weights)"
    out, _ = cli("add", str(adapter_dir(2)), "--name", "heart")
    assert out.startswith("added heart@2 (lora, parent heart@1, ")
    out, _ = cli("add", str(adapter_dir(2)), "--name", "heart")
    assert out == "heart@2 already holds this exact adapter; nothing added\n"
    out, _ = cli("promote", "heart@1")
    assert out == "promoted heart@1: it is now the version of heart to serve\n"
    listed = json.loads(cli("list", "--json")[0])
    assert [(v["ref"], v["promoted"]) for v in listed] == [("heart@1", True), ("heart@2", False)]
    assert "card" not in listed[0]
    shown = json.loads(cli("show", "heart", "--json")[0])
    assert shown["ref"] == "heart@1" and shown["metrics"]["auroc_ci"] == [0.72, 0.89]
    out, _ = cli("list")
    assert "heart@1" in out and "heart@2" in out and "VA Long" in out
    out, _ = cli("show", "heart@2")
    assert "metric: auroc" in out and "0.810 [0.720, 0.890]" in out
    out, _ = cli("show", "heart@2", "--card")
    assert out.startswith("# heart v2\n")
    out, _ = cli("promote", "heart", "--clear")
    assert out == "heart is no longer served (was heart@1)\n"


def test_diff_as_table_and_json(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    cli("add", str(adapter_dir(2, r=3)), "--name", "heart")
    data = json.loads(cli("diff", "heart@1", "heart@2", "--json")[0])
    assert data["config"] == [{"key": "r", "a": 2, "b": 3}]
    out, _ = cli("diff", "heart@1", "heart@2")
    assert "config.r" in out and "CIs overlap" in out
    assert "overlapping CIs: the data do not show a difference" in out


def test_export_then_import_elsewhere(cli, adapter_dir, tmp_path):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    out, _ = cli("export", "heart@1", "-o", str(tmp_path))
    lines = out.splitlines()
    archive = tmp_path / "heart-v1.medadapt.tar.gz"
    assert lines[0] == f"exported heart@1 to {archive}"
    sha = lines[1].removeprefix("sha256 ")
    other = ["--bare", "registry", "--root", str(tmp_path / "other")]
    out, _ = cli(*other, "import", str(archive), "--sha256", sha)
    assert out == "imported heart@1 (exported as heart@1); every checksum verified\n"
    out, _ = cli(*other, "import", str(archive))
    assert out == "already imported as heart@1; nothing added\n"
    out, err = cli(*other, "import", str(archive), "--sha256", "0" * 64, ok=False)
    assert err.startswith(f"error: {archive} has sha256 ") and err.count("\n") == 1


def test_errors_are_one_line_and_exit_non_zero(cli, adapter_dir, tmp_path):
    _, err = cli("list", ok=False)
    assert err == (
        f"error: no registry at {cli.root}; check --root, or create one with 'medadapt "
        f"registry --root {cli.root} add ADAPTER_DIR'\n"
    )
    _, err = cli("--bare", "registry", "list", ok=False)
    assert err == (
        "error: --root is missing: give the registry directory before the command, e.g. "
        "'medadapt registry --root hospital-registry list'\n"
    )
    _, err = cli("add", str(tmp_path / "nothing"), ok=False)
    assert err.startswith("error: no adapter.json in ") and err.count("\n") == 1
    cli("add", str(adapter_dir(1)), "--name", "heart")
    cli("promote", "heart@1")
    _, err = cli("rm", "heart@1", ok=False)
    assert err.startswith("error: heart@1 is the promoted (served) version;")
    _, err = cli("add", str(adapter_dir(2)), "--parent", "1", "--no-parent", ok=False)
    assert err == "error: give either --parent N or --no-parent, not both\n"
    out, _ = cli("rm", "heart@1", "--force")
    assert out == "removed heart@1\n"


def test_verify_reports_damage_and_gc_cleans(cli, adapter_dir):
    cli("add", str(adapter_dir(1)), "--name", "heart")
    out, _ = cli("verify")
    assert out == "ok: 1 versions verified\n"
    reg = Registry(cli.root)
    weights = reg.objects.path(reg.get("heart@1").weights_blob)
    os.chmod(weights, 0o644)
    weights.write_bytes(weights.read_bytes()[:-1] + b"\0")
    _, err = cli("verify", ok=False)
    lines = err.splitlines()
    assert lines[0].startswith("adapter heart@1: registry file ")
    assert lines[1] == (
        "error: 1 of 1 versions failed verification (listed above); re-import them from their "
        "source or remove them"
    )
    (reg.objects.tmp / "1-x.part").write_bytes(b"x")
    out, _ = cli("gc", "--min-age", "0")
    assert out == "removed 0 unreferenced files (0 B), 1 leftovers and 0 stale checkouts\n"


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
