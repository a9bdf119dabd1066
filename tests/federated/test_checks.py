"""A federated run's own checks, before any Flower process: the run's values by flag, and a
site whose copy of the base is not the server's."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from medadapt.errors import ConfigError, DataError
from medadapt.federated import deploy
from medadapt.federated.certificates import make_certificates
from medadapt.federated.client import _check_same_base
from medadapt.federated.config import FederatedRun
from medadapt.federated.deploy import relay
from tests.cli.helpers import run_cli


def _run(**changes) -> FederatedRun:
    values = dict(base_dir=Path("base"), data=None, label=None, group_column=None,
                  sites=("A", "B"))  # fmt: skip
    return FederatedRun(**{**values, **changes})


def test_a_site_with_another_base_is_refused_by_name():
    run = _run(base_fingerprint="a" * 64)
    with pytest.raises(DataError) as error:
        _check_same_base(run, SimpleNamespace(fingerprint=SimpleNamespace(weights="b" * 64)))
    assert str(error.value) == (
        "--base base is not the base model the server federates (its weights differ): use a "
        "copy of the server's base"
    )
    _check_same_base(run, SimpleNamespace(fingerprint=SimpleNamespace(weights="a" * 64)))


def test_the_run_round_trips_through_the_apps_run_config():
    run = _run(strategy="fedyogi", sites=("A", "B", "C"), clipping_norm=1.0, noise_multiplier=0.5)
    assert FederatedRun.from_json(run.to_json()) == run


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sites": ("A", "A")}, "--groups names a site twice: name each site once"),
        (
            {"sites": ("Site A", "site-a")},
            "--groups names sites 'Site A' and 'site-a', which would share the folder and "
            "adapter name 'site_a': rename one of them in the data",
        ),
        (
            {"personalise": "all"},
            "--personalise must be one of none, head, finetune, recalibrate; got 'all'",
        ),
        (
            {"noise_multiplier": 1.0},
            "differential privacy needs both --dp-clip and --dp-noise (or neither)",
        ),
        ({"clipping_norm": -1.0, "noise_multiplier": 1.0}, "--dp-clip must be positive; got -1"),
        ({"server_lr": 0.0}, "--server-lr must be positive; got 0"),
        ({"proximal_mu": -0.1}, "--proximal-mu must be at least 0; got -0.1"),
        ({"n_boot": -5}, "--n-boot must be at least 1; got -5"),
    ],
)
def test_bad_values_name_their_flag(changes, message):
    with pytest.raises(ConfigError) as error:
        _run(**changes).check()
    assert str(error.value) == message


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_flower_s_colour_codes_reach_a_terminal_but_not_a_log_file():
    line = "\x1b[92mINFO \x1b[0m:      Starting Flower SuperNode\n"
    log, terminal = io.StringIO(), _Terminal()
    relay([line], log)
    relay([line], terminal)
    assert log.getvalue() == "INFO :      Starting Flower SuperNode\n"
    assert terminal.getvalue() == line


def test_the_server_refuses_a_certificate_that_does_not_name_where_it_submits(tmp_path):
    """The server submits its run to its own SuperLink on loopback: a certificate made only
    for the name the sites use fails there, so it is refused by flag before Flower starts."""
    only = make_certificates(tmp_path / "only", ("fl.example.org",))
    with pytest.raises(ConfigError) as error:
        deploy.check_server_names(only, deploy.local_address("0.0.0.0"))
    assert str(error.value).startswith(f"--certificates {only}/server.pem does not name 127.0.0.1")
    deploy.check_server_names(only, "FL.example.org")  # --host fl.example.org: named
    said = run_cli("federate", "certificates", "--out", tmp_path / "trial", "--host",
                   "fl.example.org")  # fmt: skip
    assert said.code == 0, said.stderr
    deploy.check_server_names(tmp_path / "trial", "127.0.0.1")  # loopback is always named
    deploy.check_server_names(tmp_path / "trial", "fl.example.org")


def test_the_run_is_submitted_with_an_absolute_ca_path(tmp_path, monkeypatch):
    """``--certificates certs/`` as the README writes it: Flower refuses a relative path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(deploy.subprocess, "run", lambda *args, **kwargs: None)
    deploy.submit(tmp_path, tmp_path / "home", "127.0.0.1:9092", Path("certs"), False,
                  tmp_path / "flwr.log", 10)  # fmt: skip
    config = (tmp_path / "home" / "config.toml").read_text()
    assert f'root-certificates = "{tmp_path / "certs" / "ca.crt"}"' in config


def test_flower_s_error_box_is_one_line(tmp_path):
    log = tmp_path / "flwr.log"
    log.write_text(
        "Using SuperLink: medadapt (127.0.0.1:9092)\n"
        "\x1b[91m╭─ Error ──────────────────────────╮\x1b[0m\n"
        "│ Connection to the SuperLink is    │\n"
        "│ unavailable.                      │\n"
        "╰──────────────────────────────────╯\n"
    )
    assert deploy.flower_error(log) == "Connection to the SuperLink is unavailable."
    assert deploy.flower_error(tmp_path / "none.log") is None


def test_a_failed_server_names_where_its_plain_logs_are_kept(tmp_path, monkeypatch):
    """``--out`` is removed after a failure, so the SuperLink's log is kept elsewhere, named
    in the error line, without Flower's colour codes."""
    script = "import sys; print('\\x1b[91mERROR \\x1b[0m:     Address in use'); sys.exit(1)"
    monkeypatch.setattr(deploy, "superlink_command", lambda *args: [sys.executable, "-c", script])
    with pytest.raises(DataError) as error:
        deploy.run_server(_run(), tmp_path, host="127.0.0.1", port=deploy.free_port(),
                          certificates=None, insecure=True, timeout=10)  # fmt: skip
    said = str(error.value)
    assert said.startswith("the Flower SuperLink stopped at start-up (exit 1) (Flower's logs: ")
    kept = Path(said.rsplit("Flower's logs: ", 1)[1].rstrip("/)"))
    assert (kept / "superlink.log").read_text() == "ERROR :     Address in use\n"
    shutil.rmtree(kept)
