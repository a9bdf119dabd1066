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
