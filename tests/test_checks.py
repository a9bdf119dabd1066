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
