"""The shared option checks: one line naming the flag."""

from __future__ import annotations

import pytest

from medadapt import checks
from medadapt.errors import ConfigError


def test_an_empty_name_list_is_refused_and_only_an_optional_one_may_be_left_out():
    assert checks.names(" A , B,", "--groups") == ["A", "B"]
    assert checks.names(None, "--groups") == []
    with pytest.raises(ConfigError) as optional:
        checks.names(",", "--exclude")
    assert str(optional.value) == (
        "--exclude is empty; name at least one (comma-separated), or leave the option out"
    )
    with pytest.raises(ConfigError) as required:
        checks.names(" , ", "--groups", required=True)
    assert str(required.value) == "--groups is empty; name at least one (comma-separated)"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_float_option_that_is_not_a_finite_number_is_refused_by_its_flag(value):
    with pytest.raises(ConfigError, match=r"^--lr must be a finite number; got "):
        checks.command_values({"lr": value, "seed": 0}, {"lr": "--lr"})
    checks.command_values({"lr": 0.5, "seed": 0, "name": "nan"}, {})  # words stay words


def test_a_number_list_option_with_nan_or_inf_is_refused():
    with pytest.raises(ConfigError, match=r"^--normalize nan,1: nan is not a number"):
        checks.command_values({"normalize": "nan,1"}, {})
    with pytest.raises(ConfigError, match="--spacing 1,1,1e999: 1e999 is not a number"):
        checks.command_values({"spacing": "1,1,1e999"}, {})
    checks.command_values({"normalize": "imagenet", "spacing": "auto"}, {})


@pytest.mark.parametrize("value", [-1, 2**32, 10**20])
def test_a_seed_outside_32_bits_is_refused(value):
    with pytest.raises(ConfigError) as refused:
        checks.command_values({"seed": value}, {})
    assert str(refused.value) == f"--seed must be between 0 and 4294967295; got {value}"
    checks.seed(2**32 - 1)


def test_cores_counts_the_cores_this_process_may_use_not_the_machine_s(monkeypatch):
    """A container limited to 2 of 64 cores (``--cpuset-cpus``): ``os.cpu_count()`` says 64."""
    monkeypatch.setattr(checks.os, "sched_getaffinity", lambda pid: {0, 5}, raising=False)
    monkeypatch.setattr(checks.os, "cpu_count", lambda: 64)
    assert checks.available_cores() == 2
    checks.cores(2, "--workers")
    with pytest.raises(ConfigError) as refused:
        checks.cores(3, "--workers")
    assert str(refused.value) == (
        "--workers must be at most 2; got 3 (this process may use 2 CPU cores)"
    )
    monkeypatch.setattr(checks.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    with pytest.raises(ConfigError, match=r"got 100000 \(this process may use 1 CPU core\)$"):
        checks.cores(100_000, "--decode-workers", default=2)
    checks.cores(2, "--decode-workers", default=2)  # the default runs on one core
    monkeypatch.delattr(checks.os, "sched_getaffinity", raising=False)  # macOS, Windows
    assert checks.available_cores() == 64


def test_seeds_and_bootstrap_resamples_have_one_ceiling_for_every_command():
    checks.within_ceilings({"seeds": 1000, "n_boot": 100_000, "epochs": 10**9})
    with pytest.raises(ConfigError, match=r"^--n-boot must be at most 100000; got 100001$"):
        checks.within_ceilings({"seeds": 5, "n_boot": 100_001})
    with pytest.raises(ConfigError, match=r"^--repeats must be at most 1000; got 1001$"):
        checks.command_values({"seeds": 1001}, {"seeds": "--repeats"})
