"""A federated run's own checks, before any Flower process: the run's values by flag, and a
site whose copy of the base is not the server's."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from medadapt.errors import ConfigError, DataError
from medadapt.federated.client import _check_same_base
from medadapt.federated.config import FederatedRun
from medadapt.federated.deploy import relay


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
